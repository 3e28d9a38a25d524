"""Settings of the shared event pollers (:class:`PollerSettings`). No I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ogpu.types import InvalidInputError

DEFAULT_MAX_BLOCK_RANGE = 1000


@dataclass(frozen=True)
class PollerSettings:
    """Chunk size, confirmation depth and RPC-failure backoff of a poller.

    ``confirmations``: the least depth below the head any subscriber is delivered
    (0 = up to the head); a watcher's own ``confirmations=`` may ask for more.
    """

    max_block_range: int = DEFAULT_MAX_BLOCK_RANGE
    confirmations: int = 0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_block_range", "confirmations"):
            value = getattr(self, name)
            minimum = 1 if name == "max_block_range" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise InvalidInputError(
                    f"{name} must be an int >= {minimum}, got {value!r}", param=name
                )
        for name in ("backoff_initial", "backoff_max"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise InvalidInputError(
                    f"{name} must be a positive number, got {value!r}", param=name
                )


_settings = PollerSettings()


def set_poller_settings(settings: PollerSettings) -> None:
    """Use ``settings`` for shared pollers created from now on. No RPC."""
    global _settings
    if not isinstance(settings, PollerSettings):
        raise InvalidInputError("settings must be a PollerSettings", param="settings")
    _settings = settings


def get_poller_settings() -> PollerSettings:
    """Settings applied to newly created shared pollers. No RPC."""
    return _settings
