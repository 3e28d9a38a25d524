"""The six ``watch_*`` async generators over Nexus events.

Each watcher subscribes to the event loop's shared :class:`EventPoller` for the
current chain (``ogpu.chain``), so any number of watchers cost one poll per
interval (the smallest ``poll_interval`` among them): on HTTP one request, a
JSON-RPC batch of block headers and ``eth_getLogs`` over explicit block numbers,
plus one header read when the poller starts. Joining does not poll: a new
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

import inspect
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eth_utils.address import is_address
from ogpu_bindings.events import nexus as _nexus

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
from ogpu.types import InvalidAddressError, InvalidInputError, ResponseStatus, TaskStatus

E = TypeVar("E")

logger = logging.getLogger("ogpu.events")

OnRemoved = Callable[[E], object]


def _hash_text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text


@dataclass(frozen=True)
class _Spec(Generic[E]):
    event: str
    scope: Callable[[Any], str]
    build: Callable[[Any], E]

    @property
    def topic(self) -> str:
        return str(getattr(_nexus, f"{self.event.upper()}_TOPIC"))

    @property
    def decode(self) -> Callable[[Any], Any]:
        decoder: Callable[[Any], Any] = getattr(_nexus, f"decode_{self.event}")
        return decoder


_TASK_PUBLISHED = _Spec(
    event="task_published",
    scope=lambda e: e.source,
    build=lambda e: TaskPublishedEvent(
        task=e.task,
        source=e.source,
        block_number=e.block_number,
        transaction_hash=_hash_text(e.transaction_hash),
        log_index=e.log_index,
    ),
)
_ATTEMPTED = _Spec(
    event="attempted",
    scope=lambda e: e.task,
    build=lambda e: AttemptedEvent(
        task=e.task,
        provider=e.provider,
        suggested_payment=int(e.suggested_payment),
        block_number=e.block_number,
        transaction_hash=_hash_text(e.transaction_hash),
        log_index=e.log_index,
    ),
)
_RESPONSE_SUBMITTED = _Spec(
    event="response_submitted",
    scope=lambda e: e.task,
    build=lambda e: ResponseSubmittedEvent(
        response=e.response,
        task=e.task,
        block_number=e.block_number,
        transaction_hash=_hash_text(e.transaction_hash),
        log_index=e.log_index,
    ),
)
_RESPONSE_STATUS_CHANGED = _Spec(
    event="response_status_changed",
    scope=lambda e: e.response,
    build=lambda e: ResponseStatusChangedEvent(
        response=e.response,
        status=ResponseStatus(int(e.status)),
        block_number=e.block_number,
        transaction_hash=_hash_text(e.transaction_hash),
        log_index=e.log_index,
    ),
)
_TASK_STATUS_CHANGED = _Spec(
    event="task_status_changed",
    scope=lambda e: e.task,
    build=lambda e: TaskStatusChangedEvent(
        task=e.task,
        status=TaskStatus(int(e.status)),
        block_number=e.block_number,
        transaction_hash=_hash_text(e.transaction_hash),
        log_index=e.log_index,
    ),
)
_REGISTERED = _Spec(
    event="registered",
    scope=lambda e: e.source,
    build=lambda e: RegisteredEvent(
        provider=e.provider,
        registrant_id=int(e.registrant_id),
        source=e.source,
        block_number=e.block_number,
        transaction_hash=_hash_text(e.transaction_hash),
        log_index=e.log_index,
    ),
)


def _validate(
    name: str,
    address: str,
    from_block: int | None,
    poll_interval: float,
    confirmations: int,
    on_removed: object,
) -> str:
    if not isinstance(address, str) or not is_address(address):
        raise InvalidAddressError(f"{name} is not an address: {address!r}", param=name)
    if from_block is not None and (
        isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0
    ):
        raise InvalidInputError(
            f"from_block must be None or an int >= 0, got {from_block!r}", param="from_block"
        )
    if (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, (int, float))
        or not math.isfinite(poll_interval)
        or poll_interval <= 0
    ):
        raise InvalidInputError(
            f"poll_interval must be a positive number of seconds, got {poll_interval!r}",
            param="poll_interval",
        )
    if isinstance(confirmations, bool) or not isinstance(confirmations, int) or confirmations < 0:
        raise InvalidInputError(
            f"confirmations must be an int >= 0, got {confirmations!r}", param="confirmations"
        )
    if on_removed is not None and not callable(on_removed):
        raise InvalidInputError("on_removed must be callable or None", param="on_removed")
    return address.lower()


def _current_poller() -> EventPoller:
    from ogpu.chain import ChainConfig, Web3Manager

    return EventPoller.shared(
        Web3Manager.get_web3_instance(), ChainConfig.get_contract_address("NEXUS")
    )


def _open(
    spec: _Spec[E],
    name: str,
    address: str,
    from_block: int | None,
    poll_interval: float,
    confirmations: int,
    on_removed: OnRemoved[E] | None,
) -> AsyncGenerator[E, None]:
    scope = _validate(name, address, from_block, poll_interval, confirmations, on_removed)

    def accept(decoded: Any) -> E | None:
        if str(spec.scope(decoded)).lower() != scope:
            return None
        return spec.build(decoded)

    subscription: Subscription[E] = Subscription(
        topic=spec.topic.lower(),
        decode=spec.decode,
        accept=accept,
        start=from_block,
        poll_interval=float(poll_interval),
        confirmations=confirmations,
        next_block=from_block or 0,
    )
    return _follow(_current_poller(), subscription, on_removed)


async def _follow(
    poller: EventPoller, sub: Subscription[E], on_removed: OnRemoved[E] | None
) -> AsyncGenerator[E, None]:
    poller.subscribe(sub)
    try:
        while True:
            removed, event = await sub.next()
            if not removed:
                yield event
            elif on_removed is None:
                logger.warning("event removed by a chain rewind (no on_removed given): %s", event)
            else:
                outcome = on_removed(event)
                if inspect.isawaitable(outcome):
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
    stream = _open(
        _TASK_PUBLISHED,
        "source_address",
        source_address,
        from_block,
        poll_interval,
        confirmations,
        on_removed,
    )
    try:
        async for event in stream:
            yield event
    finally:
        await stream.aclose()


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
    stream = _open(
        _ATTEMPTED,
        "task_address",
        task_address,
        from_block,
        poll_interval,
        confirmations,
        on_removed,
    )
    try:
        async for event in stream:
            yield event
    finally:
        await stream.aclose()


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
    stream = _open(
        _RESPONSE_SUBMITTED,
        "task_address",
        task_address,
        from_block,
        poll_interval,
        confirmations,
        on_removed,
    )
    try:
        async for event in stream:
            yield event
    finally:
        await stream.aclose()


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
    stream = _open(
        _RESPONSE_STATUS_CHANGED,
        "response_address",
        response_address,
        from_block,
        poll_interval,
        confirmations,
        on_removed,
    )
    try:
        async for event in stream:
            yield event
    finally:
        await stream.aclose()


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
    stream = _open(
        _TASK_STATUS_CHANGED,
        "task_address",
        task_address,
        from_block,
        poll_interval,
        confirmations,
        on_removed,
    )
    try:
        async for event in stream:
            yield event
    finally:
        await stream.aclose()


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
    stream = _open(
        _REGISTERED,
        "source_address",
        source_address,
        from_block,
        poll_interval,
        confirmations,
        on_removed,
    )
    try:
        async for event in stream:
            yield event
    finally:
        await stream.aclose()
