"""A fault-injecting JSON-RPC proxy on loopback (test support).

``FaultProxy(upstream)`` forwards JSON-RPC over HTTP to ``upstream`` and applies
``Rule``s keyed by JSON-RPC method. Connection-level faults act on the whole HTTP
request (a batch is hit when any of its items matches); answer-level faults rewrite
the matching item's answer only, so a batch keeps its other answers.

Connection-level faults:

- ``DROP_BEFORE``: close the connection without forwarding (the node never sees it).
- ``DROP_AFTER``: forward, then close without answering (the node acted; the client
  hears nothing).
- ``HTTP_502`` / ``HTTP_502_AFTER``: answer ``502 Bad Gateway`` without / after forwarding.
- ``SLOW_BEFORE``: hold the request ``delay`` seconds, then forward and answer.
- ``SLOW_AFTER``: forward at once, answer after ``delay`` seconds.
- ``DUPLICATE``: forward the same body twice; answer with the first or (``answer_second``)
  the second delivery's answer.
- ``GARBAGE_AFTER``: forward, then answer ``200`` with a body that is not JSON.
- ``DRIP_HEADERS_AFTER``: forward, then send a status line and an endless header one
  byte per ``delay`` seconds (a gateway that drips headers).
- ``DRIP_BODY_AFTER``: forward, then send complete headers and the answer one byte per
  ``delay`` seconds (it would complete, much too late).

Answer-level faults (a lagging replica or another node):

- ``BLOCK_NOT_FOUND``: JSON-RPC error ``-32000 block not found``, not forwarded.
- ``NULL_RESULT``: ``result: null`` (a receipt or transaction the replica has not seen).
- ``STALE_NONCE``: forward ``eth_getTransactionCount`` and answer ``lag`` less.
- ``WRONG_CHAIN``: answer ``eth_chainId`` with ``chain_id`` (a node of another chain).
- ``RPC_ERROR``: JSON-RPC error ``message`` (``code``), not forwarded.
- ``ERROR_AFTER``: forward, then answer the JSON-RPC error ``message`` with ``code``
  instead of the node's answer; ``bare=True``: the error is the bare string ``message``
  (``{"error": "..."}``), as some gateways answer.
- ``RESULT_AFTER``: forward, then replace the result with ``result``, or, with ``patch``
  and an object result, merge ``patch`` into it (a receipt whose ``blockNumber`` is
  ``"banana"``).

Counters: ``received`` (methods the client sent, batches expanded), ``forwarded``
(methods delivered upstream, duplicates included), ``raw_received``/``raw_forwarded``
(``eth_sendRawTransaction`` payloads), ``applied`` (``(method, fault)`` in order).
"""

from __future__ import annotations

import contextlib
import enum
import http.client
import json
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Fault", "FaultProxy", "Rule"]

_CONNECTION_FAULTS = frozenset(
    {
        "DROP_BEFORE",
        "DROP_AFTER",
        "HTTP_502",
        "HTTP_502_AFTER",
        "SLOW_BEFORE",
        "SLOW_AFTER",
        "DUPLICATE",
        "GARBAGE_AFTER",
        "DRIP_HEADERS_AFTER",
        "DRIP_BODY_AFTER",
    }
)


class Fault(enum.Enum):
    """What the proxy does to a matching request (see the module docstring)."""

    DROP_BEFORE = "drop the connection before forwarding"
    DROP_AFTER = "drop the connection after forwarding"
    HTTP_502 = "502 Bad Gateway, not forwarded"
    HTTP_502_AFTER = "502 Bad Gateway after forwarding"
    SLOW_BEFORE = "hold the request past the client timeout, then forward"
    SLOW_AFTER = "forward, answer after the client timeout"
    DUPLICATE = "deliver the request twice"
    GARBAGE_AFTER = "forward, answer a non-JSON body"
    DRIP_HEADERS_AFTER = "forward, drip the headers one byte at a time"
    DRIP_BODY_AFTER = "forward, drip the answer one byte at a time"
    BLOCK_NOT_FOUND = "lagging replica: 'block not found'"
    NULL_RESULT = "lagging replica: null result"
    STALE_NONCE = "lagging replica: stale eth_getTransactionCount"
    WRONG_CHAIN = "node of another chain: wrong eth_chainId"
    RPC_ERROR = "JSON-RPC error, not forwarded"
    ERROR_AFTER = "forward, answer a JSON-RPC error"
    RESULT_AFTER = "forward, answer another result"

    @property
    def connection_level(self) -> bool:
        return self.name in _CONNECTION_FAULTS


