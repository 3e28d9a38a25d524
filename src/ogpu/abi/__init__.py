"""A pure-Python Solidity ABI codec: no eth-abi, no web3; standard library only.

``codec(types)`` parses a tuple of canonical ABI type strings once and returns a
:class:`Codec` whose ``encode(values)`` / ``decode(data)`` are closures compiled for
exactly those types, cached per tuple (the generated bindings pay the parse once per
function, not per call). Values follow eth-abi's conventions, so results compare equal.
Type parsing, the head-tail layout and the API: ``_codec``; elementary types and the
errors: ``_elementary``; Keccak-256 and EIP-55 checksums: :mod:`ogpu.abi.keccak`.
"""

from __future__ import annotations

from ogpu.abi._codec import Codec, codec, decode, encode
from ogpu.abi._elementary import AbiTypeError, CodecError, DecodeError, EncodeError

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
