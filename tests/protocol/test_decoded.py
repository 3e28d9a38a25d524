"""``AddressBound._decoded``: instances for addresses the ABI decoder already checksummed
(``Source.get_tasks`` builds its 3,000 Tasks this way) are the instances the public
constructor makes. That the addresses ``get_tasks`` returns are exact EIP-55 strings is
pinned on the devnet by tests/protocol/test_paging.py (compared with web3's checksum)."""

from __future__ import annotations

import pickle

from web3 import Web3

from ogpu.protocol import Source, Task

ADDRESSES = [Web3.to_checksum_address(f"0x{0x1000_0000 + i:040x}") for i in range(3)] + [
    Web3.to_checksum_address("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359")
]


def test_decoded_instances_equal_the_constructors() -> None:
    chain = object()
    made = Task._decoded(ADDRESSES, chain)
    assert [type(t) for t in made] == [Task] * len(ADDRESSES)
    assert [t.address for t in made] == ADDRESSES
    assert all(t.chain is chain for t in made)
    assert made == [Task(a, chain) for a in ADDRESSES]
    assert {hash(t) for t in made} == {hash(Task(a)) for a in ADDRESSES}
    assert repr(made[-1]) == repr(Task(ADDRESSES[-1]))
    again = pickle.loads(pickle.dumps(made[0]))
    assert (type(again), again.address) == (Task, ADDRESSES[0])
    assert Source._decoded([], None) == []