_ANSWERED = frozenset(
    {Fault.BLOCK_NOT_FOUND, Fault.NULL_RESULT, Fault.RPC_ERROR, Fault.WRONG_CHAIN}
)


@dataclass
class Rule:
    """Apply ``fault`` to requests calling ``method``.

    Requests match when ``when(params)`` is true (default: always) and, with ``after``,
    once a call of that method was received. The first
    ``skip`` matching requests pass untouched; then the fault applies ``times``
    times (``None``: for ever).
    """

    method: str
    fault: Fault
    times: int | None = 1
    skip: int = 0
    delay: float = 1.0
    lag: int = 1
    chain_id: int = 1
    message: str = "internal error"
    code: int = -32000
    bare: bool = False
    result: Any = None
    patch: dict[str, Any] | None = None
    answer_second: bool = False
    when: Callable[[list[Any]], bool] | None = None
    after: str | None = None
    hits: int = 0

    def take(self, params: list[Any]) -> bool:
        """Count one matching request; whether the fault applies to it."""
        if self.when is not None and not self.when(params):
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.times is not None:
            if self.times <= 0:
                return False
            self.times -= 1
        self.hits += 1
        return True


@dataclass
class _Item:
    """One JSON-RPC call of a request and the rule that hit it (if any)."""

    call: dict[str, Any]
    rule: Rule | None = None

    @property
    def method(self) -> str:
        return str(self.call.get("method", ""))


def _error(call_id: Any, message: str, code: int = -32000) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call_id, "error": {"code": code, "message": message}}


