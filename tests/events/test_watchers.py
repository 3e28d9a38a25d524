"""ogpu.events watchers against the HTTP devnet, through a switchable loopback proxy."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from web3 import Web3
from web3.types import TxReceipt

from ogpu.chain import ChainConfig, ChainId, Web3Manager
from ogpu.events import (
    AttemptedEvent,
    EventPoller,
    PollerSettings,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
    get_poller_settings,
    set_poller_settings,
    watch_attempted,
    watch_registered,
    watch_response_status_changed,
    watch_response_submitted,
    watch_task_published,
    watch_task_status_changed,
)
from ogpu.types import InvalidInputError, ResponseStatus, TaskStatus

from ..helpers.proxy import Fault, FaultProxy
from .conftest import get_logs, wider_than

pytestmark = pytest.mark.slow

if TYPE_CHECKING:
    from conftest import Driver

    from ogpu.devnet import Devnet

T = TypeVar("T")
FAST = 0.05


@pytest.fixture(autouse=True)
def _fast_backoff() -> Iterator[None]:
    previous = get_poller_settings()
    set_poller_settings(PollerSettings(backoff_initial=0.05, backoff_max=0.2))
    try:
        yield
    finally:
        set_poller_settings(previous)


HEAD = ["eth_getBlockByNumber"]


def _is_poll(methods: list[str]) -> bool:
    """One poll's batch: exactly one eth_getLogs, then block headers (the head first)."""
    return (
        len(methods) >= 2
        and methods[0] == "eth_getLogs"
        and all(m == "eth_getBlockByNumber" for m in methods[1:])
    )


def _requests(proxy: FaultProxy) -> int:
    with proxy.lock:
        return len(proxy.batches)


def _poller() -> EventPoller:
    return EventPoller.shared(
        Web3Manager.get_web3_instance(), ChainConfig.get_contract_address("NEXUS")
    )


async def _take(stream: AsyncIterator[T], count: int, timeout: float = 60.0) -> list[T]:
    return [await asyncio.wait_for(stream.__anext__(), timeout) for _ in range(count)]


async def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    async def spin() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(spin(), timeout)


async def _assert_nothing_more(stream: AsyncIterator[Any], last_block: int) -> None:
    """Once the poller has fetched past ``last_block`` every event is queued: none may remain."""
    poller = _poller()
    await _until(lambda: poller.cursor is not None and poller.cursor > last_block)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.05)


def _hex(value: Any) -> str:
    return Web3.to_hex(value)


def _logs(driver: Driver, receipts: list[TxReceipt], name: str) -> list[Any]:
    return [event for r in receipts for event in driver.nexus_events(r, name)]


def _meta(event: Any) -> dict[str, Any]:
    return {
        "block_number": event["blockNumber"],
        "transaction_hash": _hex(event["transactionHash"]),
        "log_index": event["logIndex"],
    }


