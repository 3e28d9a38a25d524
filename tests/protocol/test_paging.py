"""Every paginated list reads exactly on the faithful devnet (docs/MAINNET.md).

A fresh devnet served over HTTP (``eth_call`` capped at geth's 50,000,000 gas) holds,
for each size 0, 1, 100, 101 and 10,000, a real Source with that many tasks and
registrants and a real Task with that many attempters (some of which responded).
The five getters page as recorded on mainnet; the SDK's half-open ``lower``/``upper``
must come back exactly, without a panic reaching the user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ogpu
from ogpu.chain import ChainConfig, multicall
from ogpu.devnet import CLIENTS
from ogpu.devnet.chain import Devnet
from ogpu.devnet.faults import MainnetFaults
from ogpu.devnet.server import JsonRpcDispatcher, RpcServer
from ogpu.protocol import Source, Task, _paging, nexus
from ogpu.protocol import _bindings as bindings

from ..helpers.proxy import FaultProxy
from ..helpers.state import devnet_selected
from .lists import FEES, TX_GAS, BuiltSource, BuiltTask, ListBuilder, deploy, synthetic

pytestmark = pytest.mark.slow

SIZES = (0, 1, 100, 101, 10_000)
GETTERS = (
    "get_tasks",
    "get_registrants",
    "get_attempters",
    "get_attempt_timestamps",
    "get_responses",
)


@dataclass
class Big:
    devnet: Devnet
    server: RpcServer
    proxy: FaultProxy
    sources: dict[int, BuiltSource]
    tasks: dict[int, BuiltTask]


@pytest.fixture(scope="module")
def big() -> Iterator[Big]:
    devnet = Devnet()
    builder = ListBuilder(devnet.w3, CLIENTS[0].address, devnet)
    sources = {n: builder.source(n, n) for n in SIZES}
    tasks = {
        n: builder.task(sources[1].address, n, respond_every=max(1, n // 10) if n else 0)
        for n in SIZES
    }
    dispatcher = JsonRpcDispatcher(devnet.tester, devnet.lock)
    with RpcServer(dispatcher, "127.0.0.1", 0) as server, FaultProxy(server.url) as proxy:
        yield Big(devnet, server, proxy, sources, tasks)


@pytest.fixture
def on_big(big: Big) -> Iterator[Big]:
    """``big`` over HTTP through the counting proxy, the node's call numbering learnt."""
    with devnet_selected(big.devnet.deployment, big.proxy.url):
        multicall.execution_offset(bindings.endpoint())
        big.proxy.reset_counts()
        yield big


Read = Callable[[int, "int | None"], list[Any]]


def reader(big: Big, getter: str, n: int) -> tuple[Read, Read]:
    """(the SDK's read, the expected answer) of ``getter`` on the size-``n`` list."""
    source, task = big.sources[n], big.tasks[n]
    if getter == "get_tasks":
        return (
            lambda lo, hi: [t.address for t in Source(source.address).get_tasks(lo, hi)],
            lambda lo, hi: source.tasks[lo:hi],
        )
    if getter == "get_registrants":
        return (
            lambda lo, hi: Source(source.address).get_registrants(lo, hi),
            lambda lo, hi: source.registrants[lo:hi],
        )
    if getter == "get_attempters":
        return (
            lambda lo, hi: Task(task.address).get_attempters(lo, hi),
            lambda lo, hi: task.attempters[lo:hi],
        )
    if getter == "get_attempt_timestamps":
        return (
            lambda lo, hi: Task(task.address).get_attempt_timestamps(lo, hi),
            lambda lo, hi: task.timestamps[lo:hi],
        )
    return (
        lambda lo, hi: [r.address for r in Task(task.address).get_responses(lo, hi)],
        task.responded,  # the bounds count attempter slots
    )


