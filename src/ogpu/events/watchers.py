"""The six ``watch_*`` async generators over Nexus events.

Each watcher subscribes to the event loop's shared :class:`EventPoller` for the
current chain (``ogpu.chain``), so any number of watchers cost one poll per
interval (the smallest ``poll_interval`` among them): on HTTP one request, a
JSON-RPC batch of ``eth_getLogs`` over explicit block numbers and a few block
headers, plus one header read when the poller starts. Joining does not poll: a new
watcher is served by the next scheduled poll, history from its ``from_block``
included. Nexus events have no indexed parameters: the poller fetches every log
of the event type and the watcher keeps those whose scoping address matches
(case-insensitively).

``from_block=None`` yields only new events: those of blocks after the head that
the next poll reads (the head block itself is not replayed, so a task published
before the watch started is not yielded). ``confirmations=N`` yields an event
once its block is N blocks below the head (fewer rewinds, later events).

Nothing is lost or repeated across lagging replicas and node outages. When the
chain is rewound (a reorganisation, a node restarted from older state) the
watcher re-delivers the new blocks' events; each event it had already yielded
from the dropped blocks is passed to ``on_removed`` (a function or coroutine
function of the event), newest first, before anything new is yielded; without
``on_removed`` the removal is logged (warning, logger ``ogpu.events``). RPC
outages are retried with backoff forever; the generators never raise for them.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, Generic, TypeVar

from ogpu_bindings.events import nexus as _nexus
from ogpu_bindings.runtime import ContractEvent, check_address

from ogpu.events._settings import check_int, check_positive
from ogpu.events._web3 import get_async_web3, get_nexus_contract  # noqa: F401 - official names
from ogpu.events.poller import EventPoller, Subscription
from ogpu.events.types import (
    AttemptedEvent,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
)

# ResponseStatus and TaskStatus: 0.2.3 exposes them from this module.
from ogpu.types import InvalidInputError, ResponseStatus, TaskStatus  # noqa: F401

E = TypeVar("E")

logger = logging.getLogger("ogpu.events")

OnRemoved = Callable[[E], object]


@dataclasses.dataclass(frozen=True)
class _Spec(Generic[E]):
    """One watched event: its topic and decoder (generated), the field of the decoded
    event that scopes it to the watcher's address, and the public type yielded."""

    topic: str
    decode: Callable[[Any], ContractEvent]
    scope: str
    public: type[E]

    def build(self, decoded: Any) -> E:
        """The public event: the generated event's fields of the same names."""
        names = (f.name for f in dataclasses.fields(self.public))  # type: ignore[arg-type]
        return self.public(**{name: getattr(decoded, name) for name in names})


_TASK_PUBLISHED = _Spec(
    _nexus.TASK_PUBLISHED_TOPIC, _nexus.decode_task_published, "source", TaskPublishedEvent
)
_ATTEMPTED = _Spec(_nexus.ATTEMPTED_TOPIC, _nexus.decode_attempted, "task", AttemptedEvent)
_RESPONSE_SUBMITTED = _Spec(
    _nexus.RESPONSE_SUBMITTED_TOPIC,
    _nexus.decode_response_submitted,
    "task",
    ResponseSubmittedEvent,
)
_RESPONSE_STATUS_CHANGED = _Spec(
    _nexus.RESPONSE_STATUS_CHANGED_TOPIC,
    _nexus.decode_response_status_changed,
    "response",
    ResponseStatusChangedEvent,
)
_TASK_STATUS_CHANGED = _Spec(
    _nexus.TASK_STATUS_CHANGED_TOPIC,
    _nexus.decode_task_status_changed,
    "task",
    TaskStatusChangedEvent,
)
_REGISTERED = _Spec(_nexus.REGISTERED_TOPIC, _nexus.decode_registered, "source", RegisteredEvent)


def _validate(
    name: str,
    address: str,
    from_block: int | None,
    poll_interval: float,
    confirmations: int,
    on_removed: object,
) -> str:
    scope = check_address(address, name).lower()
    if from_block is not None:
        check_int("from_block", from_block, 0)
    check_positive("poll_interval", poll_interval, "a positive number of seconds")
    check_int("confirmations", confirmations, 0)
    if on_removed is not None and not callable(on_removed):
        raise InvalidInputError("on_removed must be callable or None", param="on_removed")
    return scope


def _current_poller() -> EventPoller:
    from ogpu.chain import ChainConfig, Web3Manager

    return EventPoller.shared(
        Web3Manager.get_web3_instance(), ChainConfig.get_contract_address("NEXUS")
    )


