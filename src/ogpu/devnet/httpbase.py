"""HTTP serving shared by the devnet's servers (JSON-RPC and content store): a threading
server that binds on construction and serves from a daemon thread, and the keep-alive
request handler base."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any

__all__ = ["BackgroundHTTPServer", "KeepAliveHandler", "answer_preflight", "url_host"]

logger = logging.getLogger(__name__)


def url_host(host: str) -> str:
    """The host to put in a URL for a bound address (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host in ("::", "::0"):
        return "[::1]"
    if ":" in host:
        return f"[{host}]"
    return host


def answer_preflight(
    handler: BaseHTTPRequestHandler, methods: str, max_age: int | None = None
) -> None:
    """Answer a CORS preflight: any origin, ``methods``, a ``Content-Type`` header."""
    handler.send_response(204)
    handler.send_header("Access-Control-Allow-Origin", "*")
    handler.send_header("Access-Control-Allow-Methods", methods)
    handler.send_header("Access-Control-Allow-Headers", "Content-Type")
    if max_age is not None:
        handler.send_header("Access-Control-Max-Age", str(max_age))
    handler.send_header("Content-Length", "0")
    handler.end_headers()


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive request handler of the devnet servers: Nagle off, access lines
    at debug level on the subclass's module logger, CORS-open answers."""

    protocol_version = "HTTP/1.1"
    timeout = 120
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger(type(self).__module__).debug(
            "%s %s", self.address_string(), format % args
        )

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
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
