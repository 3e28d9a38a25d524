"""ogpu.events watchers against the HTTP devnet, through the suite's proxy: what they
cost (one shared poll schedule, one batched request per poll, chunked block ranges)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

from ogpu.events import (
    PollerSettings,
    TaskPublishedEvent,
    set_poller_settings,
    watch_attempted,
    watch_registered,
    watch_response_submitted,
    watch_task_published,
    watch_task_status_changed,
)

from ..helpers.proxy import Fault, FaultProxy
from ..helpers.streams import FAST, assert_nothing_more, joined, shared_poller, stop, take, until
from .conftest import HEAD, batches_seen, get_logs, is_poll, more_requests, wider_than

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fast_backoff")]

if TYPE_CHECKING:
    from conftest import Driver


def test_fifty_watchers_share_one_get_logs_per_poll(on_devnet: FaultProxy, driver: Driver) -> None:
    p0 = driver.providers[0]
    source, _ = driver.new_source()
    driver.register(source, p0)
    task, _ = driver.publish_task(source)
    driver.mine()
    watchers: list[Callable[[], AsyncIterator[Any]]] = [
        lambda: watch_task_published(source, poll_interval=0.2),
        lambda: watch_registered(source, poll_interval=0.2),
        lambda: watch_attempted(task, poll_interval=0.2),
        lambda: watch_task_status_changed(task, poll_interval=0.2),
        lambda: watch_response_submitted(task, poll_interval=0.2),
    ]

    async def main() -> None:
        streams = [make() for make in watchers for _ in range(10)]
        firsts = [asyncio.ensure_future(s.__anext__()) for s in streams]
        await joined(50)
        # The first request only reads the head; from then on every poll is one batch.
        await more_requests(on_devnet, 2)
        on_devnet.reset_counts()
        new_tasks = []
        for _ in range(4):
            new_tasks.append((await asyncio.to_thread(driver.publish_task, source))[0])
        await asyncio.to_thread(driver.attempt, task, p0)
        done = await asyncio.wait_for(asyncio.gather(*firsts[:10]), 60)
        assert {e.task for e in done} == {new_tasks[0]}
        attempts = await asyncio.wait_for(asyncio.gather(*firsts[20:30]), 60)
        assert all(e.provider == p0 for e in attempts)
        for stream in streams[:10]:
            assert [e.task for e in await take(stream, 3)] == new_tasks[1:]

        polls = batches_seen(on_devnet)
        fetches = on_devnet.count("eth_getLogs")
        print(f"50 watchers: {polls} polls, {fetches} eth_getLogs")
        assert set(on_devnet.sequence) == {"eth_getBlockByNumber", "eth_getLogs"}
        assert 1 <= fetches < 50
        # Steady state: every poll is one HTTP request (headers + one getLogs batch).
        assert on_devnet.batches
        assert all(is_poll(r) for r in on_devnet.batches)
        assert len(on_devnet.batches) == polls == fetches
        assert get_logs(on_devnet, latest=True) == []
        for params in get_logs(on_devnet):
            address = params["address"]
            addresses = address if isinstance(address, list) else [address]
            assert [a.lower() for a in addresses] == [driver.nexus.address.lower()]
            assert len(params["topics"][0]) == 5
        for pending in firsts[10:20] + firsts[30:]:
            pending.cancel()

    asyncio.run(main())


def test_block_ranges_are_chunked(on_devnet: FaultProxy, driver: Driver) -> None:
    set_poller_settings(PollerSettings(max_block_range=3, backoff_initial=0.05))
    source, _ = driver.new_source()
    start = driver.head() + 1
    tasks = [driver.publish_task(source)[0] for _ in range(5)]
    last = driver.head()
    assert last - start + 1 >= 10

    async def main() -> None:
        stream = watch_task_published(source, from_block=start, poll_interval=FAST)
        assert [e.task for e in await take(stream, 5)] == tasks
        await assert_nothing_more(stream, last)

    on_devnet.reset_counts()
    asyncio.run(main())
    ranges = [(int(p["fromBlock"], 16), int(p["toBlock"], 16)) for p in get_logs(on_devnet)]
    assert all(high - low + 1 <= 3 for low, high in ranges)
    assert ranges[0][0] == start
    # In order and without a gap (a range may start at the last one's top block: its
    # logs tie the range to the blocks already covered).
    assert all(b[0] <= a[0] <= b[1] + 1 for b, a in itertools.pairwise(ranges))
    assert ranges[-1][1] >= last


def test_node_range_limit_shrinks_the_chunk(on_devnet: FaultProxy, driver: Driver) -> None:
    set_poller_settings(PollerSettings(max_block_range=64, backoff_initial=0.05))
    source, _ = driver.new_source()
    start = driver.head() + 1
    tasks = [driver.publish_task(source)[0] for _ in range(3)]
    on_devnet.add(
        "eth_getLogs",
        Fault.ERROR_AFTER,
        times=None,
        code=-32005,
        message="query exceeds max block range 2",
        when=wider_than(2, driver),
    )

    async def main() -> None:
        stream = watch_task_published(source, from_block=start, poll_interval=FAST)
        assert [e.task for e in await take(stream, 3)] == tasks
        await assert_nothing_more(stream, driver.head())

    asyncio.run(main())
    served = [
        (int(p["fromBlock"], 16), int(p["toBlock"], 16))
        for p in get_logs(on_devnet)
        if int(p["toBlock"], 16) - int(p["fromBlock"], 16) + 1 <= 2
    ]
    assert served and served[0][0] == start


def test_steady_state_polls_are_one_batched_request_each(
    on_devnet: FaultProxy, driver: Driver
) -> None:
    sources = [driver.new_source()[0] for _ in range(3)]
    driver.mine()

    async def main() -> None:
        streams = [
            watch_task_published(source, poll_interval=FAST) for source in sources for _ in range(4)
        ]
        firsts = [asyncio.ensure_future(s.__anext__()) for s in streams]
        await joined(12)
        # The first request only reads the head; from then on every poll is one batch.
        await more_requests(on_devnet, 2)
        on_devnet.reset_counts()
        published = []
        for source in sources * 2:
            published.append((await asyncio.to_thread(driver.publish_task, source))[0])
        got = await asyncio.wait_for(asyncio.gather(*firsts), 60)
        assert [e.task for e in got] == [t for t in published[:3] for _ in range(4)]
        for index, stream in enumerate(streams):
            assert [e.task for e in await take(stream, 1)] == [published[3 + index // 4]]
        last = driver.head()
        for stream in streams:
            await assert_nothing_more(stream, last)

        requests = list(on_devnet.batches)
        assert len(requests) >= 3
        assert all(is_poll(r) for r in requests), requests
        assert get_logs(on_devnet, latest=True) == []
        assert len(get_logs(on_devnet)) == len(requests)

    asyncio.run(main())


def test_k_watchers_joining_at_once_cost_one_request_per_poll(
    on_devnet: FaultProxy, driver: Driver
) -> None:
    sources = [driver.new_source()[0] for _ in range(5)]
    driver.mine()
    start = driver.head()  # as the benchmark: from the current head, inclusive
    on_devnet.reset_counts()

    async def main() -> None:
        streams = [
            watch_task_published(source, from_block=start, poll_interval=FAST)
            for source in sources
            for _ in range(4)
        ]
        firsts = [asyncio.ensure_future(s.__anext__()) for s in streams]
        published = [(await asyncio.to_thread(driver.publish_task, s))[0] for s in sources]
        got = await asyncio.wait_for(asyncio.gather(*firsts), 60)
        assert [e.task for e in got] == [task for task in published for _ in range(4)]
        poller = await stop(streams)

        # 20 watchers, one schedule: a single head read when the poller starts,
        # then exactly one HTTP request (headers + one getLogs batch) per poll.
        requests = list(on_devnet.batches)
        assert requests[0] == HEAD
        assert requests[1:] and all(is_poll(r) for r in requests[1:])
        assert len(requests) == poller.poll_count
        assert get_logs(on_devnet, latest=True) == []
        assert {int(p["fromBlock"], 16) for p in get_logs(on_devnet)} >= {start}

    asyncio.run(main())


def test_late_joiners_ride_the_next_scheduled_poll(on_devnet: FaultProxy, driver: Driver) -> None:
    source, _ = driver.new_source()
    start = driver.head()
    early = [driver.publish_task(source)[0] for _ in range(2)]
    driver.mine()  # watchers from the head (inclusive) must not see the early tasks
    on_devnet.reset_counts()

    async def main() -> None:
        first = watch_task_published(source, from_block=start, poll_interval=FAST)
        assert [e.task for e in await take(first, 2)] == early
        poller = shared_poller()
        replays: list[AsyncIterator[TaskPublishedEvent]] = []
        lives: list[AsyncIterator[TaskPublishedEvent]] = []
        firsts: dict[int, asyncio.Future[TaskPublishedEvent]] = {}
        for index in range(6):
            # Join at a different moment of each interval, while the poller runs.
            polls = poller.poll_count
            await until(lambda polls=polls: poller.poll_count > polls)
            await asyncio.sleep(FAST * index / 6)
            stream = watch_task_published(
                source, from_block=None if index % 2 else start, poll_interval=FAST
            )
            (lives if index % 2 else replays).append(stream)
            firsts[id(stream)] = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0)  # the first __anext__ subscribes
            assert poller.subscriber_count == index + 2
        for replay in replays:
            got = [await asyncio.wait_for(firsts.pop(id(replay)), 60), *await take(replay, 1)]
            assert [e.task for e in got] == early
        # Every joiner's start is settled (by the next poll's head) before the next
        # task is published: from_block=None means only events after that head.
        await until(lambda: poller.pending_count == 0)
        late, _ = await asyncio.to_thread(driver.publish_task, source)
        for stream in [first, *replays]:
            assert [e.task for e in await take(stream, 1)] == [late]
        got = await asyncio.wait_for(asyncio.gather(*firsts.values()), 60)
        assert [e.task for e in got] == [late] * len(lives)
        last = driver.head()
        for stream in [first, *replays, *lives]:
            await assert_nothing_more(stream, last)
        poller = await stop([first, *replays, *lives])

        # No join polled on its own: histories came inside the regular batches.
        requests = list(on_devnet.batches)
        assert requests[0] == HEAD
        assert all(is_poll(r) for r in requests[1:])
        assert len(requests) == poller.poll_count
        assert get_logs(on_devnet, latest=True) == []

    asyncio.run(main())


def test_future_start_and_head_start_share_the_stream(
    on_devnet: FaultProxy, driver: Driver
) -> None:
    source, _ = driver.new_source()
    driver.mine()
    future = driver.head() + 5

    async def main() -> None:
        ahead = watch_task_published(source, from_block=future, poll_interval=FAST)
        first_ahead = asyncio.ensure_future(ahead.__anext__())
        poller = shared_poller()
        await until(lambda: poller.poll_count >= 2)
        now = watch_task_published(source, poll_interval=FAST)
        first_now = asyncio.ensure_future(now.__anext__())
        await joined(2)
        tasks = []
        while driver.head() < future + 2:
            task, receipt = await asyncio.to_thread(driver.publish_task, source)
            tasks.append((task, receipt["blockNumber"]))
        got_now = [await asyncio.wait_for(first_now, 60), *await take(now, len(tasks) - 1)]
        assert [e.task for e in got_now] == [t for t, _ in tasks]
        expected_ahead = [t for t, block in tasks if block >= future]
        assert 0 < len(expected_ahead) < len(tasks)
        got_ahead = [await asyncio.wait_for(first_ahead, 60)]
        got_ahead += await take(ahead, len(expected_ahead) - 1)
        assert [e.task for e in got_ahead] == expected_ahead
        last = driver.head()
        await assert_nothing_more(now, last)
        await assert_nothing_more(ahead, last)

    asyncio.run(main())
