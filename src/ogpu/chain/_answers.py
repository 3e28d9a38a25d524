"""Shape checks of JSON-RPC results: a malformed answer becomes ``MalformedAnswer``
(a ``TransportError``) where it enters, never a raw ``ValueError`` further on.

Representation is lenient (a quantity may be a hex string, a decimal string or an
int; data a hex string or bytes, as in-process providers return them); meaning is
strict (``"banana"``, ``null`` or a list where a block number belongs is refused).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ogpu.chain._errors import MalformedAnswer, hex_to_bytes

__all__ = ["check_result", "to_bytes", "to_int"]

_HEX_QUANTITY = re.compile(r"^0[xX][0-9a-fA-F]{1,64}$")
_HEX_DATA = re.compile(r"^0[xX](?:[0-9a-fA-F]{2})*$")
_MAX_SHOWN = 40


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _is_quantity(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and (
        bool(_HEX_QUANTITY.match(value)) or (value.isdigit() and len(value) <= 80)
    )


def _is_data(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray)) or (
        isinstance(value, str) and bool(_HEX_DATA.match(value))
    )


def to_int(value: Any, method: str = "answer") -> int:
    """Parse a JSON-RPC quantity (hex string, decimal string or int). No I/O.

    Raises:
        MalformedAnswer: anything else (also a ValueError and a TypeError).
    """
    if not _is_quantity(value):
        raise MalformedAnswer(method, f"malformed answer: not a quantity: {_shown(value)}")
    if isinstance(value, int):
        return value
    return int(value, 16) if value[:2] in ("0x", "0X") else int(value)


def to_bytes(value: Any, method: str = "answer") -> bytes:
    """Parse JSON-RPC data (hex string or bytes). No I/O.

    Raises:
        MalformedAnswer: anything else (also a ValueError and a TypeError).
    """
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and _is_data(value):
        decoded = hex_to_bytes(value)
        if decoded is not None:
            return decoded
    raise MalformedAnswer(method, f"malformed answer: not hex data: {_shown(value)}")


Check = Callable[[Any], bool]


def _nullable(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _object(required: Mapping[str, Check], optional: Mapping[str, Check]) -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, Mapping):
            return False
        if any(key not in value or not ok(value[key]) for key, ok in required.items()):
            return False
        return all(key not in value or ok(value[key]) for key, ok in optional.items())

    return check


def _list_of(check: Check) -> Check:
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


_LOG = _object(
    {"topics": _list_of(_is_data), "data": _is_data, "address": _is_data},
    {"blockNumber": _nullable(_is_quantity), "logIndex": _nullable(_is_quantity)},
)
_RECEIPT = _object(
    {"blockNumber": _is_quantity, "logs": _list_of(_LOG), "gasUsed": _is_quantity},
    {"status": _is_quantity, "blockHash": _is_data, "transactionHash": _is_data},
)
_BLOCK = _object(
    {"timestamp": _is_quantity},
    {
        "number": _nullable(_is_quantity),
        "hash": _nullable(_is_data),
        "baseFeePerGas": _is_quantity,
    },
)
_TRANSACTION = _object({}, {"blockNumber": _nullable(_is_quantity), "hash": _is_data})

_CHECKS: dict[str, tuple[str, Check]] = {
    **{
        m: ("a quantity", _is_quantity)
        for m in (
            "eth_chainId",
            "eth_blockNumber",
            "eth_gasPrice",
            "eth_maxPriorityFeePerGas",
            "eth_getTransactionCount",
            "eth_estimateGas",
            "eth_getBalance",
        )
    },
    **{m: ("hex data", _is_data) for m in ("eth_call", "eth_getCode", "eth_getStorageAt")},
    "eth_sendRawTransaction": ("a transaction hash", _is_data),
    "eth_getTransactionReceipt": ("a receipt or null", _nullable(_RECEIPT)),
    "eth_getBlockByNumber": ("a block or null", _nullable(_BLOCK)),
    "eth_getBlockByHash": ("a block or null", _nullable(_BLOCK)),
    "eth_getTransactionByHash": ("a transaction or null", _nullable(_TRANSACTION)),
    "eth_getLogs": ("a list of logs", _list_of(_LOG)),
}


def check_result(method: str, result: Any) -> Any:
    """``result`` unchanged when it has the shape ``method`` promises. No I/O.

    Raises:
        MalformedAnswer: it does not (``eth_chainId`` = ``"banana"``, a receipt whose
        ``blockNumber`` is null...).
    """
    found = _CHECKS.get(method)
    if found is not None and not found[1](result):
        raise MalformedAnswer(
            method, f"malformed answer: expected {found[0]}, got {_shown(result)}"
        )
    return result
