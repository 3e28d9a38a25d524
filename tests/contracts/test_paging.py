"""The list getters page as recorded on mainnet (docs/MAINNET.md), in process and over HTTP.

Recorded by official ogpu 0.2.3: both bounds inclusive, panic 0x32 for an index >= length
(``_base.py`` ``_paginated_call``); ``Source.getTasks``/``getRegistrants`` index their
result absolutely, so any ``lower > 0`` panics (``source.py`` ``fetch_from_zero=True``).
Chosen for the devnet: ``upper < lower`` panics 0x11; ``Nexus.getSources`` (unrecorded)
pages like the Task getters; ``getResponsesOf`` lists one slot per attempter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import decode
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS
from ogpu.devnet.server import JsonRpcDispatcher, RpcServer

PANIC_SELECTOR = bytes.fromhex("4e487b71")
OUT_OF_BOUNDS, OVERFLOW = 0x32, 0x11
ZERO = "0x0000000000000000000000000000000000000000"
CLIENT = CLIENTS[0]
MAX = 2**256 - 1


def panic_code(fn: Any) -> int:
    """The Panic(uint256) code ``fn`` reverts with in an ``eth_call``."""
    with pytest.raises(ContractLogicError) as info:
        fn.call()
    data = info.value.data
    assert isinstance(data, str), data
    raw = bytes.fromhex(data[2:])
    assert raw[:4] == PANIC_SELECTOR, f"not a Panic(uint256): {data}"
    (code,) = decode(["uint256"], raw[4:])
    return int(code)


@dataclass
class Lists:
    """A source with 3 tasks, the first attempted by 3 providers of which 2 responded."""

    nexus: Contract
    source: Contract
    empty_source: Contract
    task: Contract
    fresh_task: Contract
    tasks: list[str]
    sources: list[str]
    attempters: list[str]
    responses: list[str]


@pytest.fixture
def built(suite: Any) -> Lists:
    suite.deposit(CLIENT, 10 * 10**18)
    source = suite.publish_source(CLIENT)
    empty_source = suite.publish_source(CLIENT)
    for master, provider in zip(MASTERS, PROVIDERS, strict=True):
        suite.pair(master, provider)
        suite.register(provider, source, provider)
    tasks = [suite.publish_task(CLIENT, source) for _ in range(3)]
    for provider in PROVIDERS:
        suite.attempt(provider, tasks[0], provider)
    first, _ = suite.submit(PROVIDERS[0], tasks[0], PROVIDERS[0], "one")
    third, _ = suite.submit(PROVIDERS[2], tasks[0], PROVIDERS[2], "three")
    return Lists(
        nexus=suite.nexus,
        source=source,
        empty_source=empty_source,
        task=tasks[0],
        fresh_task=tasks[1],
        tasks=[t.address for t in tasks],
        sources=[source.address, empty_source.address],
        attempters=[p.address for p in PROVIDERS],
        responses=[first.address, ZERO, third.address],
    )


@pytest.fixture(params=["in-process", "http"])
def at(request: pytest.FixtureRequest, suite: Any, built: Lists) -> Iterator[Callable[..., Any]]:
    """``at(contract)``: the contract over the in-process provider or the devnet's HTTP server."""
    if request.param == "in-process":
        yield lambda contract: contract.functions
        return
    dispatcher = JsonRpcDispatcher(suite.devnet.tester, suite.devnet.lock)
    with RpcServer(dispatcher, "127.0.0.1", 0) as server:
        w3 = Web3(HTTPProvider(server.url))
        yield lambda contract: w3.eth.contract(address=contract.address, abi=contract.abi).functions


def test_task_getters_take_both_bounds_inclusive(built: Lists, at: Any) -> None:
    t = at(built.task)
    for n in range(3):  # getAttempters(0, n) returns n + 1 items
        assert t.getAttempters(0, n).call() == built.attempters[: n + 1]
        assert len(t.getAttemptTimestamps(0, n).call()) == n + 1
        assert t.getResponsesOf(0, n).call() == built.responses[: n + 1]
    assert t.getAttempters(1, 2).call() == built.attempters[1:]
    assert t.getAttempters(2, 2).call() == built.attempters[2:]
    assert t.getResponsesOf(1, 1).call() == [ZERO]  # the second attempter has not responded
    stamps = t.getAttemptTimestamps(0, 2).call()
    assert stamps == [t.attemptTimestamps(i).call() for i in range(3)]


@pytest.mark.parametrize("getter", ["getAttempters", "getAttemptTimestamps", "getResponsesOf"])
def test_task_getters_panic_0x32_at_index_count(built: Lists, at: Any, getter: str) -> None:
    t = at(built.task)
    count = t.getAttemptCount().call()
    assert count == 3
    fn = getattr(t, getter)
    for lower, upper in [(0, count), (count, count), (2, count + 5), (0, MAX), (MAX, MAX)]:
        assert panic_code(fn(lower, upper)) == OUT_OF_BOUNDS, (lower, upper)
    # an empty list has no index 0
    assert panic_code(getattr(at(built.fresh_task), getter)(0, 0)) == OUT_OF_BOUNDS
    # upper < lower: checked arithmetic (not recorded on mainnet; the devnet's choice)
    assert panic_code(fn(2, 1)) == OVERFLOW


def test_source_getters_index_absolutely(built: Lists, at: Any) -> None:
    s = at(built.source)
    assert s.getTasks(0, 2).call() == built.tasks
    assert s.getTasks(0, 0).call() == built.tasks[:1]
    assert s.getRegistrants(0, 2).call() == built.attempters
    for getter in (s.getTasks, s.getRegistrants):
        assert panic_code(getter(1, 1)) == OUT_OF_BOUNDS  # any lower > 0 panics
        assert panic_code(getter(1, 2)) == OUT_OF_BOUNDS
        assert panic_code(getter(2, 2)) == OUT_OF_BOUNDS
        assert panic_code(getter(0, 3)) == OUT_OF_BOUNDS  # index count
        assert panic_code(getter(0, MAX)) == OUT_OF_BOUNDS
        assert panic_code(getter(2, 1)) == OVERFLOW
    empty = at(built.empty_source)
    assert panic_code(empty.getTasks(0, 0)) == OUT_OF_BOUNDS
    assert panic_code(empty.getRegistrants(0, 0)) == OUT_OF_BOUNDS


def test_devnet_nexus_get_sources_is_inclusive(built: Lists, at: Any) -> None:
    n = at(built.nexus)
    assert n.getSourceCount().call() == 2
    assert n.getSources(0, 1).call() == built.sources
    assert n.getSources(1, 1).call() == built.sources[1:]
    assert panic_code(n.getSources(0, 2)) == OUT_OF_BOUNDS
    assert panic_code(n.getSources(1, 0)) == OVERFLOW
