"""``Source.getTasks``/``getRegistrants`` over long lists: the copy in ``Lists.copyPrefix``
and the in-place ABI return (``Lists.returnAddresses``) give exactly the bytes the plain
Solidity ``return out;`` of the same items gives, keep the recorded panics
(docs/MAINNET.md rows 2-4), and cost one SLOAD and a few steps per item.

Real lists on the real Source contract: ``ListBuilder`` pushes them in a few
transactions (``tests/protocol/lists.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import encode
from web3.contract import Contract

from ogpu.devnet import CLIENTS, load_artifact
from ogpu.devnet.chain import Devnet

from ..protocol.lists import BuiltSource, ListBuilder, _array_slot, _Storage
from .test_paging import MAX, OUT_OF_BOUNDS, OVERFLOW, panic_code

TASKS, REGISTRANTS = 1_200, 300
ADDRESS_MASK = (1 << 160) - 1


@dataclass
class Long:
    devnet: Devnet
    source: Contract
    tasks: list[str]
    registrants: list[str]


@pytest.fixture(scope="module")
def built(devnet_session: Devnet) -> Iterator[BuiltSource]:
    """The lists, pushed once for the module (about 8 s); gone when the module ends."""
    snapshot = devnet_session.snapshot()
    try:
        yield ListBuilder(devnet_session.w3, CLIENTS[0].address).source(TASKS, REGISTRANTS)
    finally:
        devnet_session.revert(snapshot)


@pytest.fixture
def long(built: BuiltSource, devnet: Devnet) -> Long:
    """The built source; what a test changes (``devnet``) is reverted after it."""
    source = devnet.w3.eth.contract(address=built.address, abi=load_artifact("Source").abi)
    return Long(devnet, source, built.tasks, built.registrants)


def raw(fn: Any) -> bytes:
    """The bytes an ``eth_call`` of ``fn`` returns."""
    return bytes(fn.w3.eth.call({"to": fn.address, "data": fn._encode_transaction_data()}))


@pytest.mark.parametrize("getter", ["getTasks", "getRegistrants"])
def test_returns_the_abi_encoding_of_the_items(long: Long, getter: str) -> None:
    items = long.tasks if getter == "getTasks" else long.registrants
    fn = getattr(long.source.functions, getter)
    for upper in (0, 1, 2, 31, 32, 33, len(items) // 2, len(items) - 1):
        assert raw(fn(0, upper)) == encode(["address[]"], [items[: upper + 1]]), upper


@pytest.mark.parametrize("getter", ["getTasks", "getRegistrants"])
def test_long_lists_keep_the_recorded_panics(long: Long, getter: str) -> None:
    fn = getattr(long.source.functions, getter)
    n = len(long.tasks if getter == "getTasks" else long.registrants)
    for lower, upper in [(0, n), (0, MAX), (1, n - 1), (n - 1, n - 1), (7, 9), (MAX, MAX)]:
        assert panic_code(fn(lower, upper)) == OUT_OF_BOUNDS, (lower, upper)
    for lower, upper in [(n - 1, n - 2), (1, 0), (MAX, 0)]:
        assert panic_code(fn(lower, upper)) == OVERFLOW, (lower, upper)


def test_items_are_masked_to_addresses_like_the_solidity_encoder(long: Long) -> None:
    """A slot with bits above the address (never written by Solidity, set here directly)
    reads as its low 160 bits, as the checked Solidity loop and encoder return it."""
    storage = _Storage(long.devnet)
    tasks_slot = next(
        slot
        for slot in range(64)
        if storage.read(long.source.address, slot) == TASKS
        and storage.read(long.source.address, _array_slot(slot, 0)) == int(long.tasks[0], 16)
    )
    dirty = (0xABCD << 200) | int(long.tasks[5], 16)
    storage.write(long.source.address, {_array_slot(tasks_slot, 5): dirty})
    assert raw(long.source.functions.getTasks(0, 9)) == encode(["address[]"], [long.tasks[:10]])
    assert long.source.functions.tasks(5).call() == long.tasks[5]  # the public getter agrees
    assert dirty & ADDRESS_MASK == int(long.tasks[5], 16)


@pytest.mark.slow
def test_cost_per_item_is_one_cold_sload_and_a_few_steps(long: Long) -> None:
    """Estimated gas per extra item of ``getTasks(0, n - 1)`` (the devnet's estimate is
    64/63 of the gas used plus a constant): ~2,200 here, a cold SLOAD being 2,100; the
    checked Solidity loop and the ABI encoder's second pass cost ~2,640 (a warm SLOAD of
    the length, a keccak and ~117 steps per item)."""
    fn = long.source.functions.getTasks
    half, full = (fn(0, k - 1).estimate_gas() for k in (TASKS // 2, TASKS))
    per_item = (full - half) / (TASKS - TASKS // 2)
    assert 2_100 < per_item < 2_300, per_item
