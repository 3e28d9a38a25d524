"""Long lists on the real Source and Task contracts, built in a few transactions.

``ListBuilder`` (``contracts/test/ListFixtures.sol``, compiled to
``tests/fixtures/artifacts``) stands in for Nexus and the factories: it deploys a real
``Source`` or ``Task`` and pushes synthetic addresses (``base + i``) into its lists,
about 1,000 tasks or 400 attempts per transaction instead of one task per
transaction. The getters under test are the devnet's own code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"
ZERO = "0x0000000000000000000000000000000000000000"
TX_GAS = 29_000_000
# Full blocks raise the base fee quickly; these fees stay above it.
FEES = {"maxFeePerGas": 10**13, "maxPriorityFeePerGas": 10**9}
PER_TX = {"addTasks": 1000, "addRegistrants": 400, "addAttempts": 400}


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


class ListBuilder:
    """Builds sources and tasks with lists of any length on ``w3`` (auto-mining chain)."""

    def __init__(self, w3: Web3, sender: str) -> None:
        self.w3 = w3
        self.sender = sender
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
