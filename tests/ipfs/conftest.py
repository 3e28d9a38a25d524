"""A scriptable HTTP server on 127.0.0.1 for fault-injection tests of ogpu.ipfs."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ogpu.ipfs import RetryPolicy, Timeout

from ..helpers.wait import free_port

Route = Callable[["Handler", int], None]


class Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        server = self.server
        route = server.routes.get((self.command, path))
        if route is None and self.command == "GET" and path.startswith("/ipfs/"):
            route = server.routes.get(("GET", "/ipfs/*"))
        with server.lock:
            server.hits[path] += 1
            number = server.hits[path]
        try:
            if route is None:
                self.send_json({"error": "no route"}, status=404)
            else:
                route(self, number)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = _dispatch
    do_POST = _dispatch

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length)

    def send_bytes(
        self,
        data: bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, value: object, *, status: int = 200) -> None:
        self.send_bytes(json.dumps(value).encode(), status=status)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def multipart_file(self) -> tuple[str, str, bytes]:
        """(filename, content type, bytes) of the multipart field ``file``."""
        raw = self.body()
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + raw)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return str(part.get_filename()), part.get_content_type(), payload
        raise AssertionError("no multipart field named 'file'")


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[tuple[str, str], Route] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.blobs: dict[str, tuple[str, str, bytes]] = {}

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, method: str = "GET") -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            self.routes[(method, path)] = fn
            return fn

        return register

    def serve_json(self, path: str, value: object) -> str:
        self.route(path)(lambda h, n: h.send_json(value))
        return self.url(path)

    def answer_posts(self, path: str, data: bytes, **send: Any) -> None:
        """Every POST to ``path``: its body read whole, then ``data`` sent (``send_bytes``'
        keywords: status, headers)."""

        def answer(h: Handler, n: int) -> None:
            h.body()
            h.send_bytes(data, **send)

        self.route(path, "POST")(answer)

    def install_store(self) -> None:
        """``/file/create``, ``/api/v0/add`` and ``/ipfs/<cid>`` over an in-memory dict."""

        def keep(h: Handler) -> str:
            filename, ctype, data = h.multipart_file()
            cid = "b" + hashlib.sha256(data).hexdigest()
            self.blobs[cid] = (filename, ctype, data)
            return cid

        @self.route("/file/create", "POST")
        def create(h: Handler, n: int) -> None:
            h.send_json({"link": self.url(f"/ipfs/{keep(h)}")})

        @self.route("/api/v0/add", "POST")
        def add(h: Handler, n: int) -> None:
            cid = keep(h)
            h.send_json({"Name": self.blobs[cid][0], "Hash": cid, "Size": "1"})

        @self.route("/ipfs/*")
        def get(h: Handler, n: int) -> None:
            cid = h.path.split("?", 1)[0].removeprefix("/ipfs/").split("/", 1)[0]
            if cid not in self.blobs:
                h.send_json({"error": "not found"}, status=404)
                return
            h.send_bytes(self.blobs[cid][2], content_type=self.blobs[cid][1])


@pytest.fixture
def server() -> Iterator[FaultServer]:
    srv = FaultServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening."""
    return free_port()


@pytest.fixture(autouse=True)
def _clean_ipfs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OGPU_IPFS_BACKEND", "OGPU_IPFS_API_URL", "OGPU_IPFS_GATEWAY"):
        monkeypatch.delenv(name, raising=False)
    # These servers listen on loopback, which fetches refuse unless allowed.
    monkeypatch.setenv("OGPU_FETCH_ALLOW", "127.0.0.1/32")


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Three attempts with millisecond backoff."""
    return RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.02, total_timeout=30)


@pytest.fixture
def short_timeout() -> Timeout:
    return Timeout(connect=2.0, read=0.3)
