"""The :class:`Service` registry and the module-level default instance."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .errors import DuplicateHandlerError, DuplicateInitError, UnknownHandlerError
from .registry import HandlerSpec, InitSpec, _qualname, make_handler_spec, make_init_spec

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic import BaseModel

    from ..manifest import SourceManifest
    from .config import ServiceConfig

__all__ = ["Service", "default_service_swapped", "get_default_service"]

_F = TypeVar("_F", bound=Callable[..., Any])


class Service:
    """A set of handlers plus at most one init function.

    ``ogpu.service.expose``/``init``/``start`` act on :func:`get_default_service`;
    create your own ``Service()`` for isolation (tests, several apps per process).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, HandlerSpec] = {}
        self._init: InitSpec | None = None

    def __repr__(self) -> str:
        init = self._init.name if self._init else None
        return f"Service(handlers={sorted(self._handlers)}, init={init!r})"

    @property
    def handlers(self) -> Mapping[str, HandlerSpec]:
        """A read-only snapshot of the registered handlers by function name."""
        with self._lock:
            return MappingProxyType(dict(self._handlers))

    @property
    def init_spec(self) -> InitSpec | None:
        return self._init

    def get_handler(self, function: str) -> HandlerSpec:
        """The handler registered as ``function``; raises :class:`UnknownHandlerError`."""
        with self._lock:
            spec = self._handlers.get(function)
            if spec is None:
                raise UnknownHandlerError(function, tuple(sorted(self._handlers)))
            return spec

    def register(
        self,
        func: Callable[..., Any],
        *,
        timeout: float | None = None,
        models: tuple[type[BaseModel], type[BaseModel]] | None = None,
    ) -> HandlerSpec:
        """Register ``func`` as a handler (what ``@expose`` does). No I/O.

        ``models`` (input, output) overrides the models read from the annotations.

        Raises :class:`HandlerSignatureError`, :class:`InvalidTimeoutError` or
        :class:`DuplicateHandlerError`.
        """
        spec = make_handler_spec(func, timeout, models)
        with self._lock:
            existing = self._handlers.get(spec.name)
            if existing is not None and existing.func is not func:
                raise DuplicateHandlerError(
                    f"a handler named {spec.name!r} is already registered "
                    f"({_qualname(existing.func)}); the function name is the task's "
                    f"function_name, so rename {_qualname(func)}"
                )
            self._handlers[spec.name] = spec
        return spec

    def register_init(self, func: Callable[..., Any]) -> InitSpec:
        """Register ``func`` as the init function (what ``@init`` does). No I/O.

        Raises :class:`HandlerSignatureError` or :class:`DuplicateInitError`.
        """
        spec = make_init_spec(func)
        with self._lock:
            if self._init is not None and self._init.func is not func:
                raise DuplicateInitError(
                    f"an init function is already registered ({_qualname(self._init.func)}); "
                    f"only one is allowed, so merge {_qualname(func)} into it"
                )
            self._init = spec
        return spec

    @overload
    def expose(self, timeout: _F, /) -> _F: ...

    @overload
    def expose(self, timeout: float | None = None) -> Callable[[_F], _F]: ...

    def expose(self, timeout: Any = None) -> Any:
        """Decorator registering a handler: one pydantic input, a pydantic return type.

        ``timeout`` (seconds) bounds one run; a run past it is reported as
        ``timeout``. Usable as ``@expose()``, ``@expose(timeout=30)`` or ``@expose``.
        The function is returned unchanged. Errors: see :meth:`register`.
        """
        if callable(timeout):
            self.register(timeout)
            return timeout

        def decorator(func: _F) -> _F:
            self.register(func, timeout=timeout)
            return func

        return decorator

    @overload
    def init(self, func: _F, /) -> _F: ...

    @overload
    def init(self) -> Callable[[_F], _F]: ...

    def init(self, func: Any = None) -> Any:
        """Decorator registering the single no-argument init function (sync or async).

        It runs once in the background at startup; ``GET /health`` answers 503
        until it returns. Errors: see :meth:`register_init`.
        """
        if func is not None:
            self.register_init(func)
            return func

        def decorator(f: _F) -> _F:
            self.register_init(f)
            return f

        return decorator

    def reset(self) -> None:
        """Forget every handler and the init function (running apps keep their copy)."""
        with self._lock:
            self._handlers.clear()
            self._init = None

    def manifest(self) -> SourceManifest:
        """The manifest of the registered handlers (what ``GET /manifest`` serves). No I/O."""
        from .manifest import build_manifest

        return build_manifest(self)

    def create_app(
        self,
        config: ServiceConfig | None = None,
        *,
        on_init_failure: Callable[[], None] | None = None,
    ) -> FastAPI:
        """Build the FastAPI app of this service; see :func:`ogpu.service.server.create_app`."""
        from .server import create_app

        return create_app(self, config, on_init_failure=on_init_failure)

    def start(self, config: ServiceConfig | None = None) -> None:
        """Serve this service until SIGTERM/SIGINT; see :func:`ogpu.service.server.start`."""
        from .server import start

        start(config, service=self)


_default = Service()


def get_default_service() -> Service:
    """The process-wide service used by ``ogpu.service.expose``/``init``/``start``."""
    return _default


@contextmanager
def default_service_swapped() -> Iterator[Service]:
    """Within the block a fresh, empty service is the default one; the previous default
    (and its handlers) is restored afterwards. Not for concurrent registrations."""
    global _default
    previous, _default = _default, Service()
    try:
        yield _default
    finally:
        _default = previous
