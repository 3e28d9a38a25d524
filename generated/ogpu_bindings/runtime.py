"""Runtime support of the generated contract modules (hand-written, not generated).

ContractCall and TxRequest are what the generated functions return; check_* validate arguments
before any RPC (InvalidInputError subclasses); as_* type decoded values; the log helpers read
web3 LogReceipts or dicts of hex strings. Every ABI encoding goes through `encode_call`, every
decoding through `decode_values`: the SDK's own codec (ogpu.abi) and keccak (ogpu.abi.keccak).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, Flag
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar, cast

from ogpu import abi as _abi
from ogpu.abi.keccak import to_checksum_address as _to_checksum
from ogpu.errors import (
    AbiDecodeError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidEnumValueError,
    InvalidParamsError,
    OGPUError,
    RPCError,
)
from ogpu_bindings.errors import revert_from_exception

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress
    from web3 import Web3
    from web3.types import BlockIdentifier

T = TypeVar("T")
E = TypeVar("E", bound=Enum)
S = TypeVar("S", bound="AbiStruct")

LogLike = Mapping[str, Any]
"""A log as web3 returns it (LogReceipt / AttributeDict) or a dict of JSON-RPC hex strings."""

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_HEX = re.compile(r"0x([0-9a-fA-F]{2})*\Z")


# -- values returned by generated functions -------------------------------------------------------


@dataclass(frozen=True)
class ContractCall(Generic[T]):
    """A prepared read: calldata plus the decoder of its answer. Building one costs no RPC."""

    to: str
    """Checksummed contract address."""
    data: bytes
    """Calldata (selector + encoded arguments)."""
    signature: str
    """Solidity signature, e.g. `getStatus()`."""
    decoder: Callable[[bytes], T] = field(repr=False, compare=False)
    contract: str = ""
    """Solidity contract name."""
    function: str = ""
    """Solidity function name."""
    output_size: int | None = None
    """Bytes of the encoded answer when fixed by the ABI; None when it holds a string, bytes
    or a dynamic array (its size is then known only from the answer)."""

    def decode(self, data: bytes) -> T:
        """Decode the raw eth_call answer. No RPC. Raises AbiDecodeError."""
        if not data:
            raise AbiDecodeError(
                f"{self.contract}.{self.function} at {self.to} returned no data: the address has "
                f"no contract code or is not a {self.contract} contract on this network.",
                signature=self.signature,
            )
        return self.decoder(bytes(data))

    def call(self, w3: Web3, block_identifier: BlockIdentifier = "latest") -> T:
        """Run it: one eth_call. Raises a TxRevertError subclass if it reverts, RPCError on
        transport failure, AbiDecodeError if the answer does not decode."""
        try:
            raw = w3.eth.call(
                {"to": cast("ChecksumAddress", self.to), "data": self.data}, block_identifier
            )
        except OGPUError:
            raise
        except Exception as exc:
            revert = revert_from_exception(exc, contract=self.contract, function=self.function)
            if revert is not None:
                raise revert from exc
            raise RPCError(
                f"eth_call {self.contract}.{self.function} at {self.to} failed: "
                f"{type(exc).__name__}: {_short(exc)}. Check the RPC endpoint and retry.",
                method="eth_call",
                cause=f"{type(exc).__name__}: {_short(exc)}",
            ) from exc
        return self.decode(bytes(raw))


@dataclass(frozen=True)
class TxRequest:
    """A prepared write: everything the executor needs except keys, nonce and gas. No RPC."""

    contract: str
    """Solidity contract name."""
    function: str
    """Solidity function name."""
    signature: str
    """Solidity signature, e.g. `lock(uint256)`."""
    to: str
    """Checksummed contract address."""
    args: tuple[Any, ...]
    """The Python arguments as passed."""
    data: bytes
    """Calldata (selector + encoded arguments)."""
    value: int = 0
    """Wei sent with the call (payable functions only)."""


class LogMeta(NamedTuple):
    """Where a log came from."""

    address: str
    block_number: int
    transaction_hash: str
    log_index: int


class ContractEvent:
    """Base of every generated event dataclass."""

    NAME: ClassVar[str]
    SIGNATURE: ClassVar[str]
    TOPIC: ClassVar[str]
    address: str
    block_number: int
    transaction_hash: str
    log_index: int


class AbiStruct:
    """Base of every generated struct dataclass."""

    ABI_TYPE: ClassVar[str]

    def to_abi(self) -> tuple[Any, ...]:
        """Validated tuple for eth-abi. No RPC. Raises InvalidInputError subclasses."""
        raise NotImplementedError


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


# -- argument validation (no RPC) -----------------------------------------------------------------


def _type_name(value: object) -> str:
    return type(value).__name__


def check_address(value: object, param: str) -> str:
    """Checksummed form of a 0x-prefixed 20-byte hex address. Raises InvalidAddressError."""
    if not isinstance(value, str):
        raise InvalidAddressError(
            f"{param!r} must be an address string, got {_type_name(value)}; "
            "pass a 0x-prefixed 40-hex-digit address.",
            param=param,
        )
    if not _HEX_ADDRESS.match(value):
        raise InvalidAddressError(
            f"{param!r} is not an address: expected 0x followed by 40 hex digits, got a string "
            f"of length {len(value)}.",
            param=param,
        )
    body = value[2:]
    checksummed = _checksum(body.lower())
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise InvalidAddressError(
            f"{param!r} has an invalid EIP-55 checksum (mixed case that does not match); "
            "copy the address again or pass it in one case.",
            param=param,
        )
    return checksummed


def _checksum(lower_hex: str) -> str:
    """EIP-55 form of 40 lowercase hex digits (cached; ogpu.abi.keccak)."""
    return _to_checksum(lower_hex)


def _bound(n: int) -> str:
    """`n`, written as a power of two (`2**256 - 1`, `-2**127`, `2**256`) when it is a huge one."""
    m = abs(n)
    if m < 2**32:
        return str(n)
    sign = "-" if n < 0 else ""
    if m & (m - 1) == 0:
        return f"{sign}2**{m.bit_length() - 1}"
    if (m + 1) & m == 0:
        return f"{sign}(2**{m.bit_length()} - 1)" if sign else f"2**{m.bit_length()} - 1"
    return str(n)


def _int(value: object, low: int, high: int, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmountError(
            f"{param!r} must be an int, got {_type_name(value)}.",
            param=param,
            minimum=low,
            maximum=high,
        )
    if not low <= value <= high:
        raise InvalidAmountError(
            f"{param!r} must be between {_bound(low)} and {_bound(high)}, got {_bound(value)}.",
            param=param,
            value=value,
            minimum=low,
            maximum=high,
        )
    return int(value)


def check_uint(value: object, bits: int, param: str) -> int:
    """`value` if it is an int in [0, 2**bits - 1]. Raises InvalidAmountError."""
    return _int(value, 0, 2**bits - 1, param)


def check_int(value: object, bits: int, param: str) -> int:
    """`value` if it is an int in the signed range of intN. Raises InvalidAmountError."""
    return _int(value, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1, param)


def check_enum(value: object, enum_cls: type[Enum], param: str) -> int:
    """Integer value of an enum member or of an int naming one (any OR of flags for IntFlag).
    Raises InvalidEnumValueError."""
    name = enum_cls.__name__
    if isinstance(value, enum_cls):
        return int(value.value)
    if isinstance(value, (Enum, bool)) or not isinstance(value, int):
        raise InvalidEnumValueError(
            f"{param!r} must be a {name} member or its int value, got {_type_name(value)}.",
            param=param,
            enum_name=name,
        )
    values = [int(m.value) for m in enum_cls]
    if issubclass(enum_cls, Flag):
        mask = 0
        for v in values:
            mask |= v
        ok = value >= 0 and value & ~mask == 0
    else:
        ok = value in values
    if not ok:
        allowed = ", ".join(f"{m.name}={int(m.value)}" for m in enum_cls)
        raise InvalidEnumValueError(
            f"{param!r}: {value} is not a valid {name} ({allowed}).",
            param=param,
            enum_name=name,
            value=value,
        )
    return value


def check_bool(value: object, param: str) -> bool:
    """`value` if it is a bool. Raises InvalidParamsError."""
    if not isinstance(value, bool):
        raise InvalidParamsError(f"{param!r} must be a bool, got {_type_name(value)}.", param=param)
    return value


def check_str(value: object, param: str) -> str:
    """`value` if it is a str. Raises InvalidParamsError."""
    if not isinstance(value, str):
        raise InvalidParamsError(f"{param!r} must be a str, got {_type_name(value)}.", param=param)
    return value


def check_bytes(value: object, size: int | None, param: str) -> bytes:
    """Bytes from bytes-like or 0x-hex input, exactly `size` long when given.
    Raises InvalidParamsError."""
    if isinstance(value, str):
        if not _HEX.match(value):
            raise InvalidParamsError(
                f"{param!r} must be bytes or a 0x-prefixed hex string with an even number of "
                "digits.",
                param=param,
            )
        out = bytes.fromhex(value[2:])
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out = bytes(value)
    else:
        raise InvalidParamsError(
            f"{param!r} must be bytes or a 0x-prefixed hex string, got {_type_name(value)}.",
            param=param,
        )
    if size is not None and len(out) != size:
        raise InvalidParamsError(
            f"{param!r} must be exactly {size} bytes, got {len(out)}.", param=param
        )
    return out


def check_seq(value: object, length: int | None, param: str) -> Sequence[Any]:
    """`value` if it is a list or tuple (of exactly `length` items when given).
    Raises InvalidParamsError."""
    if not isinstance(value, (list, tuple)):
        raise InvalidParamsError(
            f"{param!r} must be a list or tuple, got {_type_name(value)}.", param=param
        )
    if length is not None and len(value) != length:
        raise InvalidParamsError(
            f"{param!r} must have exactly {length} items, got {len(value)}.", param=param
        )
    return value


def check_tuple(value: object, length: int, param: str) -> Sequence[Any]:
    """`value` if it is a tuple or list of exactly `length` items. Raises InvalidParamsError."""
    return check_seq(value, length, param)


def check_struct(value: object, cls: type[S], param: str) -> S:
    """`value` if it is an instance of the struct dataclass `cls`. Raises InvalidParamsError."""
    if not isinstance(value, cls):
        raise InvalidParamsError(
            f"{param!r} must be a {cls.__name__}, got {_type_name(value)}.", param=param
        )
    return value


def encode_call(selector: bytes, types: tuple[str, ...], values: tuple[Any, ...]) -> bytes:
    """Calldata: selector + ABI-encoded values (already validated). Raises InvalidParamsError."""
    try:
        return selector + _abi.codec(types).encode(values)
    except (_abi.EncodeError, _abi.AbiTypeError) as exc:
        raise InvalidParamsError(f"cannot ABI-encode the arguments: {exc}") from exc


# -- decoding -------------------------------------------------------------------------------------


def decode_values(types: tuple[str, ...], data: bytes, signature: str) -> tuple[Any, ...]:
    """Decode `data` as `types` (ogpu.abi, as strict as eth-abi). Raises AbiDecodeError."""
    try:
        return _abi.codec(types).decode(data)
    except (_abi.DecodeError, _abi.AbiTypeError) as exc:
        raise AbiDecodeError(
            f"cannot decode {signature} data ({len(data)} bytes) as {', '.join(types)}: {exc}",
            signature=signature,
        ) from exc


def as_int(raw: object) -> int:
    """A decoded integer."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise AbiDecodeError(f"expected a decoded int, got {_type_name(raw)}")
    return raw


