"""A scripted HTTP server on loopback (test support): each request gets what a function says.

``ScriptedServer(answer)`` serves every request with ``answer(request) -> Reply``;
``Request`` has the method, path, headers, raw body and the parsed JSON (or None).
Counters: ``connections`` (TCP connections accepted), ``requests``. Keep-alive is
honoured (HTTP/1.1), so a client that reuses connections shows fewer connections
than requests; ``silent_close=True`` closes each connection after its answer without
a ``Connection: close`` header (a node that drops idle keep-alive connections).

``rpc_node(result_for)`` builds an ``answer`` for a JSON-RPC node: ``result_for(method,
params)`` returns the ``result`` value, a ``Raw`` (the whole answer object, or bytes for
the whole HTTP body), or raises ``RpcFailure`` for an error object. Batches are answered
item by item (in reverse order, which JSON-RPC allows, to catch clients that match
answers by position).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from ogpu.devnet.httpbase import BackgroundHTTPServer

__all__ = ["Raw", "Reply", "Request", "RpcFailure", "ScriptedServer", "rpc_node"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass
class Raw:
    value: Any


class RpcFailure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        with self.server.lock:
            self.server.requests += 1
            self.server.seen.append(request)
        reply = self.server.answer(request)
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        if self.server.silent_close:
            self.close_connection = True  # close without having said so

    do_GET = _serve
    do_POST = _serve


class ScriptedServer(BackgroundHTTPServer):
    """Binds a free port of ``host`` on construction; serves inside ``with`` (the SDK's
    devnet server base: ``port``, ``url``, ``start``/``stop``)."""

    def __init__(
        self,
        answer: Callable[[Request], Reply],
        *,
        silent_close: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host, 0, _Handler, name="scripted-server")
        self.answer = answer
        self.silent_close = silent_close
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.seen: list[Request] = []

    def serve_forever(self, poll_interval: float = 0.05) -> None:
        # stop() waits out one poll of this loop and the tests stop hundreds of these
        # servers: rpc_transport, cid and ssrf take 19 s at 0.05 s, 26 s at the base's 0.1
        super().serve_forever(0.05)


def _one(item: Any, result_for: Callable[[str, list[Any]], Any]) -> Any:
    ident = item.get("id") if isinstance(item, dict) else None
    try:
        value = result_for(str(item.get("method")), list(item.get("params") or []))
    except RpcFailure as exc:
        return {"jsonrpc": "2.0", "id": ident, "error": {"code": exc.code, "message": exc.message}}
    if isinstance(value, Raw):
        return value.value
    return {"jsonrpc": "2.0", "id": ident, "result": value}


def rpc_node(result_for: Callable[[str, list[Any]], Any]) -> Callable[[Request], Reply]:
    def answer(request: Request) -> Reply:
        payload = request.json
        if isinstance(payload, list):
            out: Any = [_one(item, result_for) for item in reversed(payload)]
        else:
            out = _one(payload, result_for)
        if isinstance(out, Raw):
            out = out.value
        if isinstance(out, bytes):
            return Reply(body=out)
        return Reply(body=json.dumps(out).encode())

    return answer
