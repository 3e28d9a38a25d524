"""Long lists on the real Source and Task contracts, built in a few transactions.

``ListBuilder`` (``contracts/test/ListFixtures.sol``, compiled to
``tests/fixtures/artifacts``) stands in for Nexus and the factories: it deploys a real
``Source`` or ``Task`` and pushes synthetic addresses (``base + i``) into its lists,
about 1,000 tasks or 400 attempts per transaction instead of one task per
transaction. The getters under test are the devnet's own code.

With the in-process ``Devnet`` at hand, a long list costs seconds instead of minutes:
the first two items go through the contract as above, which shows where it keeps the
list (the array slots that went from 0 to 2 items, the mappings keyed by those items);
the rest is written into exactly those slots in one block (``fast_fill``).
``tests/protocol/test_lists.py`` checks that both ways leave identical storage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from ogpu.devnet.chain import Devnet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"
ZERO = "0x0000000000000000000000000000000000000000"
TX_GAS = 29_000_000
# Full blocks raise the base fee quickly; these fees stay above it.
FEES = {"maxFeePerGas": 10**13, "maxPriorityFeePerGas": 10**9}
PER_TX = {"addTasks": 1000, "addRegistrants": 400, "addAttempts": 400}
PROBED_SLOTS = 64  # storage slots searched for a list's array and mappings
FAST_FROM = 10  # lists longer than this are written directly when a Devnet is given


def fixture_artifact(name: str) -> dict[str, Any]:
    """ABI and bytecode of a test fixture contract."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def synthetic(base: int, n: int) -> list[str]:
    """The addresses ListBuilder pushes: ``address(uint160(base + i))``."""
    return [Web3.to_checksum_address(f"0x{base + i:040x}") for i in range(n)]


def deploy(w3: Web3, sender: str, name: str, *args: Any) -> Contract:
    art = fixture_artifact(name)
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = factory.constructor(*args).transact({"from": sender, "gas": 10_000_000, **FEES})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    return w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])


@dataclass
class BuiltSource:
    address: str
    tasks: list[str]
    registrants: list[str]


@dataclass
class BuiltTask:
    address: str
    attempters: list[str]
    timestamps: list[int]
    responses: list[str] = field(default_factory=list)  # per attempter slot, ZERO if none

    def responded(self, lower: int = 0, upper: int | None = None) -> list[str]:
        """What ``get_responses(lower, upper)`` returns: slots in range with a response."""
        return [r for r in self.responses[lower:upper] if r != ZERO]


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _array_slot(slot: int, index: int) -> int:
    return int.from_bytes(keccak(_word(slot)), "big") + index


def _mapping_slot(slot: int, key: int) -> int:
    return int.from_bytes(keccak(_word(key) + _word(slot)), "big")


class _Storage:
    """Direct storage access to the in-process devnet's chain (tests only)."""

    def __init__(self, devnet: Devnet) -> None:
        self.devnet = devnet

    def read(self, address: str, slot: int) -> int:
        raw = self.devnet.tester.backend.get_storage(bytes.fromhex(address[2:]), slot)
        return int.from_bytes(raw, "big") if isinstance(raw, bytes) else int(raw)

    def write(self, address: str, values: dict[int, int]) -> int:
        """Set ``values`` (slot -> word) in one mined block, then mine an empty one (a
        snapshot taken later re-executes its own block only); return the first's time."""
        with self.devnet.lock:
            chain = self.devnet.tester.backend.chain
            state = chain.get_vm().state
            account = bytes.fromhex(address[2:])
            for slot, value in values.items():
                state.set_storage(account, slot, value)
            state.persist()
            chain.header = chain.header.copy(state_root=state.state_root)
            stamp = int(chain.header.timestamp)
            self.devnet.tester.mine_blocks(2)
            return stamp


