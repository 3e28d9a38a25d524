"""Handler and init specs, and the checks run when a function is decorated."""

from __future__ import annotations

import asyncio
import inspect
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from pydantic import BaseModel

from .._routing import function_name_problem
from .errors import HandlerSignatureError, InvalidTimeoutError

if TYPE_CHECKING:
    from .pool import DaemonThreadPool

__all__ = ["HandlerSpec", "InitSpec", "make_handler_spec", "make_init_spec"]


@dataclass(frozen=True)
class HandlerSpec:
    """A registered handler: ``POST /run/{name}/{task_address}`` runs ``func``."""

    name: str
    func: Callable[..., Any]
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    timeout: float | None
    is_async: bool

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        first = doc.strip().splitlines()[0] if doc.strip() else ""
        return first or f"Run `{self.name}` in the background"


@dataclass(frozen=True)
class InitSpec:
    """The registered init function, run once when the service starts."""

    name: str
    func: Callable[[], Any]
    is_async: bool

    async def run(self, pool: DaemonThreadPool | None = None) -> None:
        """Run the init function to completion: on the loop if it is async, else on
        ``pool`` (without one, on asyncio's default executor); an awaitable it returns is
        awaited. Raises whatever it raises."""
        if self.is_async:
            result = self.func()
        elif pool is not None:
            result = await asyncio.wrap_future(pool.submit(self.func))
        else:
            result = await asyncio.to_thread(self.func)
        if inspect.isawaitable(result):
            await result


def _qualname(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "?"
    return f"{module}.{getattr(func, '__qualname__', repr(func))}"


def _function_name(func: object, what: str) -> str:
    if not callable(func):
        raise HandlerSignatureError(
            f"@{what}() must decorate a function, got {type(func).__name__}; "
            f"write `@ogpu.service.{what}()` directly above a `def`"
        )
    name = getattr(func, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise HandlerSignatureError(
            f"@{what}() needs a named function (got {func!r}); lambdas and partials have "
            "no usable name — define the handler with `def`"
        )
    problem = function_name_problem(name)
    if problem is not None:
        # the name is the task's function_name: one the provider could never route
        raise HandlerSignatureError(f"@{what}() cannot register {func!r}: {problem}")
    return name


def _hints(func: Callable[..., Any], name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception as exc:
        raise HandlerSignatureError(
            f"cannot resolve the type annotations of handler {name!r} ({_qualname(func)}): "
            f"{exc}. Define the pydantic models at module level, before the handler"
        ) from exc


def _is_model(tp: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(tp, type) and issubclass(tp, BaseModel) and tp is not BaseModel


def _check_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise InvalidTimeoutError(
            f"expose(timeout=...) takes a positive number of seconds or None, got {timeout!r}"
        )
    return float(timeout)


def make_handler_spec(
    func: Callable[..., Any],
    timeout: object = None,
    models: tuple[object, object] | None = None,
) -> HandlerSpec:
    """Check ``func`` against the handler contract and describe it. No RPC.

    ``models`` (input, output) replaces the annotations as the source of the two
    pydantic models (the official ``add_handler``); ``func`` must still take one
    positional argument.

    Raises :class:`HandlerSignatureError` (a ``TypeError``) when the function does not
    take exactly one pydantic model and return a pydantic model, and
    :class:`InvalidTimeoutError` (a ``ValueError``) for a bad ``timeout``.
    """
    seconds = _check_timeout(timeout)
    name = _function_name(func, "expose")
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        raise HandlerSignatureError(
            f"handler {name!r} is a generator; return one output model instead of yielding"
        )
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError) as exc:
        raise HandlerSignatureError(f"cannot inspect the signature of {name!r}: {exc}") from exc
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) != 1 or params[0].kind not in positional:
        shown = ", ".join(str(p) for p in params) or "no parameters"
        raise HandlerSignatureError(
            f"handler {name!r} must take exactly one positional parameter annotated with a "
            f"pydantic model, e.g. `def {name}(data: Input) -> Output`; it takes ({shown})"
        )
    param = params[0]
    hints = _hints(func, name) if models is None else {param.name: models[0], "return": models[1]}
    input_model = hints.get(param.name)
    if not _is_model(input_model):
        raise HandlerSignatureError(
            f"parameter {param.name!r} of handler {name!r} must be annotated with a pydantic "
            f"BaseModel subclass (e.g. `{param.name}: Input`), got {input_model!r}"
        )
    output_model = hints.get("return")
    if not _is_model(output_model):
        raise HandlerSignatureError(
            f"handler {name!r} must declare a pydantic BaseModel subclass as its return type "
            f"(e.g. `-> Output`), got {output_model!r}"
        )
    return HandlerSpec(
        name=name,
        func=func,
        input_model=input_model,
        output_model=output_model,
        timeout=seconds,
        is_async=inspect.iscoroutinefunction(func),
    )


def make_init_spec(func: Callable[..., Any]) -> InitSpec:
    """Check that ``func`` can be called with no arguments and describe it. No RPC.

    Raises :class:`HandlerSignatureError` (a ``TypeError``) otherwise.
    """
    name = _function_name(func, "init")
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        raise HandlerSignatureError(f"init function {name!r} must not be a generator")
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError) as exc:
        raise HandlerSignatureError(f"cannot inspect the signature of {name!r}: {exc}") from exc
    required = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if required:
        raise HandlerSignatureError(
            f"init function {name!r} must take no arguments; it requires {', '.join(required)}"
        )
    return InitSpec(name=name, func=func, is_async=inspect.iscoroutinefunction(func))