def windows(n: int) -> list[tuple[int, int | None]]:
    """Bounds to try on a list of ``n``: whole, past the end, empty, across chunks."""
    edges = [
        (0, None),
        (n, n),  # lower == upper
        (n, None),  # empty tail
        (n + 3, n + 9),  # wholly past the end
        (0, 0),
        (max(n - 1, 0), n + 50),  # upper past the end
        (1, 2),
        (99, 102),  # across a chunk boundary
        (5, 205),
        (n // 2, n // 2),
    ]
    if n < 1000:  # more whole-list variants, cheap on short lists
        edges += [(0, n), (0, n + 50), (max(n - 1, 0), None), (n // 3, 2 * n // 3 + 1)]
    return edges


def requests_for(n: int, lower: int, upper: int | None) -> int:
    """HTTP requests a read costs: none for an empty range, the count alone when the
    range is empty on chain, else the count and one request for the items."""
    if upper is not None and upper <= lower:
        return 0
    return 1 if min(n, upper if upper is not None else n) <= lower else 2


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("getter", GETTERS)
def test_every_getter_reads_exactly_at_every_size(on_big: Big, getter: str, n: int) -> None:
    read, expected = reader(on_big, getter, n)
    if getter == "get_responses":
        assert 0 < len(expected(0, None)) < n or n <= 1  # some attempters did not respond
    else:
        assert len(expected(0, None)) == n
    for lower, upper in windows(n):
        on_big.proxy.reset_counts()
        assert read(lower, upper) == expected(lower, upper), (lower, upper)
        assert on_big.proxy.requests == requests_for(n, lower, upper), (lower, upper)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    getter=st.sampled_from(GETTERS),
    n=st.sampled_from((1, 100, 101)),
    data=st.data(),
)
def test_random_windows(on_big: Big, getter: str, n: int, data: st.DataObject) -> None:
    lower = data.draw(st.integers(0, n + 20), label="lower")
    upper = data.draw(st.one_of(st.none(), st.integers(lower, n + 40)), label="upper")
    read, expected = reader(on_big, getter, n)
    assert read(lower, upper) == expected(lower, upper)


def test_source_lists_past_one_call_are_read_index_by_index(
    on_big: Big, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = on_big.sources[101]
    proxy = on_big.proxy
    monkeypatch.setattr(_paging, "SINGLE_CALL_ITEMS", 50)
    for lower, upper in windows(101):
        proxy.reset_counts()
        got = [t.address for t in Source(built.address).get_tasks(lower, upper)]
        assert got == built.tasks[lower:upper], (lower, upper)
        # the count, then one request: a call from zero, or every tasks(i) at once
        assert proxy.requests == requests_for(101, lower, upper), (lower, upper)
        got = Source(built.address).get_registrants(lower, upper)
        assert got == built.registrants[lower:upper], (lower, upper)


def test_a_node_with_a_lower_gas_cap_gets_the_long_list_index_by_index(big: Big) -> None:
    # 10,000 tasks need about 22.6M gas in one getTasks call: over a 10M cap it runs
    # out of gas, and the SDK reads the same list through tasks(i) instead.
    dispatcher = JsonRpcDispatcher(big.devnet.tester, big.devnet.lock, call_gas_cap=10_000_000)
    with (
        RpcServer(dispatcher, "127.0.0.1", 0) as server,
        FaultProxy(server.url) as proxy,
        devnet_selected(big.devnet.deployment, proxy.url),
    ):
        multicall.execution_offset(bindings.endpoint())
        proxy.reset_counts()
        built = big.sources[10_000]
        assert [t.address for t in Source(built.address).get_tasks()] == built.tasks
        assert proxy.requests == 3  # count, the refused call, the per-index batch
        proxy.reset_counts()
        got = Source(built.address).get_tasks(1_000, 2_000)  # under the cap: one call
        assert [t.address for t in got] == built.tasks[1_000:2_000]
        assert proxy.requests == 2


# -- Nexus.getSources: unrecorded on mainnet, read correctly under either convention -----------

MODES = {"inclusive": 0, "half-open, clamped": 1, "half-open, strict": 2}


@pytest.mark.parametrize("mode", MODES)
def test_get_sources_under_either_convention(big: Big, mode: str) -> None:
    w3 = big.devnet.w3
    sender = CLIENTS[0].address
    lists = {}
    for n in (0, 1, 100, 101, 250):
        fixture = deploy(w3, sender, "SourceListFixture", MODES[mode])
        fill = fixture.functions.add(0x5000_0000, n)
        w3.eth.wait_for_transaction_receipt(fill.transact({"from": sender, "gas": TX_GAS, **FEES}))
        lists[n] = fixture.address
    try:
        for n, address in lists.items():
            expected = synthetic(0x5000_0000, n)
            # A fresh Web3 per list: the convention is learnt again each time.
            moved = replace(big.devnet.deployment, nexus=address)
            ChainConfig.use_devnet(moved, rpc=big.proxy.url)
            multicall.execution_offset(bindings.endpoint())
            for lower, upper in [*windows(n), (n - 1, n), (0, 1), (n - 2, None)]:
                lower = max(lower, 0)
                got = [s.address for s in nexus.get_sources(lower, upper)]
                assert got == expected[lower:upper], (n, lower, upper)
            big.proxy.reset_counts()
            assert [s.address for s in nexus.get_sources()] == expected
            assert big.proxy.requests == (1 if n == 0 else 2)  # the convention is cached
            ogpu.reset()
    finally:
        ogpu.reset()


def test_get_sources_learns_the_convention_at_no_extra_cost(big: Big) -> None:
    w3 = big.devnet.w3
    sender = CLIENTS[0].address
    for mode, extra in (("inclusive", 0), ("half-open, strict", 1)):
        fixture = deploy(w3, sender, "SourceListFixture", MODES[mode])
        w3.eth.wait_for_transaction_receipt(
            fixture.functions.add(0x6000_0000, 150).transact({"from": sender, "gas": 29_000_000})
        )
        with devnet_selected(replace(big.devnet.deployment, nexus=fixture.address), big.proxy.url):
            multicall.execution_offset(bindings.endpoint())
            big.proxy.reset_counts()
            assert [s.address for s in nexus.get_sources()] == synthetic(0x6000_0000, 150)
            # half-open: the last item needs one more read, the first time only
            assert big.proxy.requests == 2 + extra, mode


# -- the mainnet fault mode: the SDK's reads retry a lagging replica and dropped connections ---


def test_list_reads_survive_the_public_rpcs_faults(big: Big) -> None:
    faults = MainnetFaults(0.2, seed=11)
    with (
        RpcServer(big.server.dispatcher, "127.0.0.1", 0, faults=faults) as server,
        devnet_selected(big.devnet.deployment, server.url),
    ):
        for _ in range(2):
            for getter in GETTERS:
                for n in (0, 1, 101):
                    read, expected = reader(big, getter, n)
                    assert read(0, None) == expected(0, None)
                    assert read(1, 150) == expected(1, 150)
        source = Source(big.sources[101].address)
        assert source.snapshot().task_count == 101
    assert faults.injected["block not found"] > 5
    assert faults.injected["drop before"] + faults.injected["drop after"] > 5
