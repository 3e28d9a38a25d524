"""Elementary ABI types for :mod:`ogpu.abi`: their compiled encoders and decoders, the
compiled-type record and the codec's errors. Standard library only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class CodecError(Exception):
    """Base of the codec's errors."""


class AbiTypeError(CodecError):
    """A type string the codec cannot parse or does not support."""


class EncodeError(CodecError):
    """A value that cannot be encoded as its ABI type."""


class DecodeError(CodecError):
    """Data that is not a valid ABI encoding of the expected types."""


Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes, int], Any]

_ZERO32 = bytes(32)


@dataclass(frozen=True)
class Compiled:
    """One type, compiled: its encoder and decoder and its shape in a head."""

    name: str
    encode: Encoder
    decode: Decoder
    dynamic: bool
    head: int
    """Bytes the value takes in its container's head (32 when dynamic)."""
    quirk_words: int
    """Words eth-abi counts for it when checking pointers (1, or k for a static T[k])."""


# -- elementary types ---------------------------------------------------------------------------


def word(buf: bytes, pos: int, what: str) -> bytes:
    w = buf[pos : pos + 32]
    if len(w) != 32:
        raise DecodeError(f"{what}: need 32 bytes at offset {pos}, the data has {len(buf)}")
    return w


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def uint_type(bits: int, name: str) -> Compiled:
    if bits % 8 or not 8 <= bits <= 256:
        raise AbiTypeError(f"unsupported ABI type {name!r}")
    limit = 1 << bits

    def enc(value: Any) -> bytes:
        if not _is_int(value):
            raise EncodeError(f"{name} needs an int, got {type(value).__name__}")
        if not 0 <= value < limit:
            raise EncodeError(f"{value} is out of range for {name}")
        return int(value).to_bytes(32, "big")

    def dec(buf: bytes, pos: int) -> int:
        value = int.from_bytes(word(buf, pos, name), "big")
        if value >= limit:
            raise DecodeError(f"{name} at offset {pos}: non-zero padding bytes")
        return value

    return Compiled(name, enc, dec, False, 32, 1)


def int_type(bits: int, name: str) -> Compiled:
    if bits % 8 or not 8 <= bits <= 256:
        raise AbiTypeError(f"unsupported ABI type {name!r}")
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def enc(value: Any) -> bytes:
        if not _is_int(value):
            raise EncodeError(f"{name} needs an int, got {type(value).__name__}")
        if not low <= value <= high:
            raise EncodeError(f"{value} is out of range for {name}")
        return int(value).to_bytes(32, "big", signed=True)

    def dec(buf: bytes, pos: int) -> int:
        value = int.from_bytes(word(buf, pos, name), "big", signed=True)
        if not low <= value <= high:
            raise DecodeError(f"{name} at offset {pos}: padding is not the sign extension")
        return value

    return Compiled(name, enc, dec, False, 32, 1)


_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


def _address() -> Compiled:
    def enc(value: Any) -> bytes:
        if isinstance(value, str):
            digits = value[2:] if value[:2] in ("0x", "0X") else value
            if len(digits) != 40 or not _HEXDIGITS.issuperset(digits):
                raise EncodeError("address needs 40 hex digits (0x-prefixed or not)")
            return bytes(12) + bytes.fromhex(digits)
        if isinstance(value, (bytes, bytearray)) and len(value) == 20:
            return bytes(12) + bytes(value)
        raise EncodeError(f"address needs a hex string or 20 bytes, got {type(value).__name__}")

    def dec(buf: bytes, pos: int) -> str:
        w = word(buf, pos, "address")
        if w[:12] != _ZERO32[:12]:
            raise DecodeError(f"address at offset {pos}: non-zero padding bytes")
        return "0x" + w[12:].hex()

    return Compiled("address", enc, dec, False, 32, 1)


_TRUE = (1).to_bytes(32, "big")


def _bool() -> Compiled:
    def enc(value: Any) -> bytes:
        if not isinstance(value, bool):
            raise EncodeError(f"bool needs a bool, got {type(value).__name__}")
        return _TRUE if value else _ZERO32

    def dec(buf: bytes, pos: int) -> bool:
        w = word(buf, pos, "bool")
        if w == _ZERO32:
            return False
        if w == _TRUE:
            return True
        raise DecodeError(f"bool at offset {pos} is neither 0 nor 1")

    return Compiled("bool", enc, dec, False, 32, 1)


def fixed_bytes(size: int, name: str) -> Compiled:
    if not 1 <= size <= 32:
        raise AbiTypeError(f"unsupported ABI type {name!r}")
    zeros = bytes(32 - size)

    def enc(value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray)):
            raise EncodeError(f"{name} needs bytes, got {type(value).__name__}")
        if len(value) > size:
            raise EncodeError(f"{name} holds at most {size} bytes, got {len(value)}")
        return bytes(value).ljust(32, b"\0")

    def dec(buf: bytes, pos: int) -> bytes:
        w = word(buf, pos, name)
        if w[size:] != zeros:
            raise DecodeError(f"{name} at offset {pos}: non-zero padding bytes")
        return w[:size]

    return Compiled(name, enc, dec, False, 32, 1)


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 32)


def _read_bytes(buf: bytes, pos: int, name: str) -> bytes:
    length = int.from_bytes(word(buf, pos, name), "big")
    start = pos + 32
    end = start + length
    padded = start + length + (-length % 32)
    if padded > len(buf):
        raise DecodeError(f"{name} at offset {pos}: length {length} runs past the data")
    if buf[end:padded].count(0) != padded - end:
        raise DecodeError(f"{name} at offset {pos}: non-zero padding bytes")
    return buf[start:end]


def _bytes() -> Compiled:
    def enc(value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray)):
            raise EncodeError(f"bytes needs bytes, got {type(value).__name__}")
        return len(value).to_bytes(32, "big") + _pad(bytes(value))

    def dec(buf: bytes, pos: int) -> bytes:
        return _read_bytes(buf, pos, "bytes")

    return Compiled("bytes", enc, dec, True, 32, 1)


def _string() -> Compiled:
    def enc(value: Any) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"string needs a str, got {type(value).__name__}")
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodeError(f"string is not encodable as UTF-8: {exc.reason}") from None
        return len(raw).to_bytes(32, "big") + _pad(raw)

    def dec(buf: bytes, pos: int) -> str:
        raw = _read_bytes(buf, pos, "string")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"string at offset {pos} is not UTF-8: {exc.reason}") from None

    return Compiled("string", enc, dec, True, 32, 1)


BASIC: dict[str, Callable[[], Compiled]] = {
    "address": _address,
    "bool": _bool,
    "bytes": _bytes,
    "string": _string,
    "function": lambda: fixed_bytes(24, "function"),
}
