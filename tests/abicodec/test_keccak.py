"""ogpu.abi.keccak against eth-hash (the oracle): digests and EIP-55 checksums, in Python for
the first calls and through the C backend after them."""

from __future__ import annotations

import subprocess
import sys

from eth_hash.auto import keccak as oracle
from eth_utils import to_checksum_address as oracle_checksum
from hypothesis import given, settings
from hypothesis import strategies as st

from ogpu.abi import keccak


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=600))
def test_pure_keccak_matches_eth_hash(data: bytes) -> None:
    assert keccak._pure_keccak(data) == oracle(data)


def test_keccak_block_boundaries() -> None:
    for size in (0, 1, 135, 136, 137, 271, 272, 273):
        data = bytes(range(256)) * 2
        assert keccak.keccak256(data[:size]) == oracle(data[:size])


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(min_size=20, max_size=20))
def test_checksum_matches_eth_utils(raw: bytes) -> None:
    assert keccak.to_checksum_address(raw.hex()) == oracle_checksum("0x" + raw.hex())


def test_backend_loads_only_after_the_first_calls() -> None:
    code = (
        "import sys\n"
        "from ogpu.abi import keccak\n"
        "for i in range(keccak.PURE_CALLS):\n"
        "    keccak.keccak256(bytes([i]))\n"
        "assert 'Crypto' not in sys.modules and 'eth_hash' not in sys.modules\n"
        "first = keccak.keccak256(b'x')\n"
        "assert 'Crypto' in sys.modules\n"
        "assert first == keccak._pure_keccak(b'x')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
