"""A loopback JSON-RPC proxy that keeps a mempool in front of a node that mines at once.

The devnet and ganache mine every send immediately (ganache with its miner stopped
reports no pending count, and mined both a transaction and its replacement when
probed), so neither can hold a stuck transaction. This proxy holds every legacy
``eth_sendRawTransaction`` by (sender, nonce), replaces a held one only when the new
one pays at least 10% more (geth's price bump; otherwise ``replacement transaction
underpriced``), counts held ones in ``eth_getTransactionCount(…, "pending")``, and
forwards everything else. ``flush()`` hands the survivors to the node in nonce order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import requests
import rlp
from eth_account import Account
from eth_utils import keccak

from ogpu.devnet.httpbase import BackgroundHTTPServer

__all__ = ["Mempool", "running_mempool"]


class Mempool:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.held: dict[tuple[str, int], tuple[int, str]] = {}
        self.lock = threading.Lock()

    def _forward(self, method: str, params: list[Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer: dict[str, Any] = requests.post(self.upstream, json=body, timeout=30).json()
        return answer

    def _hold(self, raw: str) -> dict[str, Any]:
        fields = rlp.decode(bytes.fromhex(raw[2:]))
        nonce, price = int.from_bytes(fields[0], "big"), int.from_bytes(fields[1], "big")
        sender = Account.recover_transaction(raw).lower()
        with self.lock:
            old = self.held.get((sender, nonce))
            if old is not None and price * 10 < old[0] * 11:
                return {"error": {"code": -32000, "message": "replacement transaction underpriced"}}
            self.held[(sender, nonce)] = (price, raw)
        return {"result": "0x" + keccak(bytes.fromhex(raw[2:])).hex()}

    def _pending(self, address: str) -> dict[str, Any]:
        answer = self._forward("eth_getTransactionCount", [address, "latest"])
        count = int(answer["result"], 16)
        with self.lock:
            while (address.lower(), count) in self.held:
                count += 1
        return {"result": hex(count)}

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        method, params = call["method"], call.get("params", [])
        if method == "eth_sendRawTransaction":
            out = self._hold(params[0])
        elif method == "eth_getTransactionCount" and params[1] == "pending":
            out = self._pending(params[0])
        else:
            out = self._forward(method, params)
        return {
            "jsonrpc": "2.0",
            "id": call.get("id"),
            **{k: out[k] for k in ("result", "error") if k in out},
        }

    def flush(self) -> None:
        """Send every held transaction to the node, in nonce order; empty the pool."""
        with self.lock:
            held, self.held = sorted(self.held.items()), {}
        for _, (_, raw) in held:
            answer = self._forward("eth_sendRawTransaction", [raw])
            assert "error" not in answer, answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if isinstance(call, list):
            body = json.dumps([self.server.pool.answer(c) for c in call]).encode()
        else:
            body = json.dumps(self.server.pool.answer(call)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(BackgroundHTTPServer):
    def __init__(self, pool: Mempool) -> None:
        super().__init__("127.0.0.1", 0, _Handler, name="mempool")
        self.pool = pool


@contextmanager
def running_mempool(upstream: str) -> Iterator[tuple[str, Mempool]]:
    """Serve a :class:`Mempool` in front of ``upstream``; yield its URL and the pool."""
    with _Server(Mempool(upstream)) as server:
        yield server.url, server.pool
