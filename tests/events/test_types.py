"""The public shapes of ogpu.events (no chain needed)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

import ogpu.events as events
from ogpu.events import PollerSettings
from ogpu.types import InvalidInputError, ResponseStatus, TaskStatus

FIELDS = {
    "TaskPublishedEvent": ["task", "source"],
    "AttemptedEvent": ["task", "provider", "suggested_payment"],
    "ResponseSubmittedEvent": ["response", "task"],
    "ResponseStatusChangedEvent": ["response", "status"],
    "TaskStatusChangedEvent": ["task", "status"],
    "RegisteredEvent": ["provider", "registrant_id", "source"],
}
TRIO = ["block_number", "transaction_hash", "log_index"]
WATCHERS = {
    "watch_task_published": "source_address",
    "watch_attempted": "task_address",
    "watch_response_submitted": "task_address",
    "watch_response_status_changed": "response_address",
    "watch_task_status_changed": "task_address",
    "watch_registered": "source_address",
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_event_dataclasses_have_the_seed_fields_in_order(name: str) -> None:
    cls = getattr(events, name)
    assert cls.__module__ == "ogpu.events.types"
    assert [f.name for f in dataclasses.fields(cls)] == FIELDS[name] + TRIO
    values: dict[str, Any] = {f.name: 0 for f in dataclasses.fields(cls)}
    instance = cls(**values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        instance.block_number = 1


def test_status_fields_are_typed_enums() -> None:
    hints = {f.name: f.type for f in dataclasses.fields(events.ResponseStatusChangedEvent)} | {
        f.name: f.type for f in dataclasses.fields(events.TaskStatusChangedEvent)
    }
    assert hints["status"] in ("ResponseStatus", "TaskStatus", ResponseStatus, TaskStatus)


@pytest.mark.parametrize(("name", "first"), sorted(WATCHERS.items()))
def test_watchers_are_async_generators_with_the_seed_signature(name: str, first: str) -> None:
    watcher = getattr(events, name)
    assert watcher.__module__ == "ogpu.events.watchers"
    assert inspect.isasyncgenfunction(watcher)
    params = inspect.signature(watcher).parameters
    # The seed's parameters first, then our keyword-only additions (all optional).
    assert list(params) == [first, "from_block", "poll_interval", "confirmations", "on_removed"]
    assert all(params[p].kind is inspect.Parameter.KEYWORD_ONLY for p in list(params)[1:])
    assert params["from_block"].default is None
    assert params["poll_interval"].default == 2.0
    assert params["confirmations"].default == 0
    assert params["on_removed"].default is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_block_range": 0},
        {"max_block_range": 1.5},
        {"confirmations": -1},
        {"backoff_initial": 0},
        {"backoff_max": float("inf")},
        {"backoff_initial": True},
    ],
)
def test_poller_settings_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        PollerSettings(**kwargs)
