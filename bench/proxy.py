"""Loopback latency proxy: forwards HTTP to one upstream and adds a fixed delay per request.

A real HTTP server on 127.0.0.1 (threads, HTTP/1.1 keep-alive). Every request
is held for ``delay`` seconds, then forwarded unchanged to the upstream base
URL; the upstream answer is returned with its status, headers and body. Each
client connection gets its own keep-alive connection upstream.

It counts HTTP requests (per method and path), and for JSON-RPC bodies the
calls by method: a batch is one HTTP request and ``len(batch)`` calls. It also
sums the upstream service time (forwarding only, without the added delay) per
JSON-RPC method (``"batch"`` for batches) or path.

    with LatencyProxy("http://127.0.0.1:8545", delay=0.020) as proxy:
        w3 = Web3(Web3.HTTPProvider(proxy.url))
        ...
        print(proxy.stats().as_dict())
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LatencyProxy", "ProxyStats"]

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_UPSTREAM_TIMEOUT = 120.0


@dataclass
class ProxyStats:
    """Counters of one proxy since its last ``reset``."""

    http_requests: int = 0
    rpc_calls: int = 0
    batches: int = 0
    batched_calls: int = 0
    errors: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    upstream_seconds: dict[str, float] = field(default_factory=dict)

    def copy(self) -> ProxyStats:
        return ProxyStats(
            self.http_requests,
            self.rpc_calls,
            self.batches,
            self.batched_calls,
            self.errors,
            Counter(self.methods),
            Counter(self.paths),
            dict(self.upstream_seconds),
        )

    def __sub__(self, other: ProxyStats) -> ProxyStats:
        return ProxyStats(
            self.http_requests - other.http_requests,
            self.rpc_calls - other.rpc_calls,
            self.batches - other.batches,
            self.batched_calls - other.batched_calls,
            self.errors - other.errors,
            self.methods - other.methods,
            self.paths - other.paths,
            {
                k: v - other.upstream_seconds.get(k, 0.0)
                for k, v in self.upstream_seconds.items()
                if v - other.upstream_seconds.get(k, 0.0) > 0
            },
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "http_requests": self.http_requests,
            "rpc_calls": self.rpc_calls,
            "batches": self.batches,
            "batched_calls": self.batched_calls,
            "errors": self.errors,
            "methods": dict(sorted(self.methods.items())),
            "paths": dict(sorted(self.paths.items())),
            "upstream_seconds": {k: round(v, 4) for k, v in sorted(self.upstream_seconds.items())},
        }


def _path_key(method: str, path: str) -> str:
    parts = [p for p in urlsplit(path).path.split("/") if p]
    if parts[:1] == ["ipfs"]:
        parts = parts[:1]  # one key for every CID
    elif len(parts) > 3:
        parts = parts[:3]
    return f"{method} /{'/'.join(parts)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self._upstream is not None:
                self._upstream.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def _connection(self) -> http.client.HTTPConnection:
        if self._upstream is None:
            host, port = self.server.upstream_host, self.server.upstream_port
            conn = http.client.HTTPConnection(host, port, timeout=_UPSTREAM_TIMEOUT)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._upstream = conn
        return self._upstream

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Host"] = self.server.upstream_netloc
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        target = self.server.upstream_prefix + self.path
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(self.command, target, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                return answer.status, answer.reason, answer.getheaders(), data
            except (http.client.HTTPException, OSError):
                conn.close()
                self._upstream = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _handle(self) -> None:
        body = self._read_body()
        key = self.server.record(self.command, self.path, body)
        delay = self.server.delay
        if delay > 0:
            time.sleep(delay)
        try:
            started = time.perf_counter()
            status, reason, headers, data = self._forward(body)
            self.server.record_time(key, time.perf_counter() - started)
        except (http.client.HTTPException, OSError) as exc:
            self.server.record_error()
            message = f"proxy: upstream failed: {type(exc).__name__}".encode()
            self.send_response(502)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, upstream: str, delay: float, port: int) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_netloc = parts.netloc
        self.upstream_prefix = parts.path.rstrip("/")
        self.delay = delay
        self._lock = threading.Lock()
        self._stats = ProxyStats()
        super().__init__(("127.0.0.1", port), _Handler)

    def record(self, method: str, path: str, body: bytes) -> str:
        """Count one request; return its timing key (the JSON-RPC method, batch or path)."""
        calls: list[str] = []
        batch = False
        if method == "POST" and body[:1] in (b"{", b"["):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if isinstance(payload, list):
                batch = True
                calls = [str(c.get("method")) for c in payload if isinstance(c, dict)]
            elif isinstance(payload, dict) and "method" in payload:
                calls = [str(payload["method"])]
        with self._lock:
            s = self._stats
            s.http_requests += 1
            s.paths[_path_key(method, path)] += 1
            s.rpc_calls += len(calls)
            s.methods.update(calls)
            if batch:
                s.batches += 1
                s.batched_calls += len(calls)
        if batch:
            return "batch"
        return calls[0] if calls else _path_key(method, path)

    def record_time(self, key: str, seconds: float) -> None:
        with self._lock:
            spent = self._stats.upstream_seconds
            spent[key] = spent.get(key, 0.0) + seconds

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the client went away (a stopped worker); nothing to report
        super().handle_error(request, client_address)

    def record_error(self) -> None:
        with self._lock:
            self._stats.errors += 1

    def snapshot(self) -> ProxyStats:
        with self._lock:
            return self._stats.copy()

    def clear(self) -> None:
        with self._lock:
            self._stats = ProxyStats()


class LatencyProxy:
    """A delaying HTTP proxy on ``127.0.0.1`` in front of ``upstream`` (served from a thread).

    ``delay`` (seconds, settable at any time) is added once per HTTP request.
    Raises ``ValueError`` for a non-``http://`` upstream or a negative delay,
    ``OSError`` when the port cannot be bound.
    """

    def __init__(self, upstream: str, delay: float = 0.0, *, port: int = 0) -> None:
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self._server = _ProxyServer(upstream, delay, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"latency-proxy:{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def delay(self) -> float:
        return self._server.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self._server.delay = seconds

    def stats(self) -> ProxyStats:
        """A copy of the counters."""
        return self._server.snapshot()

    def reset(self) -> None:
        """Zero the counters."""
        self._server.clear()

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> LatencyProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
