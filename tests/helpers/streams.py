"""Consuming ``ogpu.events`` watchers in tests: the shared poller, awaiting events with a
bound, the events a watcher must yield for given logs, and ``fast_backoff``.

``fast_backoff`` is a fixture (registered suite-wide by tests/conftest.py, opt-in): a
module asks for it with ``pytestmark = pytest.mark.usefixtures("fast_backoff")``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar

import pytest
from web3 import Web3

from ogpu.chain import ChainConfig, Web3Manager
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
)
from ogpu.types import ResponseStatus, TaskStatus

__all__ = [
    "FAST",
    "assert_nothing_more",
    "expected_events",
    "fast_backoff",
    "joined",
    "shared_poller",
    "stop",
    "take",
    "until",
]

T = TypeVar("T")

#: A watcher's poll interval in these tests (s).
FAST = 0.05

#: Per event name: the typed event, and its fields' names in the log's args.
_FIELDS: dict[str, tuple[type[Any], dict[str, str]]] = {
    "TaskPublished": (TaskPublishedEvent, {"task": "task", "source": "source"}),
    "Registered": (
        RegisteredEvent,
        {"provider": "provider", "registrant_id": "registrantId", "source": "source"},
    ),
    "Attempted": (
        AttemptedEvent,
        {"task": "task", "provider": "provider", "suggested_payment": "suggestedPayment"},
    ),
    "ResponseSubmitted": (ResponseSubmittedEvent, {"response": "response", "task": "task"}),
    "ResponseStatusChanged": (
        ResponseStatusChangedEvent,
        {"response": "response", "status": "status"},
    ),
    "TaskStatusChanged": (TaskStatusChangedEvent, {"task": "task", "status": "status"}),
}
_STATUS: dict[str, type[Any]] = {
    "ResponseStatusChanged": ResponseStatus,
    "TaskStatusChanged": TaskStatus,
}


@pytest.fixture
def fast_backoff() -> Iterator[None]:
    """The shared poller retries after 0.05-0.2 s (not its defaults) during the test."""
    previous = get_poller_settings()
    set_poller_settings(PollerSettings(backoff_initial=0.05, backoff_max=0.2))
    try:
        yield
    finally:
        set_poller_settings(previous)


def shared_poller() -> EventPoller:
    """The poller every watcher of the selected chain shares."""
    return EventPoller.shared(
        Web3Manager.get_web3_instance(), ChainConfig.get_contract_address("NEXUS")
    )


async def until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``predicate`` in the loop; TimeoutError after ``timeout`` seconds."""

    async def spin() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(spin(), timeout)


async def joined(count: int) -> EventPoller:
    """The shared poller once it has ``count`` subscribers and has settled every start."""
    poller = shared_poller()
    await until(lambda: poller.subscriber_count == count and poller.pending_count == 0)
    return poller


async def take(stream: AsyncIterator[T], count: int, timeout: float = 60.0) -> list[T]:
    """The next ``count`` items of ``stream``, each within ``timeout`` seconds."""
    return [await asyncio.wait_for(stream.__anext__(), timeout) for _ in range(count)]


async def assert_nothing_more(stream: AsyncIterator[Any], last_block: int) -> None:
    """Once the poller has fetched past ``last_block`` every event is queued: none may remain."""
    poller = shared_poller()
    await until(lambda: poller.cursor is not None and poller.cursor > last_block)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.05)


async def stop(streams: list[AsyncIterator[Any]]) -> EventPoller:
    """Close every stream and wait for the shared poller's task to end (no poll in flight)."""
    poller = shared_poller()
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]
    await until(lambda: not poller.running)
    return poller


def expected_events(logs: Iterable[Any], name: str, **where: str) -> list[Any]:
    """The typed events a watcher must yield for the decoded ``name`` logs (web3's) whose
    args equal ``where`` (e.g. ``source=...``), in the logs' order."""
    cls, fields = _FIELDS[name]
    events = []
    for log in logs:
        args = log["args"]
        if any(args[key] != value for key, value in where.items()):
            continue
        values = {field: args[arg] for field, arg in fields.items()}
        if name in _STATUS:
            values["status"] = _STATUS[name](values["status"])
        events.append(
            cls(
                **values,
                block_number=log["blockNumber"],
                transaction_hash=Web3.to_hex(log["transactionHash"]),
                log_index=log["logIndex"],
            )
        )
    return events