@dataclass
class FaultProxy:
    """Loopback JSON-RPC proxy with programmable faults and wire-level counters."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)
    forwarded: Counter[str] = field(default_factory=Counter)
    raw_received: list[str] = field(default_factory=list)
    raw_forwarded: list[str] = field(default_factory=list)
    applied: list[tuple[str, Fault]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------------

    def add(self, method: str, fault: Fault, **options: Any) -> Rule:
        """Install a rule and return it (its ``hits`` counts applications)."""
        rule = Rule(method, fault, **options)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule, zero every counter and cut held requests (never forwarded)."""
        with self.lock:
            self._cancel.set()
            self._cancel = threading.Event()
            self.rules.clear()
            self.received.clear()
            self.forwarded.clear()
            self.raw_received.clear()
            self.raw_forwarded.clear()
            self.applied.clear()

    def count(self, method: str) -> int:
        """How many calls of ``method`` the client sent."""
        with self.lock:
            return self.received[method]

    def delivered(self, method: str) -> int:
        """How many calls of ``method`` reached the node."""
        with self.lock:
            return self.forwarded[method]

    def total_received(self) -> int:
        with self.lock:
            return sum(self.received.values())

    @property
    def url(self) -> str:
        assert self._server is not None, "proxy not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                proxy._handle(self, self.rfile.read(length))

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="fault-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        self._cancel.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- the wire ------------------------------------------------------------------------------

    def _post(self, body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, 60)
        try:
            connection.request(
                "POST", parts.path or "/", body, {"Content-Type": "application/json"}
            )
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def _deliver(self, calls: list[dict[str, Any]], batch: bool) -> dict[Any, Any]:
        """Forward ``calls`` (as one request) and return the answers keyed by id."""
        with self.lock:
            for call in calls:
                method = str(call.get("method", ""))
                self.forwarded[method] += 1
                if method == "eth_sendRawTransaction":
                    self.raw_forwarded.append(str((call.get("params") or [""])[0]))
        payload: Any = calls if batch else calls[0]
        status, data = self._post(json.dumps(payload).encode())
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        answers = parsed if isinstance(parsed, list) else [parsed]
        if status != 200 or not all(isinstance(a, dict) for a in answers):
            return {
                call.get("id"): _error(call.get("id"), f"upstream HTTP {status}") for call in calls
            }
        return {answer.get("id"): answer for answer in answers}

    def _match(self, items: list[_Item]) -> None:
        with self.lock:
            for item in items:
                method = item.method
                self.received[method] += 1
                if method == "eth_sendRawTransaction":
                    self.raw_received.append(str((item.call.get("params") or [""])[0]))
                for rule in self.rules:
                    if rule.method != method:
                        continue
                    if rule.after is not None and not self.received[rule.after]:
                        continue
                    if rule.take(list(item.call.get("params") or [])):
                        item.rule = rule
                        self.applied.append((method, rule.fault))
                        break

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            handler.close_connection = True

    def _rewrite(self, item: _Item, answer: dict[str, Any] | None) -> dict[str, Any] | None:
        """The answer an answer-level rule gives (``None``: forward and keep the node's)."""
        rule = item.rule
        call_id = item.call.get("id")
        if rule is None or rule.fault.connection_level:
            return answer
        fault = rule.fault
        if fault is Fault.BLOCK_NOT_FOUND:
            return _error(call_id, "block not found")
        if fault is Fault.NULL_RESULT:
            return {"jsonrpc": "2.0", "id": call_id, "result": None}
        if fault is Fault.WRONG_CHAIN:
            return {"jsonrpc": "2.0", "id": call_id, "result": hex(rule.chain_id)}
        if fault in (Fault.RPC_ERROR, Fault.ERROR_AFTER):
            if rule.bare:
                return {"jsonrpc": "2.0", "id": call_id, "error": rule.message}
            return _error(call_id, rule.message, rule.code)
        if fault is Fault.RESULT_AFTER:
            found = answer.get("result") if isinstance(answer, dict) else None
            if rule.patch is not None and isinstance(found, dict):
                return {"jsonrpc": "2.0", "id": call_id, "result": {**found, **rule.patch}}
            if rule.patch is not None:
                return answer
            return {"jsonrpc": "2.0", "id": call_id, "result": rule.result}
        if fault is Fault.STALE_NONCE and answer is not None and "result" in answer:
            count = int(str(answer["result"]), 16)
            return {**answer, "result": hex(max(0, count - rule.lag))}
        return answer

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        batch = isinstance(parsed, list)
        calls = parsed if batch else [parsed]
        if not calls or not all(isinstance(c, dict) for c in calls):
            status, data = self._post(body)
            self._reply(handler, status, data)
            return
        items = [_Item(call) for call in calls]
        with self.lock:
            cancel = self._cancel
        self._match(items)
        level = next(
            (i.rule for i in items if i.rule is not None and i.rule.fault.connection_level), None
        )
        fault = level.fault if level is not None else None
        if fault is Fault.DROP_BEFORE:
            self._drop(handler)
            return
        if fault is Fault.HTTP_502:
            self._reply(handler, 502, b"<html>502 Bad Gateway</html>")
            return
        if fault is Fault.SLOW_BEFORE:
            assert level is not None
            if cancel.wait(level.delay):
                self._drop(handler)
                return
        answer_only = {id(i) for i in items if i.rule is not None and i.rule.fault in _ANSWERED}
        to_send = [i.call for i in items if id(i) not in answer_only]
        answers: dict[Any, Any] = {}
        if to_send:
            answers = self._deliver(to_send, batch)
            if fault is Fault.DUPLICATE:
                assert level is not None
                again = self._deliver(to_send, batch)
                if level.answer_second:
                    answers = again
        out = [self._rewrite(i, answers.get(i.call.get("id"))) for i in items]
        if fault is Fault.DROP_AFTER:
            self._drop(handler)
            return
        if fault is Fault.HTTP_502_AFTER:
            self._reply(handler, 502, b"<html>502 Bad Gateway</html>")
            return
        if fault is Fault.GARBAGE_AFTER:
            self._reply(handler, 200, b"<html>upstream hiccup</html>")
            return
        if fault is Fault.SLOW_AFTER:
            assert level is not None
            if cancel.wait(level.delay):
                self._drop(handler)
                return
        data = json.dumps(out if batch else out[0]).encode()
        if fault in (Fault.DRIP_HEADERS_AFTER, Fault.DRIP_BODY_AFTER):
            assert level is not None
            self._drip(handler, fault, data, level.delay, cancel)
            return
        self._reply(handler, 200, data)

    def _drip(
        self,
        handler: BaseHTTPRequestHandler,
        fault: Fault,
        data: bytes,
        interval: float,
        cancel: threading.Event,
    ) -> None:
        """Write the answer one byte per ``interval`` until done, cancelled or cut."""
        if fault is Fault.DRIP_HEADERS_AFTER:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: "
            stream = head + b"a" * 100_000
        else:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            stream = head + f"Content-Length: {len(data)}\r\n\r\n".encode() + data
        for i in range(len(stream)):
            try:
                handler.wfile.write(stream[i : i + 1])
                handler.wfile.flush()
            except OSError:
                break
            if cancel.wait(interval):
                break
        self._drop(handler)
