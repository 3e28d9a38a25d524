"""The suite's one loopback JSON-RPC proxy: counts what reaches the wire, injects faults.

``FaultProxy(upstream).start()`` forwards JSON-RPC over HTTP to ``upstream`` and applies
``Rule``s keyed by JSON-RPC method (``"*"``: every method). Connection-level faults act
on the whole HTTP request (a batch is hit when any of its items matches); answer-level
faults rewrite the matching item's answer only, so a batch keeps its other answers.

The faults (``Fault``, ``Rule``) are described in ``faults.py``.

A request that is not JSON-RPC (a GET, an upload to the IPFS stand-in) is relayed as it
came; rules named ``"VERB /path"`` or ``"*"`` apply ``DROP_BEFORE``, ``HTTP_502`` or
``SLOW_BEFORE`` (``delay`` up to ``clear()``, then cut) to it.

Counters (``reset_counts()`` zeroes them; ``clear()`` also drops the rules): ``requests``
and ``paths`` (HTTP requests; by verb and path), ``batches`` (each JSON-RPC request's
methods), ``calls`` and ``sequence`` (calls received, in order), ``received`` /
``forwarded`` (methods sent by the client / delivered upstream), ``raw_received`` /
``raw_forwarded`` (``eth_sendRawTransaction`` payloads), ``applied`` (method, fault).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .faults import ANSWERED, Fault, Item, Rule, error

__all__ = ["Fault", "FaultProxy", "Rule"]

#: Connection-level faults acted out before forwarding, and after.
_BEFORE = frozenset({Fault.DROP_BEFORE, Fault.HTTP_502, Fault.SLOW_BEFORE})
_AFTER = frozenset({Fault.DROP_AFTER, Fault.HTTP_502_AFTER, Fault.GARBAGE_AFTER, Fault.SLOW_AFTER})
#: The HTTP answer that replaces the node's (the other cut faults drop the connection).
_REPLIES: dict[Fault, tuple[int, bytes]] = {
    Fault.HTTP_502: (502, b"<html>502 Bad Gateway</html>"),
    Fault.HTTP_502_AFTER: (502, b"<html>502 Bad Gateway</html>"),
    Fault.GARBAGE_AFTER: (200, b"<html>upstream hiccup</html>"),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # ``start()`` after ``stop()`` takes the same port again
    request_queue_size = 128  # dozens of watchers or threads at once


@dataclass
class FaultProxy:
    """Loopback JSON-RPC proxy with programmable faults and wire-level counters."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    requests: int = 0
    paths: Counter[tuple[str, str]] = field(default_factory=Counter)
    sequence: list[str] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)
    forwarded: Counter[str] = field(default_factory=Counter)
    raw_received: list[str] = field(default_factory=list)
    raw_forwarded: list[str] = field(default_factory=list)
    applied: list[tuple[str, Fault]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _port: int = 0
    _open: set[socket.socket] = field(default_factory=set)

    # -- control -------------------------------------------------------------------------------

    def add(self, method: str, fault: Fault, **options: Any) -> Rule:
        """Install a rule and return it (its ``hits`` counts applications)."""
        rule = Rule(method, fault, **options)
        with self.lock:
            self.rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        """Uninstall one rule (the others and the counters stay)."""
        with self.lock:
            self.rules.remove(rule)

    def reset_counts(self) -> None:
        """Zero every counter (the rules stay)."""
        with self.lock:
            self.requests = 0
            self.paths.clear()
            self.sequence.clear()
            self.batches.clear()
            self.calls.clear()
            self.received.clear()
            self.forwarded.clear()
            self.raw_received.clear()
            self.raw_forwarded.clear()
            self.applied.clear()

    def clear(self) -> None:
        """Remove every rule, zero every counter and cut held requests (never forwarded)."""
        with self.lock:
            self._cancel.set()
            self._cancel = threading.Event()
            self.rules.clear()
        self.reset_counts()

    def count(self, method: str) -> int:
        """How many calls of ``method`` the client sent."""
        with self.lock:
            return self.received[method]

    def delivered(self, method: str) -> int:
        """How many calls of ``method`` reached the node."""
        with self.lock:
            return self.forwarded[method]

    def posts(self) -> int:
        """How many HTTP POSTs arrived (JSON-RPC or not)."""
        with self.lock:
            return sum(n for (verb, _), n in self.paths.items() if verb == "POST")

    def total_received(self) -> int:
        with self.lock:
            return sum(self.received.values())

    @property
    def url(self) -> str:
        assert self._port, "proxy not started"
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FaultProxy:
        """Listen on loopback (a free port the first time, the same one after ``stop``)."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # an answer is two writes: no delayed-ACK wait

            def log_message(self, format: str, *args: Any) -> None:
                return

            def setup(self) -> None:
                super().setup()
                with proxy.lock:
                    proxy._open.add(self.connection)

            def finish(self) -> None:
                with proxy.lock:
                    proxy._open.discard(self.connection)
                super().finish()

            def do_GET(self) -> None:
                proxy._plain(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                proxy._handle(self, self.rfile.read(length))

        server = _Server(("127.0.0.1", self._port), Handler)
        self._port = int(server.server_address[1])
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Close the listener and every open connection (the node is down: connections are
        refused) and cut held requests; ``start()`` opens it again on the same port."""
        self._cancel.set()
        self._cancel = threading.Event()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.lock:
            open_now, self._open = list(self._open), set()
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

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

    def _count_http(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.requests += 1
            self.paths[(handler.command, handler.path.split("?")[0])] += 1

    def _plain(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        """A request that is not JSON-RPC (a GET, an IPFS upload): relayed as it came, path,
        query and headers included. Its rule name is ``"VERB /path"`` (or ``"*"``); only
        ``DROP_BEFORE``, ``HTTP_502`` and ``SLOW_BEFORE`` apply to it."""
        self._count_http(handler)
        name = f"{handler.command} {handler.path.split('?')[0]}"
        with self.lock:
            cancel = self._cancel
            rule = next((r for r in self.rules if r.method in (name, "*") and r.take([])), None)
            if rule is not None:
                self.applied.append((name, rule.fault))
        fault = rule.fault if rule is not None else None
        if fault is Fault.DROP_BEFORE or (
            fault is Fault.SLOW_BEFORE and rule is not None and cancel.wait(rule.delay)
        ):
            self._drop(handler)
            return
        if fault is Fault.HTTP_502:
            self._reply(handler, 502, b"<html>502 Bad Gateway</html>")
            return
        parts = urlsplit(self.upstream)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, 60)
        try:
            connection.request(handler.command, handler.path, body or None, headers)
            answer = connection.getresponse()
            status, kind, data = answer.status, answer.getheader("Content-Type"), answer.read()
        finally:
            connection.close()
        self._reply(handler, status, data, kind or "application/octet-stream")

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
                call.get("id"): error(call.get("id"), f"upstream HTTP {status}") for call in calls
            }
        return {answer.get("id"): answer for answer in answers}

    def _match(self, items: list[Item]) -> None:
        with self.lock:
            self.batches.append([item.method for item in items])
            for item in items:
                method = item.method
                self.calls.append(item.call)
                self.sequence.append(method)
                self.received[method] += 1
                if method == "eth_sendRawTransaction":
                    self.raw_received.append(str((item.call.get("params") or [""])[0]))
                for rule in self.rules:
                    if rule.method not in (method, "*"):
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
    def _reply(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str = "application/json"
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            handler.close_connection = True

    def _rewrite(self, item: Item, answer: dict[str, Any] | None) -> dict[str, Any] | None:
        """The answer an answer-level rule gives (``None``: forward and keep the node's)."""
        rule = item.rule
        call_id = item.call.get("id")
        if rule is None or rule.fault.connection_level:
            return answer
        fault = rule.fault
        if fault is Fault.BLOCK_NOT_FOUND:
            return error(call_id, "block not found")
        if fault is Fault.NULL_RESULT:
            return {"jsonrpc": "2.0", "id": call_id, "result": None}
        if fault is Fault.WRONG_CHAIN:
            return {"jsonrpc": "2.0", "id": call_id, "result": hex(rule.chain_id)}
        if fault in (Fault.RPC_ERROR, Fault.ERROR_AFTER):
            if rule.bare:
                return {"jsonrpc": "2.0", "id": call_id, "error": rule.message}
            return error(call_id, rule.message, rule.code)
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
            self._plain(handler, body)
            return
        self._count_http(handler)
        items = [Item(call) for call in calls]
        with self.lock:
            cancel = self._cancel
        self._match(items)
        level = next(
            (i.rule for i in items if i.rule is not None and i.rule.fault.connection_level), None
        )
        fault = level.fault if level is not None else None
        if fault in _BEFORE and self._cut(handler, level, cancel):
            return
        answer_only = {id(i) for i in items if i.rule is not None and i.rule.fault in ANSWERED}
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
        if fault in _AFTER and self._cut(handler, level, cancel):
            return
        data = json.dumps(out if batch else out[0]).encode()
        if fault in (Fault.DRIP_HEADERS_AFTER, Fault.DRIP_BODY_AFTER):
            assert level is not None
            self._drip(handler, fault, data, level.delay, cancel)
            return
        self._reply(handler, 200, data)

    def _cut(
        self, handler: BaseHTTPRequestHandler, level: Rule | None, cancel: threading.Event
    ) -> bool:
        """Act out a connection-level fault of ``_BEFORE``/``_AFTER``: True when it ended
        the exchange (a dropped connection, or ``_REPLIES``' answer instead of the node's);
        a slow fault that was not cancelled lets the exchange go on."""
        assert level is not None
        if level.fault in (Fault.SLOW_BEFORE, Fault.SLOW_AFTER) and not cancel.wait(level.delay):
            return False
        if level.fault in _REPLIES:
            self._reply(handler, *_REPLIES[level.fault])
        else:
            self._drop(handler)
        return True

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