async def _watch(
    spec: _Spec[E],
    name: str,
    address: str,
    from_block: int | None,
    poll_interval: float,
    confirmations: int,
    on_removed: OnRemoved[E] | None,
) -> AsyncGenerator[E, None]:
    """The one watcher: validate, subscribe to the shared poller, yield its events and
    settle its removal notices; unsubscribe when closed."""
    scope = _validate(name, address, from_block, poll_interval, confirmations, on_removed)

    def accept(decoded: Any) -> E | None:
        return spec.build(decoded) if getattr(decoded, spec.scope).lower() == scope else None

    sub: Subscription[E] = Subscription(
        topic=spec.topic.lower(),
        decode=spec.decode,
        accept=accept,
        start=from_block,
        poll_interval=float(poll_interval),
        confirmations=confirmations,
        next_block=from_block or 0,
    )
    poller = _current_poller()
    poller.subscribe(sub)
    try:
        while True:
            removed, event = await sub.next()
            if not removed:
                yield event
            elif on_removed is None:
                logger.warning("event removed by a chain rewind (no on_removed given): %s", event)
            elif inspect.isawaitable(outcome := on_removed(event)):
                await outcome
    finally:
        poller.unsubscribe(sub)


async def watch_task_published(
    source_address: str,
    *,
    from_block: int | None = None,
    poll_interval: float = 2.0,
    confirmations: int = 0,
    on_removed: OnRemoved[TaskPublishedEvent] | None = None,
) -> AsyncIterator[TaskPublishedEvent]:
    """Yield ``TaskPublished`` events of tasks published to ``source_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block``, ``poll_interval``, ``confirmations`` or ``on_removed``) on the
    first iteration, before any RPC.
    """
    args = (source_address, from_block, poll_interval, confirmations, on_removed)
    async with aclosing(_watch(_TASK_PUBLISHED, "source_address", *args)) as events:
        async for event in events:
            yield event


async def watch_attempted(
    task_address: str,
    *,
    from_block: int | None = None,
    poll_interval: float = 2.0,
    confirmations: int = 0,
    on_removed: OnRemoved[AttemptedEvent] | None = None,
) -> AsyncIterator[AttemptedEvent]:
    """Yield ``Attempted`` events of ``task_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block``, ``poll_interval``, ``confirmations`` or ``on_removed``) on the
    first iteration, before any RPC.
    """
    args = (task_address, from_block, poll_interval, confirmations, on_removed)
    async with aclosing(_watch(_ATTEMPTED, "task_address", *args)) as events:
        async for event in events:
            yield event


async def watch_response_submitted(
    task_address: str,
    *,
    from_block: int | None = None,
    poll_interval: float = 2.0,
    confirmations: int = 0,
    on_removed: OnRemoved[ResponseSubmittedEvent] | None = None,
) -> AsyncIterator[ResponseSubmittedEvent]:
    """Yield ``ResponseSubmitted`` events of responses to ``task_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block``, ``poll_interval``, ``confirmations`` or ``on_removed``) on the
    first iteration, before any RPC.
    """
    args = (task_address, from_block, poll_interval, confirmations, on_removed)
    async with aclosing(_watch(_RESPONSE_SUBMITTED, "task_address", *args)) as events:
        async for event in events:
            yield event


async def watch_response_status_changed(
    response_address: str,
    *,
    from_block: int | None = None,
    poll_interval: float = 2.0,
    confirmations: int = 0,
    on_removed: OnRemoved[ResponseStatusChangedEvent] | None = None,
) -> AsyncIterator[ResponseStatusChangedEvent]:
    """Yield ``ResponseStatusChanged`` events of ``response_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block``, ``poll_interval``, ``confirmations`` or ``on_removed``) on the
    first iteration, before any RPC.
    """
    args = (response_address, from_block, poll_interval, confirmations, on_removed)
    async with aclosing(_watch(_RESPONSE_STATUS_CHANGED, "response_address", *args)) as events:
        async for event in events:
            yield event


async def watch_task_status_changed(
    task_address: str,
    *,
    from_block: int | None = None,
    poll_interval: float = 2.0,
    confirmations: int = 0,
    on_removed: OnRemoved[TaskStatusChangedEvent] | None = None,
) -> AsyncIterator[TaskStatusChangedEvent]:
    """Yield ``TaskStatusChanged`` events of ``task_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block``, ``poll_interval``, ``confirmations`` or ``on_removed``) on the
    first iteration, before any RPC.
    """
    args = (task_address, from_block, poll_interval, confirmations, on_removed)
    async with aclosing(_watch(_TASK_STATUS_CHANGED, "task_address", *args)) as events:
        async for event in events:
            yield event


async def watch_registered(
    source_address: str,
    *,
    from_block: int | None = None,
    poll_interval: float = 2.0,
    confirmations: int = 0,
    on_removed: OnRemoved[RegisteredEvent] | None = None,
) -> AsyncIterator[RegisteredEvent]:
    """Yield ``Registered`` events of providers registering to ``source_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block``, ``poll_interval``, ``confirmations`` or ``on_removed``) on the
    first iteration, before any RPC.
    """
    args = (source_address, from_block, poll_interval, confirmations, on_removed)
    async with aclosing(_watch(_REGISTERED, "source_address", *args)) as events:
        async for event in events:
            yield event
