"""Mainnet fault mode: the devnet's JSON-RPC answers like the load-balanced public RPC.

Off by default (``ogpu devnet --mainnet-faults SHARE``, or ``RpcServer(...,
faults=MainnetFaults(share))``). A ``share`` of the HTTP requests, drawn from a
seeded generator in arrival order (deterministic for a sequential client), is
answered as docs/MAINNET.md records the public RPC under load:

- a request that names a block just reported (within ``lag`` blocks of the head, by
  number or hash) meets a lagging replica: each such item of the request gets the
  JSON-RPC error ``block 0x… not found`` (code -32000); a batch keeps its other
  answers;
- any other request has its connection dropped: half the time before the node
  handled it, half the time after (the client cannot tell which).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ogpu._jsonsafe import loads_bounded

if TYPE_CHECKING:
    from ogpu.devnet.server import JsonRpcDispatcher

__all__ = ["DROP", "MainnetFaults"]

#: ``MainnetFaults.answer`` result: close the connection without an answer.
DROP = b""

# Position of the block parameter, per method (eth_getLogs: its filter object).
_BLOCK_PARAM = {
    "eth_call": 1,
    "eth_estimateGas": 1,
    "eth_getBalance": 1,
    "eth_getCode": 1,
    "eth_getTransactionCount": 1,
    "eth_getStorageAt": 2,
    "eth_feeHistory": 1,
    "eth_getBlockByNumber": 0,
    "eth_getBlockByHash": 0,
    "eth_getBlockReceipts": 0,
    "eth_getBlockTransactionCountByNumber": 0,
    "eth_getBlockTransactionCountByHash": 0,
    "eth_getTransactionByBlockNumberAndIndex": 0,
    "eth_getTransactionByBlockHashAndIndex": 0,
}


@dataclass
class MainnetFaults:
    """What share of requests fails, from which seed, and how far replicas lag.

    ``injected`` counts what was done (``"block not found"``, ``"drop before"``,
    ``"drop after"``). Raises ValueError for a share outside (0, 1] or ``lag < 1``.
    """

    share: float
    seed: int = 0
    lag: int = 1
    injected: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.share, bool) or not isinstance(self.share, (int, float)):
            raise ValueError(f"share must be a number in (0, 1], got {self.share!r}")
        if not 0 < self.share <= 1:
            raise ValueError(f"share must be in (0, 1], got {self.share!r}")
        if isinstance(self.lag, bool) or not isinstance(self.lag, int) or self.lag < 1:
            raise ValueError(f"lag must be an int >= 1, got {self.lag!r}")
        self._rng = random.Random(self.seed)

    def _draw(self) -> tuple[bool, bool]:
        with self._lock:
            return self._rng.random() < self.share, self._rng.random() < 0.5

    def answer(self, body: bytes, dispatcher: JsonRpcDispatcher) -> bytes | None:
        """The answer to one HTTP body: ``dispatcher``'s, a faulted one, or ``DROP``."""
        faulted, before = self._draw()
        if not faulted:
            return dispatcher.handle_body(body)
        try:
            payload = loads_bounded(body)
        except (ValueError, UnicodeDecodeError):
            payload = None
        items = payload if isinstance(payload, list) else [payload]
        head = dispatcher.block_number()
        found = {i: self._recent(item, head, dispatcher) for i, item in enumerate(items)}
        stale = {i: n for i, n in found.items() if n is not None}
        if stale:
            return self._lagging(payload, items, stale, dispatcher)
        if before:
            self._count("drop before")
            return DROP
        dispatcher.handle_body(body)
        self._count("drop after")
        return DROP

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.injected[kind] += n

    def _recent(self, item: Any, head: int, dispatcher: JsonRpcDispatcher) -> int | None:
        """The block ``item`` names when it is within ``lag`` blocks of ``head``."""
        if not isinstance(item, dict) or not isinstance(item.get("params"), list):
            return None
        method, params = item.get("method"), item["params"]
        if method == "eth_getLogs":
            spec = params[0] if params and isinstance(params[0], dict) else {}
            tags = [spec.get("blockHash"), spec.get("toBlock"), spec.get("fromBlock")]
        elif method in _BLOCK_PARAM and len(params) > _BLOCK_PARAM[str(method)]:
            tags = [params[_BLOCK_PARAM[str(method)]]]
        else:
            return None
        for tag in tags:
            number = _number(tag, dispatcher)
            if number is not None and head - self.lag < number <= head:
                return number
        return None

    def _lagging(
        self,
        payload: Any,
        items: list[Any],
        stale: dict[int, int],
        dispatcher: JsonRpcDispatcher,
    ) -> bytes | None:
        """Answer the ``stale`` items ``block 0x… not found``; the others as the node does."""
        rest = [item for i, item in enumerate(items) if i not in stale]
        answers: list[Any] = []
        if rest:
            raw = dispatcher.handle_body(json.dumps(rest).encode())
            answers = json.loads(raw) if raw else []
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        out = []
        for i, item in enumerate(items):
            if i in stale and "id" in item:
                error = {"code": -32000, "message": f"block {hex(stale[i])} not found"}
                out.append({"jsonrpc": "2.0", "id": item.get("id"), "error": error})
            elif "id" in item and item.get("id") in by_id:
                out.append(by_id[item.get("id")])
        self._count("block not found", len(stale))
        return json.dumps(out if isinstance(payload, list) else out[0]).encode()


def _number(tag: Any, dispatcher: JsonRpcDispatcher) -> int | None:
    """Block number of a block parameter (number, hash, or ``{blockNumber|blockHash}``);
    ``None`` for a tag or anything unknown."""
    if isinstance(tag, dict):
        tag = tag.get("blockHash", tag.get("blockNumber"))
    if not isinstance(tag, str) or not tag.startswith("0x"):
        return None
    if len(tag) == 66:
        from ogpu.devnet.server import RpcError

        try:
            block = dispatcher.call("eth_getBlockByHash", [tag, False])
        except RpcError:
            return None
        return int(block["number"], 16) if isinstance(block, dict) else None
    try:
        return int(tag, 16)
    except ValueError:
        return None
