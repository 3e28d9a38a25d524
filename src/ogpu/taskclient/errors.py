"""Errors of task clients: generating one, and reading a task's result through one."""

from __future__ import annotations

from ogpu.types import OGPUError

__all__ = ["ResultNotReadyError", "TaskClientError", "TaskResultError"]


class TaskClientError(OGPUError):
    """A task client cannot be generated (missing tools, or no manifest to generate from)."""


class ResultNotReadyError(OGPUError):
    """The task has no response yet (and none arrived within the timeout)."""


class TaskResultError(OGPUError):
    """The task's response is not the function's output (or reports a failed handler)."""