def test_each_watcher_replays_exactly_its_events_in_chain_order(
    on_devnet: FaultProxy, driver: Driver
) -> None:
    start = driver.head() + 1
    p0, p1 = driver.providers[:2]
    source, r_source = driver.new_source()
    other_source, _ = driver.new_source()
    receipts = [r_source, driver.register(source, p0), driver.register(source, p1)]
    receipts.append(driver.register(other_source, p0))
    task, r_task = driver.publish_task(source)
    other_task, r_other = driver.publish_task(other_source)
    receipts += [r_task, r_other]
    receipts += [driver.attempt(task, p0, 11), driver.attempt(task, p1, 12)]
    receipts.append(driver.attempt(other_task, p0, 13))
    response, r_resp = driver.submit(task, p0, "https://out.invalid/1")
    receipts += [r_resp, driver.submit(other_task, p0, "https://out.invalid/2")[1]]
    receipts.append(driver.confirm(response))
    last = driver.head()

    expected_published = [
        TaskPublishedEvent(task=e["args"]["task"], source=e["args"]["source"], **_meta(e))
        for e in _logs(driver, receipts, "TaskPublished")
        if e["args"]["source"] == source
    ]
    expected_registered = [
        RegisteredEvent(
            provider=e["args"]["provider"],
            registrant_id=e["args"]["registrantId"],
            source=e["args"]["source"],
            **_meta(e),
        )
        for e in _logs(driver, receipts, "Registered")
        if e["args"]["source"] == source
    ]
    expected_attempted = [
        AttemptedEvent(
            task=e["args"]["task"],
            provider=e["args"]["provider"],
            suggested_payment=e["args"]["suggestedPayment"],
            **_meta(e),
        )
        for e in _logs(driver, receipts, "Attempted")
        if e["args"]["task"] == task
    ]
    expected_submitted = [
        ResponseSubmittedEvent(response=e["args"]["response"], task=e["args"]["task"], **_meta(e))
        for e in _logs(driver, receipts, "ResponseSubmitted")
        if e["args"]["task"] == task
    ]
    expected_response_status = [
        ResponseStatusChangedEvent(
            response=e["args"]["response"], status=ResponseStatus(e["args"]["status"]), **_meta(e)
        )
        for e in _logs(driver, receipts, "ResponseStatusChanged")
        if e["args"]["response"] == response
    ]
    expected_task_status = [
        TaskStatusChangedEvent(
            task=e["args"]["task"], status=TaskStatus(e["args"]["status"]), **_meta(e)
        )
        for e in _logs(driver, receipts, "TaskStatusChanged")
        if e["args"]["task"] == task
    ]
    assert [e.status for e in expected_task_status] == [
        TaskStatus.ATTEMPTED,
        TaskStatus.RESPONDED,
        TaskStatus.FINALIZED,
    ]
    assert [e.status for e in expected_response_status] == [ResponseStatus.CONFIRMED]
    assert len(expected_registered) == 2 and len(expected_attempted) == 2

    async def main() -> None:
        streams: list[tuple[AsyncIterator[Any], list[Any]]] = [
            (
                watch_task_published(source.lower(), from_block=start, poll_interval=FAST),
                expected_published,
            ),
            (watch_registered(source, from_block=start, poll_interval=FAST), expected_registered),
            (
                watch_attempted(
                    task.upper().replace("0X", "0x"), from_block=start, poll_interval=FAST
                ),
                expected_attempted,
            ),
            (
                watch_response_submitted(task, from_block=start, poll_interval=FAST),
                expected_submitted,
            ),
            (
                watch_response_status_changed(response, from_block=start, poll_interval=FAST),
                expected_response_status,
            ),
            (
                watch_task_status_changed(task, from_block=start, poll_interval=FAST),
                expected_task_status,
            ),
        ]
        for stream, expected in streams:
            assert await _take(stream, len(expected)) == expected
        for stream, _ in streams:
            await _assert_nothing_more(stream, last)

    asyncio.run(main())


def test_live_watchers_from_head(on_devnet: FaultProxy, driver: Driver) -> None:
    p0 = driver.providers[0]
    source, _ = driver.new_source()
    driver.register(source, p0)
    old_task, _ = driver.publish_task(source)
    driver.mine()  # the head (where from_block=None starts, inclusive) is past old_task

    async def main() -> None:
        published = watch_task_published(source, poll_interval=FAST)
        first = asyncio.ensure_future(published.__anext__())
        poller = _poller()
        await _until(lambda: poller.subscriber_count == 1 and poller.pending_count == 0)
        task, receipt = await asyncio.to_thread(driver.publish_task, source)
        event = await asyncio.wait_for(first, 60)
        assert event.task == task != old_task
        assert event.source == source
        assert event.block_number == receipt["blockNumber"]
        assert event.transaction_hash == _hex(receipt["transactionHash"])

        statuses = watch_task_status_changed(task, poll_interval=FAST)
        attempts = watch_attempted(task, poll_interval=FAST)
        pending = [asyncio.ensure_future(s.__anext__()) for s in (statuses, attempts)]
        await _until(lambda: poller.subscriber_count == 3 and poller.pending_count == 0)
        await asyncio.to_thread(driver.attempt, task, p0, 99)
        status_event, attempt_event = await asyncio.wait_for(asyncio.gather(*pending), 60)
        assert status_event.status is TaskStatus.ATTEMPTED
        assert (attempt_event.provider, attempt_event.suggested_payment) == (p0, 99)
        await published.aclose()
        await statuses.aclose()
        await attempts.aclose()
        assert poller.subscriber_count == 0

    asyncio.run(main())


