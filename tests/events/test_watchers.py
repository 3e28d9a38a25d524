"""ogpu.events watchers against the HTTP devnet, through the suite's proxy: what they
deliver (every event once, in chain order, across outages and late joins)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from web3 import Web3

from ogpu.events import (
    watch_attempted,
    watch_registered,
    watch_response_status_changed,
    watch_response_submitted,
    watch_task_published,
    watch_task_status_changed,
)
from ogpu.types import InvalidInputError, ResponseStatus, TaskStatus

from ..helpers.proxy import Fault, FaultProxy
from ..helpers.state import devnet_selected
from ..helpers.streams import (
    FAST,
    assert_nothing_more,
    expected_events,
    joined,
    take,
    until,
)
from .conftest import get_logs, is_poll, more_requests

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fast_backoff")]

if TYPE_CHECKING:
    from conftest import Driver

    from ogpu.devnet import Devnet


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

    def expect(name: str, **where: str) -> list[Any]:
        logs = [event for r in receipts for event in driver.nexus_events(r, name)]
        return expected_events(logs, name, **where)

    expected_published = expect("TaskPublished", source=source)
    expected_registered = expect("Registered", source=source)
    expected_attempted = expect("Attempted", task=task)
    expected_submitted = expect("ResponseSubmitted", task=task)
    expected_response_status = expect("ResponseStatusChanged", response=response)
    expected_task_status = expect("TaskStatusChanged", task=task)
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
            assert await take(stream, len(expected)) == expected
        for stream, _ in streams:
            await assert_nothing_more(stream, last)

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
        poller = await joined(1)
        task, receipt = await asyncio.to_thread(driver.publish_task, source)
        event = await asyncio.wait_for(first, 60)
        assert event.task == task != old_task
        assert event.source == source
        assert event.block_number == receipt["blockNumber"]
        assert event.transaction_hash == Web3.to_hex(receipt["transactionHash"])

        statuses = watch_task_status_changed(task, poll_interval=FAST)
        attempts = watch_attempted(task, poll_interval=FAST)
        pending = [asyncio.ensure_future(s.__anext__()) for s in (statuses, attempts)]
        await joined(3)
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
        await joined(1)
        middle, _ = await asyncio.to_thread(driver.publish_task, source)
        assert (await asyncio.wait_for(first, 60)).task == middle

        on_devnet.reset_counts()
        replay = watch_task_published(source, from_block=start, poll_interval=FAST)
        got = await take(replay, 4)
        assert [e.task for e in got] == [*early, middle]
        catch_up = [p for p in get_logs(on_devnet) if int(p["fromBlock"], 16) == start]
        assert catch_up, "the late joiner's history came from a fetch starting at its block"
        # It joined the shared schedule: its history rode in a regular poll's batch.
        assert all(is_poll(r) for r in on_devnet.batches)

        late, _ = await asyncio.to_thread(driver.publish_task, source)
        assert [e.task for e in await take(replay, 1)] == [late]
        assert [e.task for e in await take(live, 1)] == [late]
        last = driver.head()
        await assert_nothing_more(live, last)
        await assert_nothing_more(replay, last)

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
        assert [e.task for e in await take(stream, 1)] == [t1]

        on_devnet.add("*", Fault.HTTP_502, times=None)
        await more_requests(on_devnet, 3)
        t2, _ = await asyncio.to_thread(driver.publish_task, source)
        t3, _ = await asyncio.to_thread(driver.publish_task, source)
        await more_requests(on_devnet, 3)

        on_devnet.stop()
        warnings = len(caplog.records)
        t4, _ = await asyncio.to_thread(driver.publish_task, source)
        await until(lambda: len(caplog.records) >= warnings + 2)
        assert any("Connection" in r.getMessage() for r in caplog.records[warnings:])

        on_devnet.clear()
        on_devnet.start()
        t5, _ = await asyncio.to_thread(driver.publish_task, source)
        got = await take(stream, 4)
        assert [e.task for e in got] == [t2, t3, t4, t5]
        assert [e.block_number for e in got] == sorted(e.block_number for e in got)
        await assert_nothing_more(stream, driver.head())

    asyncio.run(main())
    assert any("502" in r.getMessage() for r in caplog.records)


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
    with devnet_selected(devnet.deployment, web3=devnet.w3):
        source, _ = driver.new_source()
        start = driver.head()
        early = driver.publish_task(source)[0]

        async def main() -> None:
            stream = watch_task_published(source, from_block=start, poll_interval=FAST)
            assert [e.task for e in await take(stream, 1)] == [early]
            late = driver.publish_task(source)[0]
            assert [e.task for e in await take(stream, 1)] == [late]
            await assert_nothing_more(stream, driver.head())

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
        await joined(1)
        later, _ = await asyncio.to_thread(driver.publish_task, source)
        assert (await asyncio.wait_for(first, 60)).task == later != own
        await assert_nothing_more(stream, driver.head())
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
