"""Running handlers: outcomes, timeouts, the in-flight bound, callbacks and shutdown."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from ..net import redact_url
from .callback import CallbackClient, policy_of
from .config import ServiceConfig
from .errors import InvalidOutputError
from .logger import logger
from .pool import DaemonThreadPool
from .registry import HandlerSpec, InitSpec

__all__ = [
    "RuntimeStats",
    "ServiceRuntime",
    "ServiceState",
    "SubmitStatus",
    "TaskFailure",
    "TaskOutcome",
    "execute_handler",
]

ServiceState = Literal[
    "created", "initializing", "ready", "init_failed", "shutting_down", "stopped"
]
SubmitStatus = Literal["accepted", "busy", "not_ready", "init_failed", "shutting_down"]

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


def _error_text(exc: BaseException) -> str:
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
        error=_error_text(exc),
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


def _set_once(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def execute_handler(
    spec: HandlerSpec,
    data: BaseModel,
    pool: DaemonThreadPool,
    abandon: AbandonedSet | None = None,
) -> TaskOutcome:
    """Run one handler on ``data`` and describe the outcome. No RPC; never raises for
    handler errors (they become ``failed``), only ``CancelledError`` propagates.

    Sync handlers run on ``pool`` (the timeout counts from when a worker picks
    the job up); async handlers run on the current loop and are cancelled on
    timeout. A timed-out sync handler cannot be stopped: its future goes to
    ``abandon`` until the thread returns.
    """
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    job: Future[Any] | None = None
    if spec.is_async:
        inner: asyncio.Future[Any] = asyncio.ensure_future(spec.func(data))
    else:
        began: asyncio.Future[None] = loop.create_future()

        def mark_started() -> None:
            loop.call_soon_threadsafe(_set_once, began)

        job = pool.submit(spec.func, data, on_start=mark_started)
        inner = asyncio.wrap_future(job)
    try:
        if job is not None:
            await asyncio.wait({began, inner}, return_when=asyncio.FIRST_COMPLETED)
            started = time.monotonic()
        done, _ = await asyncio.wait({inner}, timeout=spec.timeout)
    except asyncio.CancelledError:
        inner.cancel()
        _abandon(job, abandon)
        raise
    if not done:
        inner.cancel()
        if job is None:
            await asyncio.wait({inner}, timeout=1.0)
        else:
            _abandon(job, abandon)
        return _timed_out(spec, started)
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


def _abandon(job: Future[Any] | None, abandon: AbandonedSet | None) -> None:
    if job is not None and abandon is not None and not job.done():
        abandon.add(job)


class AbandonedSet:
    """Thread-safe set of sync handler jobs still running after a timeout or shutdown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: set[Future[Any]] = set()

    def add(self, job: Future[Any]) -> None:
        with self._lock:
            self._jobs.add(job)
        job.add_done_callback(self._discard)

    def _discard(self, job: Future[Any]) -> None:
        with self._lock:
            self._jobs.discard(job)

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)


