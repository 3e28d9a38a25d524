"""The service logger: ``logging.getLogger("ogpu.service")`` plus task outcome levels.

``logger.task_success`` (level 25, ``SUCCESS``), ``logger.task_timeout`` (35,
``TIMEOUT``) and ``logger.task_fail`` (45, ``FAIL``) sit between the standard
levels, as in the official framework. A stderr handler is attached unless the
``ogpu.service`` logger already has one; records do not propagate to ``ogpu``.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

__all__ = [
    "FAIL_LEVEL",
    "SUCCESS_LEVEL",
    "TIMEOUT_LEVEL",
    "PartyFormatter",
    "ServiceLogger",
    "config",
    "logger",
    "task_fail",
    "task_success",
    "task_timeout",
]

SUCCESS_LEVEL = 25
TIMEOUT_LEVEL = 35
FAIL_LEVEL = 45

logging.addLevelName(SUCCESS_LEVEL, "SUCCESS")
logging.addLevelName(TIMEOUT_LEVEL, "TIMEOUT")
logging.addLevelName(FAIL_LEVEL, "FAIL")

if TYPE_CHECKING:
    _AdapterBase = logging.LoggerAdapter[logging.Logger]
    _Target = logging.Logger | logging.LoggerAdapter[logging.Logger]
else:
    _AdapterBase = logging.LoggerAdapter


def task_success(self: _Target, message: object, *args: object, **kwargs: Any) -> None:
    """Log ``message`` on ``self`` at level SUCCESS (25). No I/O besides logging."""
    self.log(SUCCESS_LEVEL, message, *args, **kwargs)


def task_timeout(self: _Target, message: object, *args: object, **kwargs: Any) -> None:
    """Log ``message`` on ``self`` at level TIMEOUT (35). No I/O besides logging."""
    self.log(TIMEOUT_LEVEL, message, *args, **kwargs)


def task_fail(self: _Target, message: object, *args: object, **kwargs: Any) -> None:
    """Log ``message`` on ``self`` at level FAIL (45). No I/O besides logging."""
    self.log(FAIL_LEVEL, message, *args, **kwargs)


class ServiceLogger(_AdapterBase):
    """A logger with ``task_success``/``task_fail``/``task_timeout`` on top of the usual API."""

    def __init__(self, base: logging.Logger) -> None:
        super().__init__(base, {})

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        # Pass ``extra=`` through untouched (the base class would replace it).
        return msg, kwargs

    # The official module's helpers, as methods.
    task_success = task_success
    task_timeout = task_timeout
    task_fail = task_fail

    @property
    def handlers(self) -> list[logging.Handler]:
        return self.logger.handlers

    def addHandler(self, handler: logging.Handler) -> None:
        self.logger.addHandler(handler)

    def removeHandler(self, handler: logging.Handler) -> None:
        self.logger.removeHandler(handler)

    @property
    def level(self) -> int:
        return self.logger.level


def _build() -> ServiceLogger:
    base = logging.getLogger("ogpu.service")
    if not base.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter(
                fmt="[{asctime}] {levelname:<8} {message}",
                datefmt="%Y-%m-%d %H:%M:%S",
                style="{",
            )
        )
        base.addHandler(handler)
        base.propagate = False
    if base.level == logging.NOTSET:
        base.setLevel(logging.INFO)
    return ServiceLogger(base)


logger = _build()


# -- the official module's other names -------------------------------------------------------------
from . import config  # noqa: E402

_COLORS = {
    "DEBUG": "34",
    "INFO": "32",
    "SUCCESS": "36",
    "WARNING": "33",
    "TIMEOUT": "95",
    "ERROR": "31",
    "FAIL": "31",
    "CRITICAL": "35",
}


class PartyFormatter(logging.Formatter):
    """A ``logging.Formatter`` that colours the level name with ANSI escapes (for terminals).

    Ours formats plain text by default (container logs); to get the official
    coloured output: ``logger.handlers[0].setFormatter(PartyFormatter(fmt, style="{"))``.
    The record itself is left unchanged for the other handlers.
    """

    def format(self, record: logging.LogRecord) -> str:
        color = _COLORS.get(record.levelname)
        if color is None:
            return super().format(record)
        shown = logging.makeLogRecord(record.__dict__)
        shown.levelname = f"\033[{color}m{record.levelname}\033[0m"
        return super().format(shown)
