"""Content identifiers (CIDs): parsing, printing, and the CID of raw bytes.

The devnet store names content by a CIDv1 with the ``raw`` codec (0x55) over a
sha2-256 multihash, written in lower-case base32 multibase (``b`` prefix), which
is what ``ipfs add --cid-version=1 --raw-leaves`` produces for a single-block
file. Parsing also understands CIDv0 (``Qm…``, base58btc, dag-pb) and upper-case
base32. :mod:`ogpu.ipfs.verify` checks fetched content against them.
Everything here is pure computation: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from ogpu.errors import shown
from ogpu.types import InvalidInputError

RAW_CODEC = 0x55
DAG_PB_CODEC = 0x70
SHA2_256 = 0x12
SHA2_256_LENGTH = 32

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}
_MAX_CID_TEXT = 256


class InvalidCidError(InvalidInputError):
    """A string is not a well-formed CID (bad multibase, varint, version or multihash)."""


@dataclass(frozen=True)
class Cid:
    """A parsed CID: version, content codec, multihash function code and digest."""

    version: int
    codec: int
    hash_code: int
    digest: bytes

    @classmethod
    def of(cls, block: bytes, version: int = 1, codec: int = RAW_CODEC) -> Cid:
        """The sha2-256 CID of ``block`` (default: CIDv1, raw codec). No I/O.

        Raises InvalidCidError when ``block`` is no bytes.
        """
        return cls(version, codec, SHA2_256, hashlib.sha256(_binary(block)).digest())

    @property
    def multihash(self) -> bytes:
        """The binary multihash (function code, length, digest)."""
        return encode_varint(self.hash_code) + encode_varint(len(self.digest)) + self.digest

    def to_bytes(self) -> bytes:
        """Binary CID. CIDv0 is the bare multihash."""
        if self.version == 0:
            return self.multihash
        return encode_varint(self.version) + encode_varint(self.codec) + self.multihash

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.multihash)
        return "b" + _b32encode(self.to_bytes())


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128 varint (multiformats ``unsigned-varint``). No I/O.

    Raises InvalidCidError (a ValueError) unless ``value`` is an int >= 0.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidCidError(message=f"a varint value is an int >= 0, not {shown(value)}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Decode one varint at ``offset``; return (value, next offset). Raises InvalidCidError."""
    data = _binary(data)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidCidError(message=f"a varint offset is an int >= 0, not {shown(offset)}")
    value = 0
    shift = 0
    for index in range(offset, min(len(data), offset + 9)):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and index > offset:
                raise InvalidCidError("varint is not minimally encoded")
            return value, index + 1
        shift += 7
    raise InvalidCidError("truncated or oversized varint")


def cid_for_bytes(data: bytes) -> str:
    """The CIDv1 (raw codec, sha2-256, base32) string naming ``data``. No I/O."""
    return str(Cid.of(data))


def parse_cid(text: str) -> Cid:
    """Parse a CID string (CIDv1 base32 ``b``/``B``, or CIDv0 ``Qm…``). Raises InvalidCidError."""
    if not isinstance(text, str):
        raise InvalidCidError(f"a CID must be a string, not {type(text).__name__}")
    if not text or len(text) > _MAX_CID_TEXT:
        raise InvalidCidError("a CID must be 1 to 256 characters long")
    if len(text) == 46 and text.startswith("Qm"):
        raw = _b58decode(text)
        hash_code, length, digest = _parse_multihash(raw, 0)
        if hash_code != SHA2_256 or length != SHA2_256_LENGTH:
            raise InvalidCidError("a CIDv0 must be a sha2-256 multihash")
        return Cid(version=0, codec=DAG_PB_CODEC, hash_code=hash_code, digest=digest)
    prefix, body = text[0], text[1:]
    if prefix == "b":
        if body != body.lower():
            raise InvalidCidError("base32 ('b') CIDs must be lower case")
    elif prefix == "B":
        if body != body.upper():
            raise InvalidCidError("base32upper ('B') CIDs must be upper case")
    else:
        raise InvalidCidError(f"unsupported multibase prefix {prefix!r} (expected 'b' or 'B')")
    cid = _cid_v1(_b32decode(body))
    if cid.hash_code == SHA2_256 and len(cid.digest) != SHA2_256_LENGTH:
        raise InvalidCidError("a sha2-256 digest must be 32 bytes")
    return cid


def cid_from_bytes(raw: bytes) -> Cid:
    """Parse a binary CID (as dag-pb links hold them). Raises InvalidCidError."""
    raw = _binary(raw)
    if len(raw) == 34 and raw[:2] == bytes([SHA2_256, SHA2_256_LENGTH]):
        return Cid(version=0, codec=DAG_PB_CODEC, hash_code=SHA2_256, digest=raw[2:])
    return _cid_v1(raw)


def _binary(value: object) -> bytes:
    """``value`` (bytes, bytearray or memoryview) as bytes. Raises InvalidCidError."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidCidError(message=f"expected bytes, not {type(value).__name__}")
    return bytes(value)


def _cid_v1(raw: bytes) -> Cid:
    """A binary CIDv1: version, codec, multihash. Raises InvalidCidError."""
    version, offset = decode_varint(raw, 0)
    if version != 1:
        raise InvalidCidError(f"unsupported CID version {version}")
    codec, offset = decode_varint(raw, offset)
    hash_code, _, digest = _parse_multihash(raw, offset)
    return Cid(version=1, codec=codec, hash_code=hash_code, digest=digest)


def _parse_multihash(raw: bytes, offset: int) -> tuple[int, int, bytes]:
    hash_code, offset = decode_varint(raw, offset)
    length, offset = decode_varint(raw, offset)
    digest = raw[offset:]
    if len(digest) != length:
        raise InvalidCidError(
            f"multihash digest length {len(digest)} does not match its header ({length})"
        )
    if length == 0:
        raise InvalidCidError("multihash digest is empty")
    return hash_code, length, digest


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _b32decode(body: str) -> bytes:
    upper = body.upper()
    if not upper or any(char not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for char in upper):
        raise InvalidCidError("invalid base32 text")
    if len(upper) % 8 in (1, 3, 6):
        raise InvalidCidError("invalid base32 length")
    padded = upper + "=" * (-len(upper) % 8)
    decoded = base64.b32decode(padded)
    if _b32encode(decoded) != body.lower():
        raise InvalidCidError("non-canonical base32 text")
    return decoded


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        chars.append(_B58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(chars))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58_INDEX.get(char)
        if index is None:
            raise InvalidCidError(f"invalid base58 character {char!r}")
        number = number * 58 + index
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_zeros + body
