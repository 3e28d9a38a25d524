"""Typed errors raised by ``ogpu.service``.

Decoration-time errors subclass :class:`HandlerDefinitionError` and also the
builtin that fits (``TypeError`` for a wrong signature, ``ValueError`` for a
wrong value), so ``except TypeError`` keeps working for callers who expect it.
"""

from __future__ import annotations

from ogpu.errors import OGPUError

__all__ = [
    "DuplicateHandlerError",
    "DuplicateInitError",
    "HandlerDefinitionError",
    "HandlerSignatureError",
    "InvalidOutputError",
    "InvalidTimeoutError",
    "ServiceConfigError",
    "ServiceDependencyError",
    "ServiceError",
    "UnknownHandlerError",
]


class ServiceError(OGPUError):
    """Base class of every error raised by ``ogpu.service`` (an :class:`ogpu.errors.OGPUError`)."""

    default_message = "The service failed; see the message of the specific error."


class ServiceDependencyError(ServiceError, ImportError):
    """The ``service`` extra (fastapi, uvicorn) is not installed."""


class HandlerDefinitionError(ServiceError):
    """A decorated handler or init function cannot be registered."""


class HandlerSignatureError(HandlerDefinitionError, TypeError):
    """A handler's parameters or annotations do not fit the framework's contract."""


class InvalidTimeoutError(HandlerDefinitionError, ValueError):
    """``expose(timeout=...)`` got something other than a positive number of seconds."""


class DuplicateHandlerError(HandlerDefinitionError, ValueError):
    """Two handlers share one function name (the name is the task's ``function``)."""


class DuplicateInitError(HandlerDefinitionError, ValueError):
    """More than one ``@init()`` function was registered on a service."""


class ServiceConfigError(ServiceError, ValueError):
    """A configuration value (argument or environment variable) is invalid."""


class UnknownHandlerError(ServiceError, LookupError):
    """No handler is registered under the requested function name."""

    def __init__(self, function: str, available: tuple[str, ...]) -> None:
        self.function = function
        self.available = available
        listed = ", ".join(available) if available else "none registered"
        super().__init__(f"unknown function {function!r}; available: {listed}")


class InvalidOutputError(ServiceError, TypeError):
    """A handler returned something that is not (and cannot become) its output model."""
