"""The devnet content store: an in-memory, content-addressed blob store served over HTTP.

Routes (one port, default 127.0.0.1:5001, the port of an IPFS node's API):

- ``POST /api/v0/add``: IPFS node API shape. Multipart; every file part is
  stored; the answer is one JSON object per file (newline-delimited when there
  are several): ``{"Name", "Hash", "Size"}``.
- ``POST /file/create``: OGPU pinning-service shape. Multipart field ``file``;
  answers ``{"link": "<gateway>/ipfs/<cid>", "cid": "<cid>"}``.
- ``POST /api/v0/cat?arg=<cid>``: the bytes (IPFS node API shape).
- ``GET``/``HEAD /ipfs/<cid>``: gateway shape: the bytes, 404 when unknown,
  400 for a malformed CID, ``application/json`` when the bytes are JSON. With
  ``?format=raw`` or ``Accept: application/vnd.ipld.raw`` (trustless gateway shape)
  the block itself, typed ``application/vnd.ipld.raw``, which a client checks
  against the CID (for a raw CID the block is the content).

CIDs are CIDv1, raw codec, sha2-256, base32 (see :mod:`ogpu.ipfs.cid`).
Uploads above ``max_upload`` bytes per file are refused with 413.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ogpu.devnet.deploy import DevnetError
from ogpu.devnet.multipart import FormPart, MultipartError, parse_multipart
from ogpu.ipfs.cid import InvalidCidError, cid_for_bytes, parse_cid

__all__ = [
    "DEFAULT_MAX_UPLOAD",
    "DEFAULT_STORE_PORT",
    "BackgroundHTTPServer",
    "ContentStore",
    "FormPart",
    "MultipartError",
    "StoreFullError",
    "StoreServer",
    "parse_multipart",
]

logger = logging.getLogger(__name__)

DEFAULT_STORE_PORT = 5001
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
DEFAULT_MAX_TOTAL = 1024 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024
_READ_CHUNK = 64 * 1024
RAW_BLOCK_TYPE = "application/vnd.ipld.raw"


class StoreFullError(DevnetError):
    """Storing more would exceed the store's total size limit."""


def url_host(host: str) -> str:
    """The host to put in a URL for a bound address (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host in ("::", "::0"):
        return "[::1]"
    if ":" in host:
        return f"[{host}]"
    return host


class BackgroundHTTPServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that binds on construction and serves from a daemon thread.

    :meth:`stop` shuts the listener and every open keep-alive connection.
    Raises OSError when the address cannot be bound.
    """

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of clients overflowed it (their SYNs
    # dropped or answered with resets). The kernel caps this at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(
        self, host: str, port: int, handler: type[BaseRequestHandler], *, name: str
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self._thread_name = name
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), handler)

    @property
    def host(self) -> str:
        """The bound host."""
        return str(self.server_address[0])

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound address."""
        return f"http://{url_host(self.host)}:{self.port}"

    def get_request(self) -> tuple[Any, Any]:
        request, address = super().get_request()
        with self._connections_lock:
            self._connections.add(request)
        return request, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error from %s", client_address, exc_info=True)

    def start(self) -> None:
        """Serve in a daemon thread (no-op when already started)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name=self._thread_name
        )
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the listener and open connections. Idempotent."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()

    def __enter__(self) -> BackgroundHTTPServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ContentStore:
    """Thread-safe in-memory map from CID to bytes. No I/O."""

    def __init__(self, *, max_total: int = DEFAULT_MAX_TOTAL) -> None:
        self._blobs: dict[str, bytes] = {}
        self._total = 0
        self._max_total = max_total
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._blobs)

    def __contains__(self, cid: object) -> bool:
        with self._lock:
            return cid in self._blobs

    @property
    def total_bytes(self) -> int:
        """Sum of the stored blobs' sizes."""
        return self._total

    def put(self, data: bytes) -> str:
        """Store ``data``; return its CID. Raises StoreFullError past the total limit."""
        cid = cid_for_bytes(data)
        with self._lock:
            if cid not in self._blobs:
                if self._total + len(data) > self._max_total:
                    raise StoreFullError(f"the store is full ({self._max_total} bytes)")
                self._blobs[cid] = bytes(data)
                self._total += len(data)
        return cid

    def get(self, cid: str) -> bytes | None:
        """The bytes for a CID string (any accepted spelling), or None when absent.

        Raises InvalidCidError for a malformed CID.
        """
        canonical = str(parse_cid(cid))
        with self._lock:
            return self._blobs.get(canonical)

    def blobs(self) -> list[bytes]:
        """A snapshot of every stored blob (for persistence)."""
        with self._lock:
            return list(self._blobs.values())

    def load(self, blobs: Iterable[bytes]) -> int:
        """Store many blobs (CIDs are recomputed); return how many. Raises StoreFullError."""
        count = 0
        for blob in blobs:
            self.put(blob)
            count += 1
        return count


