"""The official framework's handler registry functions, over the default :class:`Service`.

``@expose``/``@init`` are the usual way in; these exist for code that registers
handlers programmatically, as the official ``ogpu.service.handler`` allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from .service import get_default_service

__all__ = ["add_handler", "add_init_handler", "get_handlers", "get_init_handler"]


def add_handler(
    fn: Callable[..., Any], input_model: type[BaseModel], output_model: type[BaseModel]
) -> None:
    """Register ``fn`` (one positional argument) as ``POST /run/{fn.__name__}/{task_address}``
    with explicit input and output models. No I/O.

    Raises :class:`~ogpu.service.errors.HandlerSignatureError` (a ``TypeError``) for a
    function or models that do not fit, :class:`~ogpu.service.errors.DuplicateHandlerError`
    (a ``ValueError``) when another function already has that name.
    """
    get_default_service().register(fn, models=(input_model, output_model))


def get_handlers() -> list[tuple[Callable[..., Any], type[BaseModel], type[BaseModel]]]:
    """The registered handlers as ``(function, input_model, output_model)``, in registration
    order (a new list each call). No I/O."""
    specs = get_default_service().handlers.values()
    return [(spec.func, spec.input_model, spec.output_model) for spec in specs]


def add_init_handler(fn: Callable[..., Any]) -> None:
    """Register ``fn`` (no arguments) as the init function, run once at startup. No I/O.

    Raises :class:`~ogpu.service.errors.DuplicateInitError` (a ``ValueError``) when another
    init function is registered.
    """
    get_default_service().register_init(fn)


def get_init_handler() -> Callable[..., Any] | None:
    """The registered init function, or None. No I/O."""
    spec = get_default_service().init_spec
    return spec.func if spec is not None else None