def as_bool(raw: object) -> bool:
    """A decoded bool."""
    if not isinstance(raw, bool):
        raise AbiDecodeError(f"expected a decoded bool, got {_type_name(raw)}")
    return raw


def as_str(raw: object) -> str:
    """A decoded string."""
    if not isinstance(raw, str):
        raise AbiDecodeError(f"expected a decoded str, got {_type_name(raw)}")
    return raw


def as_bytes(raw: object) -> bytes:
    """Decoded bytes."""
    if not isinstance(raw, (bytes, bytearray)):
        raise AbiDecodeError(f"expected decoded bytes, got {_type_name(raw)}")
    return bytes(raw)


def as_address(raw: object) -> str:
    """A decoded address, checksummed."""
    if not isinstance(raw, str) or not _HEX_ADDRESS.match(raw):
        raise AbiDecodeError(f"expected a decoded address, got {_type_name(raw)}")
    return _checksum(raw[2:].lower())


def as_seq(raw: object) -> Sequence[Any]:
    """A decoded array or tuple."""
    if not isinstance(raw, (list, tuple)):
        raise AbiDecodeError(f"expected a decoded sequence, got {_type_name(raw)}")
    return raw


def as_enum(enum_cls: type[E], raw: object) -> E:
    """A decoded enum value. IntFlag values keep unknown bits; other unknown values raise
    AbiDecodeError (the bindings are older than the contract)."""
    value = as_int(raw)
    try:
        return enum_cls(value)
    except ValueError:
        raise AbiDecodeError(
            f"the chain returned {value}, which is not a {enum_cls.__name__} member; "
            "the bindings may be older than the contract."
        ) from None