def test_late_joiner_with_older_from_block_catches_up_without_duplicates(
    on_devnet: FaultProxy, driver: Driver
) -> None:
    source, _ = driver.new_source()
    start = driver.head()
    early = [driver.publish_task(source)[0] for _ in range(3)]
    driver.mine()  # watchers from the head (inclusive) must not see the early tasks

    async def main() -> None:
        live = watch_task_published(source, poll_interval=FAST)
        first = asyncio.ensure_future(live.__anext__())
        poller = _poller()
        await _until(lambda: poller.pending_count == 0 and poller.subscriber_count == 1)
        middle, _ = await asyncio.to_thread(driver.publish_task, source)
        assert (await asyncio.wait_for(first, 60)).task == middle

        on_devnet.reset_counts()
        replay = watch_task_published(source, from_block=start, poll_interval=FAST)
        got = await _take(replay, 4)
        assert [e.task for e in got] == [*early, middle]
        catch_up = [p for p in get_logs(on_devnet) if int(p["fromBlock"], 16) == start]
        assert catch_up, "the late joiner's history came from a fetch starting at its block"
        # It joined the shared schedule: its history rode in a regular poll's batch.
        assert all(_is_poll(r) for r in on_devnet.batches)

        late, _ = await asyncio.to_thread(driver.publish_task, source)
        assert [e.task for e in await _take(replay, 1)] == [late]
        assert [e.task for e in await _take(live, 1)] == [late]
        last = driver.head()
        await _assert_nothing_more(live, last)
        await _assert_nothing_more(replay, last)

    asyncio.run(main())


def test_outage_loses_and_repeats_nothing(
    on_devnet: FaultProxy, driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    source, _ = driver.new_source()
    start = driver.head() + 1
    caplog.set_level(logging.WARNING, logger="ogpu.events")

    async def main() -> None:
        stream = watch_task_published(source, from_block=start, poll_interval=FAST)
        t1, _ = driver.publish_task(source)
        assert [e.task for e in await _take(stream, 1)] == [t1]

        on_devnet.add("*", Fault.HTTP_502, times=None)
        seen = _requests(on_devnet)
        await _until(lambda: _requests(on_devnet) >= seen + 3)
        t2, _ = await asyncio.to_thread(driver.publish_task, source)
        t3, _ = await asyncio.to_thread(driver.publish_task, source)
        seen = _requests(on_devnet)
        await _until(lambda: _requests(on_devnet) >= seen + 3)

        on_devnet.stop()
        warnings = len(caplog.records)
        t4, _ = await asyncio.to_thread(driver.publish_task, source)
        await _until(lambda: len(caplog.records) >= warnings + 2)
        assert any("Connection" in r.getMessage() for r in caplog.records[warnings:])

        on_devnet.clear()
        on_devnet.start()
        t5, _ = await asyncio.to_thread(driver.publish_task, source)
        got = await _take(stream, 4)
        assert [e.task for e in got] == [t2, t3, t4, t5]
        assert [e.block_number for e in got] == sorted(e.block_number for e in got)
        await _assert_nothing_more(stream, driver.head())

    asyncio.run(main())
    assert any("502" in r.getMessage() for r in caplog.records)


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
        poller = _poller()
        await _until(lambda: poller.subscriber_count == 50 and poller.pending_count == 0)
        # The first request only reads the head; from then on every poll is one batch.
        seen = _requests(on_devnet)
        await _until(lambda: _requests(on_devnet) >= seen + 2)
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
            assert [e.task for e in await _take(stream, 3)] == new_tasks[1:]

        polls = _requests(on_devnet)
        fetches = on_devnet.count("eth_getLogs")
        print(f"50 watchers: {polls} polls, {fetches} eth_getLogs")
        assert set(on_devnet.sequence) == {"eth_getBlockByNumber", "eth_getLogs"}
        assert 1 <= fetches < 50
        # Steady state: every poll is one HTTP request (headers + one getLogs batch).
        assert on_devnet.batches
        assert all(_is_poll(r) for r in on_devnet.batches)
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
        assert [e.task for e in await _take(stream, 5)] == tasks
        await _assert_nothing_more(stream, last)

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
        assert [e.task for e in await _take(stream, 3)] == tasks
        await _assert_nothing_more(stream, driver.head())

    asyncio.run(main())
    served = [
        (int(p["fromBlock"], 16), int(p["toBlock"], 16))
        for p in get_logs(on_devnet)
        if int(p["toBlock"], 16) - int(p["fromBlock"], 16) + 1 <= 2
    ]
    assert served and served[0][0] == start


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("not an address", {}),
        ("0x" + "ab" * 19, {}),
        (None, {}),
        ("0x" + "11" * 20, {"from_block": -1}),
        ("0x" + "11" * 20, {"from_block": "latest"}),
        ("0x" + "11" * 20, {"poll_interval": 0}),
        ("0x" + "11" * 20, {"poll_interval": float("nan")}),
    ],
)
def test_bad_arguments_fail_before_any_rpc(
    on_devnet: FaultProxy, call: Any, kwargs: dict[str, Any]
) -> None:
    async def main() -> None:
        for watcher in (watch_task_published, watch_attempted, watch_registered):
            with pytest.raises(InvalidInputError):
                await watcher(call, **kwargs).__anext__()

    on_devnet.reset_counts()
    asyncio.run(main())
    assert sum(on_devnet.received.values()) == 0


