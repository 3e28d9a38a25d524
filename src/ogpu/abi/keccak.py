"""Keccak-256 and EIP-55 checksums without eth-hash's import on the first calls.

A process that hashes a handful of values (a CLI command, the first read of a script)
pays no backend import: the first ``PURE_CALLS`` digests are computed in Python
(about 0.3 ms each). Past that, the C backend loads once (pycryptodome, which the
SDK's eth-hash dependency brings; ~20 ms to import) and every later digest costs
microseconds, so long lists of addresses stay fast. Standard library only until then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["PURE_CALLS", "keccak256", "to_checksum_address"]

#: Digests computed in Python before the C backend is loaded.
PURE_CALLS = 48

_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ROT = (
    0,
    1,
    62,
    28,
    27,
    36,
    44,
    6,
    55,
    20,
    3,
    10,
    43,
    25,
    39,
    41,
    45,
    15,
    21,
    8,
    18,
    2,
    61,
    56,
    14,
)
_MASK = (1 << 64) - 1
_RATE = 136
# rho and pi as one table: lane i (x + 5y), rotated, lands at lane y + 5((2x + 3y) mod 5)
_STEPS = tuple(
    (i, (i // 5) + 5 * ((2 * (i % 5) + 3 * (i // 5)) % 5), _ROT[i], i % 5) for i in range(25)
)


def _permute(a: list[int]) -> None:
    """Keccak-f[1600] on 25 64-bit lanes, in place."""
    m = _MASK
    for rc in _RC:
        c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
        c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
        c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
        c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
        c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
        d = (
            c4 ^ (((c1 << 1) | (c1 >> 63)) & m),
            c0 ^ (((c2 << 1) | (c2 >> 63)) & m),
            c1 ^ (((c3 << 1) | (c3 >> 63)) & m),
            c2 ^ (((c4 << 1) | (c4 >> 63)) & m),
            c3 ^ (((c0 << 1) | (c0 >> 63)) & m),
        )
        b = [0] * 25
        for i, j, r, x in _STEPS:
            v = a[i] ^ d[x]
            b[j] = ((v << r) | (v >> (64 - r))) & m if r else v
        for y in range(0, 25, 5):
            b0, b1, b2, b3, b4 = b[y : y + 5]
            a[y] = b0 ^ (~b1 & b2)
            a[y + 1] = b1 ^ (~b2 & b3)
            a[y + 2] = b2 ^ (~b3 & b4)
            a[y + 3] = b3 ^ (~b4 & b0)
            a[y + 4] = b4 ^ (~b0 & b1)
        a[0] ^= rc


def _pure_keccak(data: bytes) -> bytes:
    padded = bytearray(data)
    padded.append(1)
    padded.extend(bytes(-len(padded) % _RATE))
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), _RATE):
        for i in range(17):
            at = start + 8 * i
            lanes[i] ^= int.from_bytes(padded[at : at + 8], "little")
        _permute(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


def _load_backend() -> Callable[[bytes], bytes]:
    try:
        from Crypto.Hash import keccak as crypto_keccak
    except ImportError:  # pragma: no cover - pycryptodome comes with eth-hash[pycryptodome]
        try:
            from eth_hash.auto import keccak as eth_keccak
        except ImportError:
            return _pure_keccak
        return eth_keccak

    def digest(data: bytes) -> bytes:
        return bytes(crypto_keccak.new(digest_bits=256, data=data).digest())

    return digest


_backend: Callable[[bytes], bytes] | None = None
_calls = 0
_lock = threading.Lock()


def keccak256(data: bytes) -> bytes:
    """Keccak-256 digest of ``data``. No I/O; loads the C backend after ``PURE_CALLS`` calls."""
    global _backend, _calls
    backend = _backend
    if backend is not None:
        return backend(data)
    with _lock:
        _calls += 1
        if _calls > PURE_CALLS and _backend is None:
            _backend = _load_backend()
    return _pure_keccak(bytes(data)) if _backend is None else _backend(data)


_checksums: dict[str, str] = {}
_MAX_CACHED = 4096


def to_checksum_address(lower_hex: str) -> str:
    """EIP-55 form (``0x``-prefixed) of 40 lowercase hex digits (no prefix). No I/O; the
    last few thousand answers are cached (the same address is checked again and again)."""
    found = _checksums.get(lower_hex)
    if found is not None:
        return found
    digest = keccak256(lower_hex.encode("ascii")).hex()
    out = "0x" + "".join(
        ch.upper() if ch > "9" and digest[i] >= "8" else ch for i, ch in enumerate(lower_hex)
    )
    if len(_checksums) >= _MAX_CACHED:
        _checksums.clear()
    _checksums[lower_hex] = out
    return out