# -- logs -----------------------------------------------------------------------------------------


def _hex_bytes(value: object, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and _HEX.match(value):
        return bytes.fromhex(value[2:])
    raise AbiDecodeError(f"log {what} must be bytes or 0x-hex, got {_type_name(value)}")


def _log_int(log: LogLike, key: str) -> int:
    value = log.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise AbiDecodeError(
        f"log field {key!r} must be an int or 0x-hex string, got {_type_name(value)} "
        "(pending logs cannot be decoded)"
    )


def log_topics(log: LogLike) -> list[bytes]:
    """The log's topics as 32-byte values. Raises AbiDecodeError."""
    topics = log.get("topics")
    if not isinstance(topics, (list, tuple)):
        raise AbiDecodeError("log has no 'topics' list")
    out = [_hex_bytes(t, "topic") for t in topics]
    if any(len(t) != 32 for t in out):
        raise AbiDecodeError("log topics must be 32 bytes each")
    return out


def log_data(log: LogLike) -> bytes:
    """The log's data bytes. Raises AbiDecodeError."""
    return _hex_bytes(log.get("data", b""), "data")


def log_meta(log: LogLike) -> LogMeta:
    """Address (checksummed), block number, transaction hash (0x hex) and log index of a log.
    Raises AbiDecodeError when one is missing."""
    address = log.get("address")
    if not isinstance(address, str) or not _HEX_ADDRESS.match(address):
        raise AbiDecodeError(f"log 'address' must be an address, got {_type_name(address)}")
    tx_hash = _hex_bytes(log.get("transactionHash"), "transactionHash")
    if len(tx_hash) != 32:
        raise AbiDecodeError("log 'transactionHash' must be 32 bytes")
    return LogMeta(
        _checksum(address[2:].lower()),
        _log_int(log, "blockNumber"),
        "0x" + tx_hash.hex(),
        _log_int(log, "logIndex"),
    )


def check_log(log: LogLike, topic0: str, n_topics: int, signature: str) -> list[bytes]:
    """Topics of `log` after checking it is the event `signature`. Raises AbiDecodeError."""
    topics = log_topics(log)
    if topic0 and (not topics or "0x" + topics[0].hex() != topic0):
        raise AbiDecodeError(
            f"log is not a {signature} event (topic0 differs)", signature=signature
        )
    if len(topics) != n_topics:
        raise AbiDecodeError(
            f"{signature} log must have {n_topics} topics, got {len(topics)}", signature=signature
        )
    return topics


def decode_topic(abi_type: str, topic: bytes) -> Any:
    """Decode a static indexed argument from its topic."""
    return decode_values((abi_type,), topic, abi_type)[0]
