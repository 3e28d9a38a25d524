"""A pure-Python Solidity ABI codec: no eth-abi, no web3; standard library only.

``codec(types)`` parses a tuple of canonical ABI type strings once and returns a
:class:`Codec` whose ``encode(values)`` / ``decode(data)`` are closures compiled for
exactly those types, cached per tuple (the generated bindings pay the parse once per
function, not per call). Values follow eth-abi's conventions, so results compare equal.
See :mod:`ogpu.abi.codec`.
"""

from __future__ import annotations

from ogpu.abi.codec import (
    AbiTypeError,
    Codec,
    CodecError,
    DecodeError,
    EncodeError,
    codec,
    decode,
    encode,
)

__all__ = [
    "AbiTypeError",
    "Codec",
    "CodecError",
    "DecodeError",
    "EncodeError",
    "codec",
    "decode",
    "encode",
]