def test_in_process_devnet_provider(devnet: Devnet, make_driver: type[Driver]) -> None:
    driver = make_driver(devnet.w3, devnet.deployment)
    ChainConfig.use_devnet(devnet.deployment, web3=devnet.w3)
    try:
        source, _ = driver.new_source()
        start = driver.head()
        early = driver.publish_task(source)[0]

        async def main() -> None:
            stream = watch_task_published(source, from_block=start, poll_interval=FAST)
            assert [e.task for e in await _take(stream, 1)] == [early]
            late = driver.publish_task(source)[0]
            assert [e.task for e in await _take(stream, 1)] == [late]
            await _assert_nothing_more(stream, driver.head())

        asyncio.run(main())
    finally:
        Web3Manager.set_web3_instance(ChainId.OGPU_DEVNET, None)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)


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
        poller = _poller()
        await _until(lambda: poller.subscriber_count == 12 and poller.pending_count == 0)
        # The first request only reads the head; from then on every poll is one batch.
        seen = _requests(on_devnet)
        await _until(lambda: _requests(on_devnet) >= seen + 2)
        on_devnet.reset_counts()
        published = []
        for source in sources * 2:
            published.append((await asyncio.to_thread(driver.publish_task, source))[0])
        got = await asyncio.wait_for(asyncio.gather(*firsts), 60)
        assert [e.task for e in got] == [t for t in published[:3] for _ in range(4)]
        for index, stream in enumerate(streams):
            assert [e.task for e in await _take(stream, 1)] == [published[3 + index // 4]]
        last = driver.head()
        for stream in streams:
            await _assert_nothing_more(stream, last)

        requests = list(on_devnet.batches)
        assert len(requests) >= 3
        assert all(_is_poll(r) for r in requests), requests
        assert get_logs(on_devnet, latest=True) == []
        assert len(get_logs(on_devnet)) == len(requests)

    asyncio.run(main())


async def _stop(streams: list[AsyncIterator[Any]]) -> EventPoller:
    """Close every stream and wait for the shared poller's task to end (no poll in flight)."""
    poller = _poller()
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]
    await _until(lambda: not poller.running)
    return poller


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
        poller = await _stop(streams)

        # 20 watchers, one schedule: a single head read when the poller starts,
        # then exactly one HTTP request (headers + one getLogs batch) per poll.
        requests = list(on_devnet.batches)
        assert requests[0] == HEAD
        assert requests[1:] and all(_is_poll(r) for r in requests[1:])
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
        assert [e.task for e in await _take(first, 2)] == early
        poller = _poller()
        replays: list[AsyncIterator[TaskPublishedEvent]] = []
        lives: list[AsyncIterator[TaskPublishedEvent]] = []
        firsts: dict[int, asyncio.Future[TaskPublishedEvent]] = {}
        for index in range(6):
            # Join at a different moment of each interval, while the poller runs.
            polls = poller.poll_count
            await _until(lambda polls=polls: poller.poll_count > polls)
            await asyncio.sleep(FAST * index / 6)
            stream = watch_task_published(
                source, from_block=None if index % 2 else start, poll_interval=FAST
            )
            (lives if index % 2 else replays).append(stream)
            firsts[id(stream)] = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0)  # the first __anext__ subscribes
            assert poller.subscriber_count == index + 2
        for replay in replays:
            got = [await asyncio.wait_for(firsts.pop(id(replay)), 60), *await _take(replay, 1)]
            assert [e.task for e in got] == early
        # Every joiner's start is settled (by the next poll's head) before the next
        # task is published: from_block=None means only events after that head.
        await _until(lambda: poller.pending_count == 0)
        late, _ = await asyncio.to_thread(driver.publish_task, source)
        for stream in [first, *replays]:
            assert [e.task for e in await _take(stream, 1)] == [late]
        got = await asyncio.wait_for(asyncio.gather(*firsts.values()), 60)
        assert [e.task for e in got] == [late] * len(lives)
        last = driver.head()
        for stream in [first, *replays, *lives]:
            await _assert_nothing_more(stream, last)
        poller = await _stop([first, *replays, *lives])

        # No join polled on its own: histories came inside the regular batches.
        requests = list(on_devnet.batches)
        assert requests[0] == HEAD
        assert all(_is_poll(r) for r in requests[1:])
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
        poller = _poller()
        await _until(lambda: poller.poll_count >= 2)
        now = watch_task_published(source, poll_interval=FAST)
        first_now = asyncio.ensure_future(now.__anext__())
        await _until(lambda: poller.subscriber_count == 2 and poller.pending_count == 0)
        tasks = []
        while driver.head() < future + 2:
            task, receipt = await asyncio.to_thread(driver.publish_task, source)
            tasks.append((task, receipt["blockNumber"]))
        got_now = [await asyncio.wait_for(first_now, 60), *await _take(now, len(tasks) - 1)]
        assert [e.task for e in got_now] == [t for t, _ in tasks]
        expected_ahead = [t for t, block in tasks if block >= future]
        assert 0 < len(expected_ahead) < len(tasks)
        got_ahead = [await asyncio.wait_for(first_ahead, 60)]
        got_ahead += await _take(ahead, len(expected_ahead) - 1)
        assert [e.task for e in got_ahead] == expected_ahead
        last = driver.head()
        await _assert_nothing_more(now, last)
        await _assert_nothing_more(ahead, last)

    asyncio.run(main())


def test_publish_then_watch_does_not_see_its_own_task(
    on_devnet: FaultProxy, driver: Driver
) -> None:
    """``from_block=None`` promises only new events: the head block is not replayed."""
    source, _ = driver.new_source()

    async def main() -> None:
        own, receipt = await asyncio.to_thread(driver.publish_task, source)
        assert driver.head() == receipt["blockNumber"]  # the task is in the head block
        stream = watch_task_published(source, poll_interval=FAST)
        first = asyncio.ensure_future(stream.__anext__())
        poller = _poller()
        await _until(lambda: poller.subscriber_count == 1 and poller.pending_count == 0)
        later, _ = await asyncio.to_thread(driver.publish_task, source)
        assert (await asyncio.wait_for(first, 60)).task == later != own
        await _assert_nothing_more(stream, driver.head())
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