def guess_content_type(data: bytes) -> str:
    """``application/json`` for JSON, ``text/plain`` for other UTF-8 text, else octet-stream."""
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"[", b'"') or stripped[:4] in (b"true", b"fals", b"null"):
        try:
            json.loads(data)
        except ValueError:
            pass
        else:
            return "application/json"
    if b"\0" not in data[:8192]:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "text/plain; charset=utf-8"
    return "application/octet-stream"


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _StoreHandler(BaseHTTPRequestHandler):
    server: StoreServer
    protocol_version = "HTTP/1.1"
    timeout = 120
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    # -- responses ---------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode("utf-8"), "application/json")

    def _error(self, status: int, message: str) -> None:
        if self._path().startswith("/api/v0/"):
            self._json(status, {"Message": message, "Code": 0, "Type": "error"})
        else:
            self._json(status, {"error": message})

    def _path(self) -> str:
        return urlsplit(self.path).path

    # -- request bodies ------------------------------------------------------------------

    def _drain(self, remaining: int) -> None:
        while remaining > 0:
            chunk = self.rfile.read(min(_READ_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)

    def _read_body(self) -> bytes:
        limit = self.server.max_upload + MULTIPART_OVERHEAD
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self.close_connection = True
            raise _BodyError(411, "Content-Length is required")
        length = int(length_header)
        if length > limit:
            self.close_connection = True
            if length <= DRAIN_LIMIT:
                self._drain(length)
            raise _BodyError(413, f"upload too large (limit {self.server.max_upload} bytes)")
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            raise _BodyError(400, "request body shorter than Content-Length")
        return body

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise _BodyError(400, "malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                self.close_connection = True
                raise _BodyError(413, f"upload too large (limit {self.server.max_upload} bytes)")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _form_parts(self) -> list[FormPart]:
        body = self._read_body()
        try:
            parts = parse_multipart(body, self.headers.get("Content-Type", ""))
        except MultipartError as exc:
            raise _BodyError(400, str(exc)) from None
        for part in parts:
            if len(part.data) > self.server.max_upload:
                raise _BodyError(413, f"upload too large (limit {self.server.max_upload} bytes)")
        return parts

    def _put(self, data: bytes) -> str:
        try:
            return self.server.store.put(data)
        except StoreFullError as exc:
            raise _BodyError(507, str(exc)) from None

    # -- routes --------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        path = self._path()
        try:
            if path == "/api/v0/add":
                self._add()
            elif path == "/file/create":
                self._create()
            elif path == "/api/v0/cat":
                self._cat()
            elif path.startswith("/ipfs/"):
                self.close_connection = True
                self.send_response(405)
                self.send_header("Allow", "GET, HEAD")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.close_connection = True
                self._error(404, f"no route for POST {path}")
        except _BodyError as exc:
            self._error(exc.status, exc.message)

    def _add(self) -> None:
        files = [part for part in self._form_parts() if part.filename is not None or part.name]
        if not files:
            raise _BodyError(400, "no file in the multipart body")
        lines = []
        for part in files:
            cid = self._put(part.data)
            name = part.filename or cid
            lines.append(json.dumps({"Name": name, "Hash": cid, "Size": str(len(part.data))}))
        self._send(200, ("\n".join(lines) + "\n").encode("utf-8"), "application/json")

    def _create(self) -> None:
        files = [part for part in self._form_parts() if part.name == "file"]
        if not files:
            raise _BodyError(400, 'multipart field "file" is required')
        cid = self._put(files[0].data)
        self._json(200, {"link": f"{self.server.gateway_url}/ipfs/{cid}", "cid": cid})

    def _cat(self) -> None:
        length = self.headers.get("Content-Length", "0").strip()
        self._drain(int(length) if length.isdigit() else 0)
        args = parse_qs(urlsplit(self.path).query).get("arg", [])
        if len(args) != 1:
            raise _BodyError(400, "argument 'arg' is required")
        target = args[0].removeprefix("/ipfs/")
        self._serve_cid(target, gateway=False)

    def do_GET(self) -> None:
        path = self._path()
        if not path.startswith("/ipfs/"):
            self._error(404, f"no route for {self.command} {path}")
            return
        rest = path[len("/ipfs/") :]
        cid_text, _, subpath = rest.partition("/")
        if subpath:
            self._error(404, "paths inside raw blocks do not exist")
            return
        try:
            self._serve_cid(unquote(cid_text), gateway=True)
        except _BodyError as exc:
            self._error(exc.status, exc.message)

    do_HEAD = do_GET

    def _serve_cid(self, cid_text: str, *, gateway: bool) -> None:
        try:
            data = self.server.store.get(cid_text)
        except InvalidCidError as exc:
            raise _BodyError(400, f"invalid CID: {exc}") from None
        if data is None:
            raise _BodyError(404, f"{cid_text} not found in this store")
        canonical = str(parse_cid(cid_text))
        headers = {
            "ETag": f'"{canonical}"',
            "X-Ipfs-Path": f"/ipfs/{canonical}",
            "Cache-Control": "public, max-age=29030400, immutable",
        }
        if gateway and self.headers.get("If-None-Match") == f'"{canonical}"':
            self.send_response(304)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self._wants_raw_block():
            content_type = RAW_BLOCK_TYPE
        elif gateway:
            content_type = guess_content_type(data)
        else:
            content_type = "application/octet-stream"
        self._send(200, data, content_type, headers)

    def _wants_raw_block(self) -> bool:
        formats = parse_qs(urlsplit(self.path).query).get("format", [])
        return "raw" in formats or RAW_BLOCK_TYPE in self.headers.get("Accept", "")


class StoreServer(BackgroundHTTPServer):
    """HTTP server for a :class:`ContentStore`; binds on construction.

    ``gateway_url`` is the base put into ``/file/create`` links (default: this
    server's own URL). Raises OSError when the address cannot be bound and
    ValueError for a non-positive ``max_upload``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_STORE_PORT,
        *,
        store: ContentStore | None = None,
        max_upload: int = DEFAULT_MAX_UPLOAD,
        gateway_url: str | None = None,
    ) -> None:
        if max_upload <= 0:
            raise ValueError("max_upload must be positive")
        self.store = store if store is not None else ContentStore()
        self.max_upload = max_upload
        super().__init__(host, port, _StoreHandler, name="ogpu-devnet-store")
        self.gateway_url = (gateway_url or self.url).rstrip("/")
