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

import json
import logging
import threading
from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urlsplit

from ogpu.devnet.deploy import DevnetError
from ogpu.devnet.httpbase import BackgroundHTTPServer, KeepAliveHandler, answer_preflight
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


class _StoreHandler(KeepAliveHandler):
    server: StoreServer

    # -- responses ---------------------------------------------------------------------------

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
        answer_preflight(self, "GET, HEAD, POST, OPTIONS")

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