def fast_fill(
    storage: _Storage, address: str, base: int, n: int, first_two_stamp: int
) -> list[int]:
    """Extend the 2-item list just pushed (items ``base``, ``base + 1``) to ``n`` items by
    writing the slots the contract used for those two; return each item's timestamp."""
    a0, a1 = base, base + 1
    arrays: dict[int, str] = {}
    for slot in range(PROBED_SLOTS):
        if storage.read(address, slot) != 2:
            continue
        e0, e1 = (storage.read(address, _array_slot(slot, i)) for i in (0, 1))
        if (e0, e1) == (a0, a1):
            arrays[slot] = "item"
        elif e0 == e1 == first_two_stamp:
            arrays[slot] = "time"
    mappings: dict[int, str] = {}
    for slot in range(PROBED_SLOTS):
        v0, v1 = (storage.read(address, _mapping_slot(slot, key)) for key in (a0, a1))
        if (v0, v1) == (1, 2):
            mappings[slot] = "id"
        elif v0 and v0 == v1:
            mappings[slot] = f"constant:{v0}"
        elif v0 or v1:
            raise AssertionError(f"unrecognised mapping at slot {slot}: {v0}, {v1}")
    assert "item" in arrays.values(), "the list's array was not found"
    pending = int(storage.devnet.tester.get_block_by_number("pending")["timestamp"])
    values: dict[int, int] = {}
    for i in range(2, n):
        for slot, kind in arrays.items():
            values[_array_slot(slot, i)] = base + i if kind == "item" else pending
        for slot, kind in mappings.items():
            values[_mapping_slot(slot, base + i)] = i + 1 if kind == "id" else int(kind[9:])
    values.update({slot: n for slot in arrays})
    stamp = storage.write(address, values)
    assert stamp == pending, (stamp, pending)
    return [first_two_stamp] * 2 + [stamp] * (n - 2)


class ListBuilder:
    """Builds sources and tasks with lists of any length on ``w3`` (auto-mining chain).

    ``devnet``: the in-process chain behind ``w3``; given, lists longer than
    ``FAST_FROM`` are written directly after their first two items (``fast_fill``).
    """

    def __init__(self, w3: Web3, sender: str, devnet: Devnet | None = None) -> None:
        self.w3 = w3
        self.sender = sender
        self.storage = _Storage(devnet) if devnet is not None else None
        self.contract = deploy(w3, sender, "ListBuilder")
        self._base = 0x1000_0000

    def send(self, fn: Any) -> Any:
        """Mine ``fn`` from the builder's sender; require success."""
        return self._send(fn)

    def _send(self, fn: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(
            fn.transact({"from": self.sender, "gas": TX_GAS, **FEES})
        )
        assert receipt["status"] == 1, receipt
        return receipt

    def _fill(self, function: str, target: str, n: int) -> tuple[list[str], list[int]]:
        """Push ``n`` synthetic addresses; return them and each one's block timestamp."""
        base, self._base = self._base, self._base + 0x100_0000
        stamps: list[int] = []
        if self.storage is not None and n > FAST_FROM:
            fn = getattr(self.contract.functions, function)(target, base, 2)
            block = self.w3.eth.get_block(self._send(fn)["blockNumber"])
            stamps = fast_fill(self.storage, target, base, n, int(block["timestamp"]))
            return synthetic(base, n), stamps
        for start in range(0, n, PER_TX[function]):
            count = min(PER_TX[function], n - start)
            fn = getattr(self.contract.functions, function)(target, base + start, count)
            block = self.w3.eth.get_block(self._send(fn)["blockNumber"])
            stamps += [int(block["timestamp"])] * count
        return synthetic(base, n), stamps

    def source(self, tasks: int, registrants: int) -> BuiltSource:
        params = (self.sender, "https://example.invalid/m.json", 1, 0, 0, 3600, False, "", 0, 0)
        fn = self.contract.functions.newSource(params)
        address = fn.call({"from": self.sender, **FEES})
        self._send(fn)
        task_list, _ = self._fill("addTasks", address, tasks)
        registrant_list, _ = self._fill("addRegistrants", address, registrants)
        return BuiltSource(address, task_list, registrant_list)

    def task(self, source: str, attempts: int, respond_every: int = 0) -> BuiltTask:
        """A task with ``attempts`` attempters; every ``respond_every``-th (and the last)
        responds with a real Response contract."""
        params = (source, "https://example.invalid/t.json", 2**40, 1)
        fn = self.contract.functions.newTask(params)
        address = fn.call({"from": self.sender, **FEES})
        self._send(fn)
        attempters, stamps = self._fill("addAttempts", address, attempts)
        built = BuiltTask(address, attempters, stamps, [ZERO] * attempts)
        if respond_every:
            chosen = sorted({*range(0, attempts, respond_every), attempts - 1})
            for slot in chosen:
                respond = self.contract.functions.respond(address, attempters[slot], f"r{slot}")
                built.responses[slot] = respond.call({"from": self.sender, **FEES})
                self._send(respond)
        return built
