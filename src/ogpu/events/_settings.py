"""Settings of the shared event pollers (:class:`PollerSettings`). No I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ogpu.errors import shown
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
        check_int("max_block_range", self.max_block_range, 1)
        check_int("confirmations", self.confirmations, 0)
        for name in ("backoff_initial", "backoff_max"):
            check_positive(name, getattr(self, name), "a positive number")


def check_int(name: str, value: object, minimum: int) -> None:
    """Raise InvalidInputError unless ``value`` is an int (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(
            f"{name} must be an int >= {minimum}, got {shown(value)}", param=name
        )


def check_positive(name: str, value: object, what: str) -> None:
    """Raise InvalidInputError unless ``value`` is a finite number > 0 (``what`` says so)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInputError(f"{name} must be {what}, got {shown(value)}", param=name)


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
