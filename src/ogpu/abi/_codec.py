"""The ABI codec: type parsing, containers (head-tail layout) and the public API.

``codec(types)`` parses a tuple of canonical ABI type strings once and returns a
:class:`Codec` whose ``encode(values)`` / ``decode(data)`` are closures compiled for
exactly those types (cached per tuple: the generated bindings pay the parse once per
function, not per call). Values follow eth-abi's conventions, so results compare
equal: ints as ``int``, ``bool``, addresses decoded as lowercase ``0x`` strings
(encoded from any-case hex strings or 20 bytes; the EIP-55 checksum is the caller's
check), ``bytes``/``bytesN`` as ``bytes``, ``string`` as ``str``, arrays and tuples
decoded as ``tuple`` (encoded from lists or tuples).

Decoding is as strict as eth-abi's default: every padding byte checked, bools 0 or 1,
strings valid UTF-8, every dynamic pointer past its container's head and inside the
data, lengths within the data (so a hostile length costs no memory). Supported types:
``uint<N>``, ``int<N>``, ``address``, ``bool``, ``bytes<N>``, ``function``,
``bytes``, ``string``, ``T[k]``, ``T[]`` and tuples ``(T1,...,Tn)``, nested freely.

Errors: :class:`AbiTypeError` (a type string this codec cannot parse),
:class:`EncodeError` (a value that does not fit its type), :class:`DecodeError`
(data that is not a valid encoding). All derive from :class:`CodecError`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ogpu.abi._elementary import (
    BASIC,
    AbiTypeError,
    Compiled,
    DecodeError,
    Decoder,
    EncodeError,
    Encoder,
    fixed_bytes,
    int_type,
    uint_type,
    word,
)

# -- parsing -------------------------------------------------------------------------------------


def _split_components(inner: str, whole: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise AbiTypeError(f"unbalanced parentheses in ABI type {whole!r}")
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if depth != 0:
        raise AbiTypeError(f"unbalanced parentheses in ABI type {whole!r}")
    parts.append(inner[start:])
    if parts == [""]:
        return []
    if any(not p for p in parts):
        raise AbiTypeError(f"empty component in ABI type {whole!r}")
    return parts


def _compile(type_str: str) -> Compiled:
    """Parse and compile one canonical type string (arrays from the outermost suffix)."""
    if type_str.endswith("]"):
        start = type_str.rfind("[")
        if start <= 0:
            raise AbiTypeError(f"malformed array type {type_str!r}")
        size_text = type_str[start + 1 : -1]
        item = _compile_cached(type_str[:start])
        if size_text == "":
            return _dynamic_array(type_str, item)
        if not size_text.isdigit() or size_text.startswith("0"):
            raise AbiTypeError(f"bad array size in ABI type {type_str!r}")
        return _fixed_array(type_str, item, int(size_text))
    if type_str.startswith("("):
        if not type_str.endswith(")"):
            raise AbiTypeError(f"malformed tuple type {type_str!r}")
        parts = _split_components(type_str[1:-1], type_str)
        return _tuple(type_str, [_compile_cached(p) for p in parts])
    return _elementary(type_str)


def _elementary(name: str) -> Compiled:
    if name in ("address", "bool", "string", "bytes", "function"):
        return BASIC[name]()
    for prefix, make in (("uint", uint_type), ("int", int_type), ("bytes", fixed_bytes)):
        if name.startswith(prefix):
            size = name[len(prefix) :]
            if size == "" and prefix != "bytes":
                return make(256, name)
            if size.isdigit() and not size.startswith("0"):
                return make(int(size), name)
    raise AbiTypeError(f"unsupported ABI type {name!r}")


# -- containers ---------------------------------------------------------------------------------


def _encode_items(items: Sequence[Compiled], values: Sequence[Any]) -> bytes:
    """Head-tail encoding of ``values`` (already length-checked) as ``items``."""
    heads: list[bytes] = []
    tails: list[bytes] = []
    offset = sum(item.head for item in items)
    for item, value in zip(items, values, strict=True):
        encoded = item.encode(value)
        if item.dynamic:
            heads.append(offset.to_bytes(32, "big"))
            tails.append(encoded)
            offset += len(encoded)
        else:
            heads.append(encoded)
    return b"".join(heads) + b"".join(tails)


def _static_encoder(items: Sequence[Compiled], name: str) -> Encoder:
    encoders = [item.encode for item in items]
    count = len(encoders)

    def enc(values: Any) -> bytes:
        _check_seq(values, count, name)
        return b"".join([e(v) for e, v in zip(encoders, values, strict=True)])

    return enc


def _check_seq(values: Any, count: int | None, name: str) -> None:
    if not isinstance(values, (list, tuple)):
        raise EncodeError(f"{name} needs a list or tuple, got {type(values).__name__}")
    if count is not None and len(values) != count:
        raise EncodeError(f"{name} needs {count} values, got {len(values)}")


def _heads(items: Sequence[Compiled]) -> list[int]:
    out: list[int] = []
    at = 0
    for item in items:
        out.append(at)
        at += item.head
    return out


def _items_decoder(items: Sequence[Compiled], name: str, head_words: int) -> Decoder:
    """Decoder of ``items`` laid out head-tail from ``pos``; pointers must land at or past
    ``head_words`` words (eth-abi's check) and inside the data."""
    decoders = [
        (item.decode, at, item.dynamic) for item, at in zip(items, _heads(items), strict=True)
    ]
    if not any(item.dynamic for item in items):
        return lambda buf, pos: tuple([d(buf, pos + at) for d, at, _ in decoders])
    floor = 32 * head_words

    def dec(buf: bytes, pos: int) -> tuple[Any, ...]:
        size = len(buf)
        starts: list[int] = []
        for _, at, dynamic in decoders:
            if dynamic:
                offset = int.from_bytes(word(buf, pos + at, name), "big")
                if offset < floor or pos + offset >= size:
                    raise DecodeError(f"{name}: invalid pointer at offset {pos + at}")
                starts.append(pos + offset)
            else:
                starts.append(pos + at)
        return tuple([d(buf, start) for (d, _, _), start in zip(decoders, starts, strict=True)])

    return dec


def _tuple(name: str, items: list[Compiled]) -> Compiled:
    dynamic = any(item.dynamic for item in items)
    quirk = sum(item.quirk_words for item in items)
    decoder = _items_decoder(items, name, quirk)
    if dynamic:

        def enc(values: Any) -> bytes:
            _check_seq(values, len(items), name)
            return _encode_items(items, values)

        return Compiled(name, enc, decoder, True, 32, 1)
    head = sum(item.head for item in items)
    return Compiled(name, _static_encoder(items, name), decoder, False, head, 1)


def _fixed_array(name: str, item: Compiled, size: int) -> Compiled:
    items = [item] * size
    decoder = _items_decoder(items, name, size)
    if item.dynamic:

        def enc(values: Any) -> bytes:
            _check_seq(values, size, name)
            return _encode_items(items, values)

        return Compiled(name, enc, decoder, True, 32, 1)
    return Compiled(name, _static_encoder(items, name), decoder, False, item.head * size, size)


def _dynamic_array(name: str, item: Compiled) -> Compiled:
    def enc(values: Any) -> bytes:
        _check_seq(values, None, name)
        return len(values).to_bytes(32, "big") + _encode_items([item] * len(values), values)

    item_dec, item_head, item_dynamic = item.decode, item.head, item.dynamic

    def dec(buf: bytes, pos: int) -> tuple[Any, ...]:
        count = int.from_bytes(word(buf, pos, name), "big")
        base = pos + 32
        size = len(buf)
        if base + count * item_head > size:
            raise DecodeError(f"{name} at offset {pos}: {count} items run past the data")
        if not item_dynamic:
            return tuple([item_dec(buf, base + i * item_head) for i in range(count)])
        floor = 32 * count
        starts: list[int] = []
        for i in range(count):
            offset = int.from_bytes(buf[base + 32 * i : base + 32 * i + 32], "big")
            if offset < floor or base + offset >= size:
                raise DecodeError(f"{name}: invalid pointer at offset {base + 32 * i}")
            starts.append(base + offset)
        return tuple([item_dec(buf, start) for start in starts])

    return Compiled(name, enc, dec, True, 32, 1)


# -- public API ---------------------------------------------------------------------------------


_types_cache: dict[str, Compiled] = {}
_codecs: dict[tuple[str, ...], Codec] = {}
_lock = threading.Lock()


def _compile_cached(type_str: str) -> Compiled:
    found = _types_cache.get(type_str)
    if found is None:
        found = _compile(type_str.strip())
        _types_cache[type_str] = found
    return found


class Codec:
    """Encoder and decoder of one tuple of ABI types, compiled once. Thread-safe; no I/O."""

    __slots__ = ("_decode", "_encode", "types")

    def __init__(self, types: tuple[str, ...]) -> None:
        """Raises AbiTypeError for a type string it does not support."""
        self.types = types
        compiled = _tuple("(" + ",".join(types) + ")", [_compile_cached(t) for t in types])
        self._encode = compiled.encode
        self._decode = compiled.decode

    def __repr__(self) -> str:
        return f"Codec({self.types!r})"

    def encode(self, values: Sequence[Any]) -> bytes:
        """Head-tail encoding of ``values``. Raises EncodeError."""
        try:
            return self._encode(values)
        except RecursionError:
            raise EncodeError("values nested too deeply") from None

    def decode(self, data: bytes | bytearray | memoryview) -> tuple[Any, ...]:
        """The values ``data`` encodes (trailing bytes ignored, as eth-abi). Raises DecodeError."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError(f"data must be bytes, got {type(data).__name__}")
        # exactly bytes: a subclass (web3's HexBytes) would slice and hex() differently
        buf = data if type(data) is bytes else bytes(data)
        try:
            result: tuple[Any, ...] = self._decode(buf, 0)
        except RecursionError:
            raise DecodeError("data nested too deeply") from None
        return result


def codec(types: Sequence[str]) -> Codec:
    """The compiled codec of ``types`` (cached). No I/O. Raises AbiTypeError."""
    key = tuple(types)
    found = _codecs.get(key)
    if found is None:
        with _lock:
            found = _codecs.get(key)
            if found is None:
                found = Codec(key)
                _codecs[key] = found
    return found


def encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """``codec(types).encode(values)``. Raises AbiTypeError, EncodeError."""
    return codec(types).encode(values)


def decode(types: Sequence[str], data: bytes | bytearray | memoryview) -> tuple[Any, ...]:
    """``codec(types).decode(data)``. Raises AbiTypeError, DecodeError."""
    return codec(types).decode(data)