@dataclass
class RuntimeStats:
    """Counters since startup (read them from any thread; written on the loop)."""

    accepted: int = 0
    rejected_busy: int = 0
    rejected_not_ready: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    callbacks_delivered: int = 0
    callbacks_failed: int = 0
    callbacks_skipped: int = 0
    callback_attempts: int = 0
    callback_retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class ServiceRuntime:
    """Per-app state: init, the in-flight bound, background tasks and shutdown.

    All methods except the read-only properties must be called on the event loop.
    """

    def __init__(
        self,
        handlers: Mapping[str, HandlerSpec],
        init: InitSpec | None,
        config: ServiceConfig,
        *,
        on_init_failure: Callable[[], None] | None = None,
    ) -> None:
        self.handlers = dict(handlers)
        self.init = init
        self.config = config
        self.stats = RuntimeStats()
        self.state: ServiceState = "created"
        self.init_error: str | None = None
        self._on_init_failure = on_init_failure
        self._tasks: set[asyncio.Task[None]] = set()
        self._abandoned = AbandonedSet()
        self._init_task: asyncio.Task[None] | None = None
        self._pool: DaemonThreadPool | None = None
        self._callback_pool: DaemonThreadPool | None = None
        self._callback: CallbackClient | None = None

    @property
    def in_flight(self) -> int:
        """Accepted tasks not finished yet, plus abandoned sync handlers still running."""
        return len(self._tasks) + len(self._abandoned)

    @property
    def running_tasks(self) -> int:
        return len(self._tasks)

    @property
    def abandoned(self) -> int:
        return len(self._abandoned)

    async def startup(self) -> None:
        """Create the thread pools and start the init function in the background."""
        cfg = self.config
        self._pool = DaemonThreadPool(cfg.worker_threads, "ogpu-handler")
        if cfg.callback_url is not None:
            self._callback_pool = DaemonThreadPool(cfg.callback_threads, "ogpu-callback")
            policy, timeout = policy_of(cfg)
            self._callback = CallbackClient(
                cfg.callback_url,
                policy,
                self._callback_pool,
                timeout=timeout,
                on_attempt=self._count_attempt,
            )
        else:
            logger.warning("CALLBACK_URL is not set: task results will be logged but not delivered")
        self.state = "initializing"
        self._init_task = asyncio.ensure_future(self._run_init())

    async def _run_init(self) -> None:
        init = self.init
        if init is not None:
            logger.info("running init function `%s`", init.name)
            started = time.monotonic()
            try:
                if init.is_async:
                    await init.func()
                else:
                    assert self._pool is not None
                    await asyncio.wrap_future(self._pool.submit(init.func))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.init_error = _error_text(exc)
                if self.state == "initializing":
                    self.state = "init_failed"
                logger.task_fail("init function `%s` failed: %s", init.name, exc, exc_info=exc)
                if self._on_init_failure is not None:
                    self._on_init_failure()
                return
            logger.info(
                "init function `%s` finished in %.2f s", init.name, time.monotonic() - started
            )
        if self.state == "initializing":
            self.state = "ready"
            logger.info("service ready: %s", ", ".join(sorted(self.handlers)) or "no handlers")

    def submit(self, spec: HandlerSpec, task_address: str, data: BaseModel) -> SubmitStatus:
        """Accept a task and run it in the background, or say why not. No I/O."""
        if self.state != "ready":
            self.stats.rejected_not_ready += 1
            if self.state in ("created", "initializing"):
                return "not_ready"
            return "init_failed" if self.state == "init_failed" else "shutting_down"
        if self.in_flight >= self.config.max_in_flight:
            self.stats.rejected_busy += 1
            return "busy"
        self.stats.accepted += 1
        task = asyncio.ensure_future(self._run_task(spec, task_address, data))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        logger.debug("[%s] accepted for `%s`", task_address, spec.name)
        return "accepted"

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("internal error in a task runner", exc_info=task.exception())

    def _count_attempt(self, attempt: int, error: str | None) -> None:
        self.stats.callback_attempts += 1
        if attempt > 1:
            self.stats.callback_retries += 1

    async def _run_task(self, spec: HandlerSpec, task_address: str, data: BaseModel) -> None:
        assert self._pool is not None
        try:
            outcome = await execute_handler(spec, data, self._pool, self._abandoned)
        except asyncio.CancelledError:
            logger.task_fail("[%s] `%s` abandoned at shutdown", task_address, spec.name)
            raise
        self._log_outcome(task_address, outcome)
        if outcome.status != "success" and not self.config.failure_callbacks:
            self.stats.callbacks_skipped += 1  # the official framework's behaviour
            return
        if self._callback is None:
            self.stats.callbacks_skipped += 1
            body = json.dumps(outcome.callback_body(task_address))
            if len(body) > _MAX_ERROR_CHARS:
                body = body[: _MAX_ERROR_CHARS - 3] + "..."
            logger.info("[%s] no CALLBACK_URL; result not delivered: %s", task_address, body)
            return
        try:
            result = await self._callback.deliver(
                task_address, outcome.callback_body(task_address), outcome.status
            )
        except asyncio.CancelledError:
            logger.error("[%s] callback abandoned at shutdown", task_address)
            raise
        if result.delivered:
            self.stats.callbacks_delivered += 1
        else:
            self.stats.callbacks_failed += 1

    def _log_outcome(self, task_address: str, outcome: TaskOutcome) -> None:
        if outcome.status == "success":
            self.stats.succeeded += 1
            logger.task_success(
                "[%s] `%s` completed in %.3f s", task_address, outcome.function, outcome.seconds
            )
        elif outcome.status == "timeout":
            self.stats.timed_out += 1
            assert outcome.failure is not None
            logger.task_timeout("[%s] %s", task_address, outcome.failure.error)
        else:
            self.stats.failed += 1
            assert outcome.failure is not None
            logger.task_fail(
                "[%s] `%s` failed: %s",
                task_address,
                outcome.function,
                outcome.failure.error,
                exc_info=outcome.failure.exception,
            )

    def health(self) -> dict[str, Any]:
        """The ``GET /health`` body. No I/O."""
        body: dict[str, Any] = {
            "status": self.state,
            "handlers": sorted(self.handlers),
            "in_flight": self.in_flight,
            "max_in_flight": self.config.max_in_flight,
            "callback_url": (
                redact_url(self.config.callback_url) if self.config.callback_url else None
            ),
            "source_address": self.config.source_address,
            "stats": self.stats.as_dict(),
        }
        if self.init_error is not None:
            body["error"] = self.init_error
        return body

    async def shutdown(self) -> None:
        """Stop accepting tasks and wait up to ``shutdown_grace`` for running ones
        (handler and callback); cancel what is left, then release the pools."""
        if self.state == "stopped":
            return
        self.state = "shutting_down"
        logger.info("shutting down")
        if self._init_task is not None and not self._init_task.done():
            self._init_task.cancel()
        pending = set(self._tasks)
        if pending:
            grace = self.config.shutdown_grace
            logger.info("waiting up to %g s for %d running task(s)", grace, len(pending))
            _, left = await asyncio.wait(pending, timeout=grace)
            if left:
                logger.error("shutdown: cancelling %d task(s) after the grace period", len(left))
                for task in left:
                    task.cancel()
                await asyncio.wait(left, timeout=5.0)
        if len(self._abandoned):
            logger.warning(
                "shutdown: %d timed-out handler thread(s) still running", len(self._abandoned)
            )
        for pool in (self._pool, self._callback_pool):
            if pool is not None:
                pool.shutdown()
        self.state = "stopped"
