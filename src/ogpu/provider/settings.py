"""Settings, events and the error of the provider runtime (:mod:`ogpu.provider.runtime`)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ogpu.net.guard import parse_allow
from ogpu.provider.callback import DEFAULT_MAX_RESULT_BYTES
from ogpu.types import InvalidInputError, OGPUError

__all__ = ["ProviderRuntimeError", "RuntimeEvent", "RuntimeSettings"]


class ProviderRuntimeError(OGPUError):
    """The provider runtime cannot start or cannot process a task."""


@dataclass(frozen=True)
class RuntimeEvent:
    """One step of the runtime, for progress display (``on_event``) and logs.

    ``kind``: ``started``, ``watching``, ``task``, ``attempted``, ``dispatched``,
    ``result``, ``pinned``, ``submitted``, ``skipped``, ``failed``, ``stopped``.
    ``elapsed``: seconds since the task was seen (0 for runtime-level events).
    ``data``: details such as ``tx_hash``, ``url``, ``response``, ``result``.
    """

    kind: str
    message: str
    task: str | None = None
    source: str | None = None
    elapsed: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict. No I/O."""
        return {
            "kind": self.kind,
            "message": self.message,
            "task": self.task,
            "source": self.source,
            "elapsed": round(self.elapsed, 3),
            "data": dict(self.data),
        }


def _positive(name: str, value: object, *, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        ok = False
    elif integer:
        ok = isinstance(value, int) and value > 0
    else:
        ok = math.isfinite(value) and value > 0
    if not ok:
        kind = "a positive int" if integer else "a positive number of seconds"
        raise InvalidInputError(f"{name} must be {kind}, got {value!r}", param=name)


def _http_url(name: str, value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise InvalidInputError(f"{name} must be an http(s) URL, got {value!r}", param=name)
    return value.rstrip("/")


@dataclass(frozen=True)
class RuntimeSettings:
    """How the runtime reaches the source service and how much it takes on.

    ``service_url``: base URL of the source service (e.g. ``http://127.0.0.1:5555``).
    ``callback_host``/``callback_port``: where the callback server binds
    (port 0 = any free port). ``callback_url``: the base URL the *service* uses
    to reach it (default ``http://{callback_host}:{port}/callback``; set it when
    the service runs in a container, e.g. ``http://host.docker.internal:PORT/callback``);
    start the service with ``CALLBACK_URL`` set to :attr:`ProviderRuntime.callback_url`.
    ``poll_interval``: seconds between ``eth_getLogs`` polls.
    ``max_concurrent_tasks``: tasks processed at once; ``max_queued_tasks``: seen
    but waiting (further events wait in the watcher).
    ``max_concurrent_fetches``: tasks whose config is being read and fetched at once
    (apart from the ``max_concurrent_tasks`` being run, so tasks whose config URL
    hangs or drips cannot delay the others); ``fetch_timeout``: seconds for reading a
    task and fetching its config (whole, whatever the server does); ``fetch_allow``:
    non-public origins or networks the config fetch may reach besides the configured
    IPFS gateway (see :func:`ogpu.ipfs.fetch_ipfs_json`).
    ``dispatch_timeout``: the ``/run`` request (whole); ``result_timeout``: the wait for
    the callback; ``service_ready_timeout``: the wait for the service at start.
    ``shutdown_grace``: seconds in-flight tasks get at :meth:`ProviderRuntime.stop`.
    ``ipfs_backend``: ``ogpu.ipfs`` backend name (None: from the chain/environment).

    Construction raises ``InvalidInputError`` for an invalid value. No I/O.
    """

    service_url: str
    callback_host: str = "127.0.0.1"
    callback_port: int = 0
    callback_url: str | None = None
    poll_interval: float = 1.0
    max_concurrent_tasks: int = 4
    max_queued_tasks: int = 1000
    max_concurrent_fetches: int = 8
    fetch_timeout: float = 30.0
    fetch_allow: tuple[str, ...] = ()
    dispatch_timeout: float = 10.0
    result_timeout: float = 300.0
    service_ready_timeout: float = 30.0
    shutdown_grace: float = 10.0
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    ipfs_backend: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "service_url", _http_url("service_url", self.service_url))
        if self.callback_url is not None:
            object.__setattr__(self, "callback_url", _http_url("callback_url", self.callback_url))
        if not isinstance(self.callback_host, str) or not self.callback_host:
            raise InvalidInputError("callback_host must be a host name", param="callback_host")
        port = self.callback_port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInputError(
                f"callback_port must be 0-65535, got {port!r}", param="callback_port"
            )
        if isinstance(self.fetch_allow, str) or not all(
            isinstance(entry, str) for entry in self.fetch_allow
        ):
            raise InvalidInputError("fetch_allow must be a tuple of strings", param="fetch_allow")
        object.__setattr__(self, "fetch_allow", tuple(self.fetch_allow))
        try:
            parse_allow(self.fetch_allow)
        except ValueError as exc:
            raise InvalidInputError(
                f"fetch_allow entries must be http(s) origins or IP networks: {exc}",
                param="fetch_allow",
            ) from None
        for name in (
            "poll_interval",
            "fetch_timeout",
            "dispatch_timeout",
            "result_timeout",
            "service_ready_timeout",
            "shutdown_grace",
        ):
            _positive(name, getattr(self, name))
        for name in (
            "max_concurrent_tasks",
            "max_queued_tasks",
            "max_concurrent_fetches",
            "max_result_bytes",
        ):
            _positive(name, getattr(self, name), integer=True)
