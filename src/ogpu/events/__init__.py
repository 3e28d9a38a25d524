"""Async event subscriptions: six ``watch_*`` generators over the Nexus contract's logs.

The only async module of the SDK. Watchers poll ``eth_getLogs`` over HTTP (no
WebSocket, no node-side filters) through one shared poller per event loop and
node; see :mod:`ogpu.events.poller` for the design and
:func:`set_poller_settings` for the block-range chunk size and backoff.

The event types load with the package; the poller and the watchers (they import
web3) load on first access to one of their names.
"""

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports
from ogpu.events.types import (
    AttemptedEvent,
    NexusEvent,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
)

__all__ = [
    "DEFAULT_MAX_BLOCK_RANGE",
    "AttemptedEvent",
    "EventPoller",
    "NexusEvent",
    "PollerSettings",
    "RegisteredEvent",
    "ResponseStatusChangedEvent",
    "ResponseSubmittedEvent",
    "TaskPublishedEvent",
    "TaskStatusChangedEvent",
    "get_poller_settings",
    "set_poller_settings",
    "watch_attempted",
    "watch_registered",
    "watch_response_status_changed",
    "watch_response_submitted",
    "watch_task_published",
    "watch_task_status_changed",
]

if TYPE_CHECKING:
    from ogpu.events.poller import (
        DEFAULT_MAX_BLOCK_RANGE,
        EventPoller,
        PollerSettings,
        get_poller_settings,
        set_poller_settings,
    )
    from ogpu.events.watchers import (
        watch_attempted,
        watch_registered,
        watch_response_status_changed,
        watch_response_submitted,
        watch_task_published,
        watch_task_status_changed,
    )
else:  # loaded on first use: the poller and the watchers import web3
    __getattr__, __dir__ = lazy_imports(__name__, globals())
