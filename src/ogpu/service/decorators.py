"""``@expose()`` and ``@init()`` registering on the default :class:`~ogpu.service.Service`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from .handler import add_handler, add_init_handler, get_handlers
from .service import get_default_service

# The registry functions too, as the official module has them.
__all__ = ["add_handler", "add_init_handler", "expose", "get_handlers", "init"]

_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def expose(timeout: _F, /) -> _F: ...


@overload
def expose(timeout: float | None = None) -> Callable[[_F], _F]: ...


def expose(timeout: Any = None) -> Any:
    """Expose a function as ``POST /run/{name}/{task_address}``. No I/O.

    The function takes exactly one pydantic model and returns a pydantic model
    (``def`` runs on a worker thread, ``async def`` on the event loop).
    ``timeout`` (seconds, optional) bounds one run; the task is then reported
    as ``timeout``. Raises :class:`~ogpu.service.errors.HandlerSignatureError`
    (``TypeError``), :class:`~ogpu.service.errors.InvalidTimeoutError` or
    :class:`~ogpu.service.errors.DuplicateHandlerError` (``ValueError``).
    """
    return get_default_service().expose(timeout)


@overload
def init(func: _F, /) -> _F: ...


@overload
def init() -> Callable[[_F], _F]: ...


def init(func: Any = None) -> Any:
    """Register the single init function, run once in the background at startup. No I/O.

    It takes no arguments (``def`` or ``async def``); ``GET /health`` reports
    ready only after it returned. Raises
    :class:`~ogpu.service.errors.HandlerSignatureError` (``TypeError``) or
    :class:`~ogpu.service.errors.DuplicateInitError` (``ValueError``).
    """
    return get_default_service().init(func) if func is not None else get_default_service().init()
