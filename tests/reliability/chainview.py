"""A loopback JSON-RPC proxy that serves the chain as a lagging replica would (test support).

``ReplicaProxy(upstream)`` forwards JSON-RPC over HTTP to ``upstream`` (the devnet's
server over the in-process chain). Each HTTP request (a batch included) is answered
by one replica, chosen by ``lags``: replica ``i`` of request ``n`` is ``lags[n %
len(lags)]`` blocks behind the real head. A replica that is ``k`` blocks behind:

- answers ``eth_blockNumber`` and ``eth_getBlockByNumber("latest")`` with its own head;
- answers ``null`` for a block above its head;
- answers ``eth_getLogs`` over a range reaching past its head as ``beyond`` says:
  ``"clamp"`` (the logs it has, as geth does), ``"empty"`` (``[]``), or ``"error"``.

With ``logs_only=True`` the lag applies to ``eth_getLogs`` alone: heads and headers
come from an up-to-date node and logs from a lagging one (a load balancer that sends
methods to different backends: the failure where ``eth_getLogs("latest")`` lags
``eth_blockNumber``). Counters: ``requests`` (HTTP requests), ``methods``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any

import requests

from ogpu.devnet.httpbase import BackgroundHTTPServer

__all__ = ["ReplicaProxy"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = self.server.owner.answer(json.loads(body))
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(BackgroundHTTPServer):
    def __init__(self, owner: ReplicaProxy) -> None:
        super().__init__("127.0.0.1", 0, _Handler, name="replica-proxy")
        self.owner = owner


class ReplicaProxy:
    """Serves ``upstream``'s chain through lagging replicas (see the module docstring)."""

    def __init__(
        self,
        upstream: str,
        lags: Sequence[int] = (0,),
        *,
        beyond: str = "clamp",
        logs_only: bool = False,
    ) -> None:
        assert beyond in ("clamp", "empty", "error")
        self.upstream = upstream
        self.lags = tuple(lags)
        self.beyond = beyond
        self.logs_only = logs_only
        self.requests = 0
        self.methods: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = _Server(self)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> ReplicaProxy:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _call(self, method: str, params: list[Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer: dict[str, Any] = self._session().post(self.upstream, json=body, timeout=30).json()
        return answer

    def answer(self, parsed: Any) -> Any:
        with self._lock:
            lag = self.lags[self.requests % len(self.lags)]
            self.requests += 1
        calls = parsed if isinstance(parsed, list) else [parsed]
        head = int(self._call("eth_blockNumber", [])["result"], 16)
        answers = [self._one(call, head, lag) for call in calls]
        return answers if isinstance(parsed, list) else answers[0]

    def _one(self, call: dict[str, Any], head: int, lag: int) -> dict[str, Any]:
        method, params = call["method"], list(call.get("params", []))
        with self._lock:
            self.methods[method] += 1
        lagging = lag and (method == "eth_getLogs" or not self.logs_only)
        own = head - lag if lagging else head
        result: dict[str, Any]
        if method == "eth_blockNumber":
            result = {"result": hex(own)}
        elif method == "eth_getBlockByNumber":
            tag = params[0]
            number = own if tag == "latest" else int(tag, 16)
            if number > own:
                result = {"result": None}
            else:
                result = self._call(method, [hex(number), *params[1:]])
        elif method == "eth_getLogs":
            result = self._logs(dict(params[0]), own)
        else:
            result = self._call(method, params)
        return {"jsonrpc": "2.0", "id": call.get("id"), **_strip(result)}

    def _logs(self, query: dict[str, Any], own: int) -> dict[str, Any]:
        low = int(query.get("fromBlock", "0x0"), 16)
        to = query.get("toBlock", "latest")
        high = own if to == "latest" else int(to, 16)
        if high > own:
            if self.beyond == "empty":
                return {"result": []}
            if self.beyond == "error":
                return {"error": {"code": -32000, "message": "block range beyond head"}}
            high = own
        if low > high:
            return {"result": []}
        return self._call("eth_getLogs", [{**query, "fromBlock": hex(low), "toBlock": hex(high)}])


def _strip(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k in ("result", "error")}
