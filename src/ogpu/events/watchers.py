"""The six ``watch_*`` async generators over Nexus events.

Each watcher subscribes to the event loop's shared :class:`EventPoller` for the
current chain (``ogpu.chain``), so any number of watchers cost one poll per
interval (the smallest ``poll_interval`` among them): on HTTP one request, a
JSON-RPC batch of ``eth_blockNumber`` + ``eth_getLogs``, plus one
``eth_blockNumber`` when the poller starts. Joining does not poll: a new watcher
is served by the next scheduled poll, history from its ``from_block`` included
(extra ``eth_getLogs`` chunks only when that history exceeds
``max_block_range``). Nexus events have no indexed parameters: the poller
fetches every log of the event type and the watcher keeps those whose scoping
address matches (case-insensitively).

``from_block=None`` starts at the latest head the shared poller has seen
(inclusive), or, for a poller that has seen none yet, at the head its first
request reads, right after the first ``__anext__``. RPC outages are retried
with backoff forever; the generators never raise for them.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
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


def _validate(name: str, address: str, from_block: int | None, poll_interval: float) -> str:
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
) -> tuple[EventPoller, Subscription[E]]:
    scope = _validate(name, address, from_block, poll_interval)

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
        next_block=from_block or 0,
    )
    poller = _current_poller()
    poller.subscribe(subscription)
    return poller, subscription


async def watch_task_published(
    source_address: str, *, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncIterator[TaskPublishedEvent]:
    """Yield ``TaskPublished`` events of tasks published to ``source_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError (bad address,
    ``from_block`` or ``poll_interval``) on the first iteration, before any RPC.
    """
    poller, sub = _open(
        _TASK_PUBLISHED, "source_address", source_address, from_block, poll_interval
    )
    try:
        while True:
            yield await sub.get()
    finally:
        poller.unsubscribe(sub)


async def watch_attempted(
    task_address: str, *, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncIterator[AttemptedEvent]:
    """Yield ``Attempted`` events of ``task_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError on bad
    arguments at the first iteration, before any RPC.
    """
    poller, sub = _open(_ATTEMPTED, "task_address", task_address, from_block, poll_interval)
    try:
        while True:
            yield await sub.get()
    finally:
        poller.unsubscribe(sub)


async def watch_response_submitted(
    task_address: str, *, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncIterator[ResponseSubmittedEvent]:
    """Yield ``ResponseSubmitted`` events of responses to ``task_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError on bad
    arguments at the first iteration, before any RPC.
    """
    poller, sub = _open(
        _RESPONSE_SUBMITTED, "task_address", task_address, from_block, poll_interval
    )
    try:
        while True:
            yield await sub.get()
    finally:
        poller.unsubscribe(sub)


async def watch_response_status_changed(
    response_address: str, *, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncIterator[ResponseStatusChangedEvent]:
    """Yield ``ResponseStatusChanged`` events of ``response_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError on bad
    arguments at the first iteration, before any RPC.
    """
    poller, sub = _open(
        _RESPONSE_STATUS_CHANGED, "response_address", response_address, from_block, poll_interval
    )
    try:
        while True:
            yield await sub.get()
    finally:
        poller.unsubscribe(sub)


async def watch_task_status_changed(
    task_address: str, *, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncIterator[TaskStatusChangedEvent]:
    """Yield ``TaskStatusChanged`` events of ``task_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError on bad
    arguments at the first iteration, before any RPC.
    """
    poller, sub = _open(
        _TASK_STATUS_CHANGED, "task_address", task_address, from_block, poll_interval
    )
    try:
        while True:
            yield await sub.get()
    finally:
        poller.unsubscribe(sub)


async def watch_registered(
    source_address: str, *, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncIterator[RegisteredEvent]:
    """Yield ``Registered`` events of providers registering to ``source_address``, forever.

    Cost: shared polling (see module doc). Raises InvalidInputError on bad
    arguments at the first iteration, before any RPC.
    """
    poller, sub = _open(_REGISTERED, "source_address", source_address, from_block, poll_interval)
    try:
        while True:
            yield await sub.get()
    finally:
        poller.unsubscribe(sub)
