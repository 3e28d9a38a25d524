"""Running one handler: its outcome, its timeout, and abandoned sync threads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from .errors import InvalidOutputError
from .pool import DaemonThreadPool, PoolFuture
from .registry import HandlerSpec

__all__ = ["TaskFailure", "TaskOutcome", "error_text", "execute_handler"]

_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class TaskFailure:
    """Why a handler produced no output: it raised (``failed``) or ran out of time."""

    function: str
    status: Literal["failed", "timeout"]
    error: str
    error_type: str
    timeout: float | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class TaskOutcome:
    """The result of one handler run; ``output``/``output_json`` are set on success only."""

    function: str
    status: Literal["success", "failed", "timeout"]
    seconds: float
    output: BaseModel | None = None
    output_json: dict[str, Any] | None = None
    failure: TaskFailure | None = None

    def callback_body(self, task_address: str) -> dict[str, Any]:
        """The JSON body POSTed to the callback URL. No RPC.

        Success: the handler output exactly (``model_dump(mode="json")``), as the
        official framework sends it. Failure/timeout:
        ``{"task_address", "function", "status", "error", "error_type"}`` plus
        ``"timeout"`` (seconds) for timeouts.
        """
        if self.output_json is not None:
            return self.output_json
        assert self.failure is not None
        body: dict[str, Any] = {
            "task_address": task_address,
            "function": self.function,
            "status": self.failure.status,
            "error": self.failure.error,
            "error_type": self.failure.error_type,
        }
        if self.failure.timeout is not None:
            body["timeout"] = self.failure.timeout
        return body


def error_text(exc: BaseException) -> str:
    """``"Type: message"``, cut to 2,000 characters. No I/O."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


def _coerce_output(spec: HandlerSpec, result: object) -> tuple[BaseModel, dict[str, Any]]:
    model_cls = spec.output_model
    if isinstance(result, model_cls):
        model: BaseModel = result
    elif result is None:
        raise InvalidOutputError(
            f"handler {spec.name!r} returned None; it must return a {model_cls.__name__}"
        )
    else:
        raw = result.model_dump() if isinstance(result, BaseModel) else result
        try:
            model = model_cls.model_validate(raw)
        except ValidationError as exc:
            raise InvalidOutputError(
                f"handler {spec.name!r} returned a {type(result).__name__} that is not a valid "
                f"{model_cls.__name__}: {exc}"
            ) from exc
    try:
        dumped = model.model_dump(mode="json")
    except PydanticSerializationError as exc:
        raise InvalidOutputError(
            f"the output of handler {spec.name!r} cannot be serialised to JSON: {exc}"
        ) from exc
    return model, dumped


def _failed(spec: HandlerSpec, exc: BaseException, started: float) -> TaskOutcome:
    failure = TaskFailure(
        function=spec.name,
        status="failed",
        error=error_text(exc),
        error_type=type(exc).__name__,
        exception=exc,
    )
    return TaskOutcome(spec.name, "failed", time.monotonic() - started, failure=failure)


def _timed_out(spec: HandlerSpec, started: float) -> TaskOutcome:
    assert spec.timeout is not None
    failure = TaskFailure(
        function=spec.name,
        status="timeout",
        error=f"handler {spec.name!r} did not finish within its {spec.timeout:g} s timeout",
        error_type="TimeoutError",
        timeout=spec.timeout,
    )
    return TaskOutcome(spec.name, "timeout", time.monotonic() - started, failure=failure)


def _outcome(
    spec: HandlerSpec, inner: asyncio.Future[Any] | Future[Any], started: float
) -> TaskOutcome:
    if inner.cancelled():
        return _failed(spec, asyncio.CancelledError("handler was cancelled"), started)
    exc = inner.exception()
    if exc is not None:
        return _failed(spec, exc, started)
    try:
        output, dumped = _coerce_output(spec, inner.result())
    except InvalidOutputError as err:
        return _failed(spec, err, started)
    return TaskOutcome(
        spec.name, "success", time.monotonic() - started, output=output, output_json=dumped
    )


def _set_once(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _waker(fut: asyncio.Future[None]) -> Callable[..., None]:
    """A callable, safe from any thread, that sets ``fut`` on its loop (if still open)."""
    loop = fut.get_loop()

    def wake(*_: object) -> None:
        with suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_set_once, fut)

    return wake


async def execute_handler(
    spec: HandlerSpec,
    data: BaseModel,
    pool: DaemonThreadPool,
    abandon: Callable[[Future[Any]], None] | None = None,
) -> TaskOutcome:
    """Run one handler on ``data`` and describe the outcome. No RPC; never raises for
    handler errors (they become ``failed``), only ``CancelledError`` propagates.

    Sync handlers run on ``pool``; their timeout counts from when a worker picks
    the job up, not from the wait for a free worker. Async handlers run on the
    current loop and are cancelled on timeout. A timed-out sync handler cannot
    be stopped: its future, still running, is passed to ``abandon``.
    """
    if spec.is_async:
        return await _run_async(spec, data)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    job = pool.submit(spec.func, data)
    job.add_done_callback(_waker(done))  # one hop back to the loop per job
    try:
        if spec.timeout is None:
            await done
        elif not await _within_timeout(pool, job, done, spec.timeout):
            job.cancel()
            _abandon(job, abandon)
            return _timed_out(spec, job.started_at or time.monotonic())
    except asyncio.CancelledError:
        job.cancel()
        _abandon(job, abandon)
        raise
    return _outcome(spec, job, job.started_at or time.monotonic())


async def _within_timeout(
    pool: DaemonThreadPool, job: PoolFuture[Any], done: asyncio.Future[None], timeout: float
) -> bool:
    """Wait for ``done``; False once ``timeout`` seconds passed since the job started.

    No wake-up per start: the first wait is a full ``timeout`` from submission,
    and only a job still queued in the pool by then asks to be told when it starts.
    """
    wait = timeout
    while True:
        finished, _ = await asyncio.wait((done,), timeout=wait)
        if finished:
            return True
        started = job.started_at
        if started is None:
            began = asyncio.get_running_loop().create_future()
            started = pool.when_started(job, _waker(began))
            if started is None:
                await asyncio.wait((began, done), return_when=asyncio.FIRST_COMPLETED)
                if done.done():
                    return True
                started = job.started_at
                assert started is not None
        wait = started + timeout - time.monotonic()
        if wait <= 0:
            return done.done()


async def _run_async(spec: HandlerSpec, data: BaseModel) -> TaskOutcome:
    started = time.monotonic()
    inner: asyncio.Future[Any] = asyncio.ensure_future(spec.func(data))
    try:
        done, _ = await asyncio.wait((inner,), timeout=spec.timeout)
    except asyncio.CancelledError:
        inner.cancel()
        raise
    if not done:
        inner.cancel()
        await asyncio.wait((inner,), timeout=1.0)
        return _timed_out(spec, started)
    return _outcome(spec, inner, started)


def _abandon(job: Future[Any], abandon: Callable[[Future[Any]], None] | None) -> None:
    if abandon is not None and not job.done():
        abandon(job)
