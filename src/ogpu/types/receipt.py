"""``Receipt``: the immutable result of every write operation; ``TxHash``: its hash as a str."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ogpu.errors import InvalidInputError, InvalidReceiptError, shown

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

    @classmethod
    def from_web3_receipt(cls, receipt: Mapping[str, Any], timestamp: int = 0) -> Receipt:
        """Build from a web3 ``TxReceipt`` (or a JSON-RPC receipt dict of hex strings).

        The hash may be bytes, ``HexBytes`` or a string; ``logs`` are decoded into
        the event dataclasses of the active chain's ABI set (``RawLog`` when no
        decoder matches), as for every receipt the SDK returns. No RPC.

        Raises:
            InvalidReceiptError: ``transactionHash``, ``blockNumber``, ``gasUsed`` or
                ``status`` is missing (it is a ``KeyError`` too), or a field is malformed.
            InvalidInputError: ``timestamp`` is not a number of seconds.
        """
        from ogpu.protocol._tx.receipts import receipt_of

        try:
            when = int(timestamp)  # as 0.2.3: time.time() works too
        except Exception as exc:  # int() runs the caller's __int__ (inf: Overflow)
            raise InvalidInputError(
                message=f"timestamp must be Unix seconds, not {shown(timestamp)}",
                param="timestamp",
            ) from exc
        try:
            return receipt_of(receipt, when)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InvalidReceiptError(
                message=f"not a mined receipt ({problem}); pass what web3's "
                "get_transaction_receipt returns",
                param="receipt",
            ) from exc

    def events(self, event_type: type[_E]) -> list[_E]:
        """Return the decoded logs of one event class, in log order. No RPC."""
        return [log for log in self.logs if isinstance(log, event_type)]

    def event(self, event_type: type[_E]) -> _E | None:
        """Return the first decoded log of one event class, or None. No RPC."""
        for log in self.logs:
            if isinstance(log, event_type):
                return log
        return None


class TxHash(str):
    """A transaction hash (``0x`` hex ``str``) that also carries its mined ``Receipt``.

    ``ogpu.client.confirm_response`` and ``set_agent`` return the hash as the
    official SDK does; ``.receipt`` (and the receipt's attributes, e.g.
    ``.block_number``, ``.events(...)``) are there too. Compares, hashes and
    prints as the plain string.
    """

    receipt: Receipt

    def __new__(cls, receipt: Receipt) -> TxHash:
        self = super().__new__(cls, receipt_arg(receipt).tx_hash)
        self.receipt = receipt
        return self

    def __getattr__(self, name: str) -> Any:
        # only called for names str lacks; ``receipt`` itself is always set
        if name.startswith("__") or name == "receipt":
            raise AttributeError(name)
        return getattr(self.receipt, name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TxHash, (self.receipt,))


def receipt_arg(value: object) -> Receipt:
    """``value`` if it is a :class:`Receipt`. No I/O.

    Raises InvalidReceiptError (also the AttributeError 0.2.3 raised) for anything else.
    """
    if not isinstance(value, Receipt):
        raise InvalidReceiptError(
            message=f"expected the Receipt a send returned, got {type(value).__name__}",
            param="receipt",
        )
    return value
