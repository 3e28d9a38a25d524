"""The devnet's flat storage-read cache (``ogpu.devnet.flatstorage``) never answers with
a stale value: after writes, a reverted transaction, ``evm_snapshot``/``evm_revert``,
a chain snapshot revert, and inside a call that writes and reads back; and it does
serve repeated reads. Everything goes through the devnet's own JSON-RPC methods on a
real contract (``contracts/test/StorageProbe.sol``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi.abi import decode

from ogpu.devnet import CLIENTS, flatstorage
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import JsonRpcDispatcher

from ..protocol.lists import deploy

CLIENT = CLIENTS[0]


class Probe:
    """``StorageProbe`` driven through a ``JsonRpcDispatcher`` on the test's devnet."""

    def __init__(self, devnet: Devnet) -> None:
        self.devnet = devnet
        self.rpc = JsonRpcDispatcher(devnet.tester, devnet.lock, unlocked=[CLIENT.account])
        self.contract = deploy(devnet.w3, CLIENT.address, "StorageProbe")

    def _tx(self, name: str, *args: int) -> dict[str, str]:
        data = self.contract.functions[name](*args)._encode_transaction_data()
        return {"from": CLIENT.address, "to": self.contract.address, "data": data}

    def call(self, name: str, *args: int) -> bytes:
        return bytes.fromhex(self.rpc.call("eth_call", [self._tx(name, *args), "latest"])[2:])

    def read(self, key: int) -> int:
        return int.from_bytes(self.call("values", key), "big")

    def send(self, name: str, *args: int) -> int:
        """Mine ``name(*args)``; return the receipt's status."""
        tx = {**self._tx(name, *args), "gas": hex(200_000)}
        tx_hash = self.rpc.call("eth_sendTransaction", [tx])
        receipt: Any = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
        return int(receipt["status"], 16)


@pytest.fixture
def probe(devnet: Devnet) -> Iterator[Probe]:
    yield Probe(devnet)


def test_the_devnet_chain_reads_storage_through_the_cache(probe: Probe) -> None:
    vm = probe.devnet.tester.backend.chain.get_vm()
    assert vm.get_state_class().account_db_class is flatstorage._FlatAccountDB
    assert probe.send("set", 3, 33) == 1
    probe.read(3)
    hits, misses = flatstorage.stats()
    assert probe.read(3) == 33
    assert flatstorage.stats() == (hits + 1, misses)  # the second read: one hit, no walk


def test_reads_follow_every_write(probe: Probe) -> None:
    assert probe.read(1) == 0
    assert probe.send("set", 1, 7) == 1
    assert probe.read(1) == 7
    assert probe.send("set", 1, 8) == 1
    assert probe.send("set", 2, 9) == 1
    assert (probe.read(1), probe.read(2)) == (8, 9)
    assert probe.send("set", 2, 0) == 1  # cleared: the slot leaves the trie
    assert (probe.read(1), probe.read(2)) == (8, 0)


def test_a_reverted_transaction_changes_no_read(probe: Probe) -> None:
    assert probe.send("set", 1, 7) == 1
    assert probe.read(1) == 7
    assert probe.send("setAndRevert", 1, 99) == 0
    assert probe.read(1) == 7
    assert probe.send("setAndRevert", 4, 99) == 0
    assert probe.read(4) == 0


def test_snapshot_reverts_bring_back_the_old_values(probe: Probe) -> None:
    assert probe.send("set", 1, 7) == 1
    assert probe.read(1) == 7
    snapshot = probe.rpc.call("evm_snapshot", [])
    assert probe.send("set", 1, 8) == 1
    assert probe.send("set", 5, 50) == 1
    assert (probe.read(1), probe.read(5)) == (8, 50)
    assert probe.rpc.call("evm_revert", [snapshot]) is True
    assert (probe.read(1), probe.read(5)) == (7, 0)
    # the chain's own snapshots (Devnet.snapshot/revert, eth-tester) as well
    chain_snapshot = probe.devnet.snapshot()
    assert probe.send("set", 1, 9) == 1
    assert probe.read(1) == 9
    probe.devnet.revert(chain_snapshot)
    assert probe.read(1) == 7
    assert probe.send("set", 1, 10) == 1  # and writes after a revert are read too
    assert probe.read(1) == 10


def test_a_call_reads_its_own_writes_and_leaves_none(probe: Probe) -> None:
    assert probe.send("set", 1, 7) == 1
    assert probe.read(1) == 7
    before, after = decode(["uint256", "uint256"], probe.call("swap", 1, 5))
    assert (before, after) == (7, 5)
    assert probe.read(1) == 7  # an eth_call writes nothing
    assert probe.send("swap", 1, 6) == 1
    assert probe.read(1) == 6
