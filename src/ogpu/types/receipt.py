"""``Receipt``: the immutable result of every write operation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

_E = TypeVar("_E")


@dataclass(frozen=True)
class RawLog:
    """A log no known event decoder matched (or whose decoding failed)."""

    address: str
    topics: tuple[str, ...]
    data: bytes
    log_index: int
    block_number: int
    transaction_hash: str


@dataclass(frozen=True)
class Receipt:
    """A mined transaction.

    Attributes:
        tx_hash: 0x-prefixed transaction hash.
        block_number: Block that includes the transaction.
        gas_used: Gas the transaction consumed.
        status: 1 on success (the SDK raises on 0, so a returned receipt has 1).
        logs: Decoded events (``ogpu_bindings`` event dataclasses) in log order;
            logs no decoder knows stay ``RawLog``.
        timestamp: Block timestamp when known, else 0.
        from_address: Sender.
        to: Called contract (None for a contract creation).
        effective_gas_price: Price per gas actually paid, in wei.
        block_hash: Hash of the including block.
    """

    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    logs: tuple[Any, ...] = ()
    timestamp: int = 0
    from_address: str = ""
    to: str | None = None
    effective_gas_price: int = 0
    block_hash: str = ""

    def events(self, event_type: type[_E]) -> list[_E]:
        """Return the decoded logs of one event class, in log order. No RPC."""
        return [log for log in self.logs if isinstance(log, event_type)]

    def event(self, event_type: type[_E]) -> _E | None:
        """Return the first decoded log of one event class, or None. No RPC."""
        for log in self.logs:
            if isinstance(log, event_type):
                return log
        return None
