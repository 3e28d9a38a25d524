"""What ``FaultProxy`` (``proxy.py``) does to the requests a ``Rule`` matches.

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
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ANSWERED", "Fault", "Item", "Rule", "error"]

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


ANSWERED = frozenset({Fault.BLOCK_NOT_FOUND, Fault.NULL_RESULT, Fault.RPC_ERROR, Fault.WRONG_CHAIN})


@dataclass
class Rule:
    """Apply ``fault`` to requests calling ``method``.

    Requests match when ``when(params)`` is true (default: always) and, with ``after``,
    once a call of that method was received. The first
    ``skip`` matching requests pass untouched; then the fault applies ``times``
    times (``None``: for ever).
    """

    method: str  # "*": any method
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
class Item:
    """One JSON-RPC call of a request and the rule that hit it (if any)."""

    call: dict[str, Any]
    rule: Rule | None = None

    @property
    def method(self) -> str:
        return str(self.call.get("method", ""))


def error(call_id: Any, message: str, code: int = -32000) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call_id, "error": {"code": code, "message": message}}
