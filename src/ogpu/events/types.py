"""Frozen event dataclasses yielded by the :mod:`ogpu.events` watchers.

Addresses are checksummed strings, ``transaction_hash`` a ``0x`` hex string. The
watchers decode logs with the generated ``ogpu_bindings.events.nexus`` classes and
copy their fields of the same names into these. These are the official 0.2.3 shapes,
which code written for it constructs (tests, fakes): the generated classes add the
log's ``address`` (required, before ``block_number``) and ``RegisteredEvent`` adds
``preferred_environment`` (required, fourth), so ``TaskPublishedEvent(task=...,
source=..., block_number=..., transaction_hash=..., log_index=...)`` would raise and
a positional ``RegisteredEvent(...)`` would put the block number in
``preferred_environment``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ogpu.types import ResponseStatus, TaskStatus


@dataclass(frozen=True)
class TaskPublishedEvent:
    """Yielded by ``watch_task_published`` when a new task is published to a source."""

    task: str
    source: str
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class AttemptedEvent:
    """Yielded by ``watch_attempted`` when a provider attempts a task."""

    task: str
    provider: str
    suggested_payment: int
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class ResponseSubmittedEvent:
    """Yielded by ``watch_response_submitted`` when a provider submits a response."""

    response: str
    task: str
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class ResponseStatusChangedEvent:
    """Yielded by ``watch_response_status_changed`` when a response transitions state."""

    response: str
    status: ResponseStatus
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class TaskStatusChangedEvent:
    """Yielded by ``watch_task_status_changed`` when a task transitions state."""

    task: str
    status: TaskStatus
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class RegisteredEvent:
    """Yielded by ``watch_registered`` when a provider registers to a source."""

    provider: str
    registrant_id: int
    source: str
    block_number: int
    transaction_hash: str
    log_index: int


NexusEvent = (
    TaskPublishedEvent
    | AttemptedEvent
    | ResponseSubmittedEvent
    | ResponseStatusChangedEvent
    | TaskStatusChangedEvent
    | RegisteredEvent
)
