"""Per-app state: init, the in-flight bound and the queue, callbacks and shutdown."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ..net import redact_url
from .callback import CallbackClient, policy_of
from .config import ServiceConfig
from .execute import TaskOutcome, error_text, execute_handler
from .logger import logger
from .pool import DaemonThreadPool
from .registry import HandlerSpec, InitSpec

__all__ = ["RuntimeStats", "ServiceRuntime", "ServiceState", "SubmitStatus"]

ServiceState = Literal[
    "created", "initializing", "ready", "init_failed", "shutting_down", "stopped"
]
SubmitStatus = Literal["accepted", "busy", "not_ready", "init_failed", "shutting_down"]

_MAX_LOGGED_CHARS = 2000
_LISTED_AT_SHUTDOWN = 20


@dataclass
class RuntimeStats:
    """Counters since startup (read them from any thread; written on the loop)."""

    accepted: int = 0
    queued: int = 0
    rejected_busy: int = 0
    rejected_not_ready: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    dropped_at_shutdown: int = 0
    callbacks_delivered: int = 0
    callbacks_failed: int = 0
    callbacks_skipped: int = 0
    callback_attempts: int = 0
    callback_retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class _Backlog:
    """Accepted tasks waiting for an in-flight slot, first in first out, bounded by a
    count and by the bytes of their request bodies."""

    def __init__(self, max_tasks: int, max_bytes: int) -> None:
        self.max_tasks = max_tasks
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: deque[tuple[HandlerSpec, str, BaseModel, int]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, spec: HandlerSpec, task_address: str, data: BaseModel, size: int) -> bool:
        """Queue the task if there is room (one body of any size fits an empty queue)."""
        items = self._items
        if len(items) >= self.max_tasks or (items and self.bytes + size > self.max_bytes):
            return False
        items.append((spec, task_address, data, size))
        self.bytes += size
        return True

    def take(self) -> tuple[HandlerSpec, str, BaseModel]:
        spec, task_address, data, size = self._items.popleft()
        self.bytes -= size
        return spec, task_address, data

    def drain(self) -> list[str]:
        """Empty the queue; the task addresses that were waiting."""
        addresses = [item[1] for item in self._items]
        self._items.clear()
        self.bytes = 0
        return addresses


class ServiceRuntime:
    """Per-app state: init, the in-flight bound and the queue behind it, background
    tasks and shutdown.

    At most ``max_in_flight`` accepted tasks run at once (handler, then callback);
    more wait in a queue of ``queue_size`` tasks / ``queue_max_bytes`` body bytes,
    started in arrival order as slots free up. All methods except the read-only
    properties must be called on the event loop.
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
        self._backlog = _Backlog(config.queue_size, config.queue_max_bytes)
        self._abandoned = 0  # sync handler threads still running after a timeout or cancel
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._init_task: asyncio.Task[None] | None = None
        self._pool: DaemonThreadPool | None = None
        self._callback_pool: DaemonThreadPool | None = None
        self._callback: CallbackClient | None = None
        self._finished = 0
        self._pace = (0.0, 0, 0.0)  # (window start, finished then, tasks/s of the last window)

    @property
    def in_flight(self) -> int:
        """Started tasks not finished yet, plus abandoned sync handlers still running."""
        return len(self._tasks) + self._abandoned

    @property
    def queued(self) -> int:
        """Accepted tasks waiting for an in-flight slot."""
        return len(self._backlog)

    @property
    def running_tasks(self) -> int:
        return len(self._tasks)

    @property
    def abandoned(self) -> int:
        return self._abandoned

    async def startup(self) -> None:
        """Create the thread pools and start the init function in the background."""
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
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
                await init.run(self._pool)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.init_error = error_text(exc)
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

    def submit(
        self, spec: HandlerSpec, task_address: str, data: BaseModel, size: int = 0
    ) -> SubmitStatus:
        """Accept a task (start it, or queue it behind the in-flight limit), or say why
        not: ``busy`` when the queue is full. ``size`` is the request body's length,
        counted against ``queue_max_bytes`` while the task waits. No I/O."""
        if self.state != "ready":
            self.stats.rejected_not_ready += 1
            if self.state in ("created", "initializing"):
                return "not_ready"
            return "init_failed" if self.state == "init_failed" else "shutting_down"
        if not self._backlog and self.in_flight < self.config.max_in_flight:
            self._start(spec, task_address, data)
        elif self._backlog.offer(spec, task_address, data, size):
            self.stats.queued += 1
        else:
            self.stats.rejected_busy += 1
            return "busy"
        self.stats.accepted += 1
        logger.debug("[%s] accepted for `%s` (%d queued)", task_address, spec.name, self.queued)
        return "accepted"

    def _start(self, spec: HandlerSpec, task_address: str, data: BaseModel) -> None:
        task = asyncio.ensure_future(self._run_task(spec, task_address, data))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _pump(self) -> None:
        """Start queued tasks while slots are free (also while shutting down: draining)."""
        backlog, limit = self._backlog, self.config.max_in_flight
        while backlog and self.in_flight < limit and self.state in ("ready", "shutting_down"):
            self._start(*backlog.take())

    def finish_rate(self) -> float:
        """Tasks finished per second over the last window of at least a second (0 before
        one has passed). No I/O."""
        since, then, rate = self._pace
        elapsed = time.monotonic() - since
        if since and elapsed >= 1.0:  # a window is open: nothing finishing shows at once
            rate = min(rate, (self._finished - then) / elapsed)
        return rate

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._finished += 1
        since, then, _ = self._pace
        now = time.monotonic()
        if now - since >= 1.0:
            rate = (self._finished - then) / (now - since) if since else 0.0
            self._pace = (now, self._finished, rate)
        if not task.cancelled() and task.exception() is not None:
            logger.error("internal error in a task runner", exc_info=task.exception())
        if self._backlog:
            self._pump()
        if self._changed is not None:
            self._changed.set()

    def _abandon(self, job: Future[Any]) -> None:
        """Count a sync handler's thread that outlived its task; it holds a slot until it
        returns (told on the loop, from that thread)."""
        self._abandoned += 1
        loop = self._loop
        assert loop is not None

        def returned(_: Future[Any]) -> None:
            with suppress(RuntimeError):  # the loop is closed: nothing left to start
                loop.call_soon_threadsafe(self._thread_returned)

        job.add_done_callback(returned)

    def _thread_returned(self) -> None:
        self._abandoned -= 1
        self._pump()
        if self._changed is not None:
            self._changed.set()

    def _count_attempt(self, attempt: int, error: str | None) -> None:
        self.stats.callback_attempts += 1
        if attempt > 1:
            self.stats.callback_retries += 1

    async def _run_task(self, spec: HandlerSpec, task_address: str, data: BaseModel) -> None:
        assert self._pool is not None
        try:
            outcome = await execute_handler(spec, data, self._pool, self._abandon)
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
            if len(body) > _MAX_LOGGED_CHARS:
                body = body[: _MAX_LOGGED_CHARS - 3] + "..."
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
        cfg = self.config
        body: dict[str, Any] = {
            "status": self.state,
            "handlers": sorted(self.handlers),
            "in_flight": self.in_flight,
            "max_in_flight": cfg.max_in_flight,
            "queued": self.queued,
            "queue_size": cfg.queue_size,
            "callback_url": redact_url(cfg.callback_url) if cfg.callback_url else None,
            "source_address": cfg.source_address,
            "stats": self.stats.as_dict(),
        }
        if self.init_error is not None:
            body["error"] = self.init_error
        return body

    async def shutdown(self) -> None:
        """Stop accepting tasks; for up to ``shutdown_grace`` seconds keep running the
        started ones (handler and callback) and starting queued ones. Then report the
        queued tasks that never started, cancel what still runs, release the pools."""
        if self.state == "stopped":
            return
        self.state = "shutting_down"
        logger.info("shutting down")
        if self._init_task is not None and not self._init_task.done():
            self._init_task.cancel()
        if self._tasks or self._backlog:
            grace = self.config.shutdown_grace
            logger.info(
                "waiting up to %g s for %d running and %d queued task(s)",
                grace,
                len(self._tasks),
                len(self._backlog),
            )
            await self._drain(time.monotonic() + grace)
        dropped = self._backlog.drain()
        if dropped:
            self.stats.dropped_at_shutdown += len(dropped)
            shown = ", ".join(dropped[:_LISTED_AT_SHUTDOWN])
            more = len(dropped) - _LISTED_AT_SHUTDOWN
            logger.error(
                "shutdown: %d queued task(s) never started and get no callback: %s%s",
                len(dropped),
                shown,
                f" and {more} more" if more > 0 else "",
            )
        left = set(self._tasks)
        if left:
            logger.error("shutdown: cancelling %d task(s) after the grace period", len(left))
            for task in left:
                task.cancel()
            await asyncio.wait(left, timeout=5.0)
        if self._abandoned:
            logger.warning(
                "shutdown: %d timed-out handler thread(s) still running", self._abandoned
            )
        for pool in (self._pool, self._callback_pool):
            if pool is not None:
                pool.shutdown()
        self.state = "stopped"

    async def _drain(self, deadline: float) -> None:
        changed = self._changed
        assert changed is not None
        while self._tasks or self._backlog:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            changed.clear()
            self._pump()
            # woken when a task ends or an abandoned handler thread returns
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), left)
