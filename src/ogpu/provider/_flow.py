"""How a task moves through :class:`~ogpu.provider.runtime.ProviderRuntime`: intake,
a bounded fetch stage, a bounded run stage, and the events it reports."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ogpu.chain.context import carry
from ogpu.provider._steps import Prepared, Steps, failure_text
from ogpu.provider.callback import CallbackServer
from ogpu.provider.settings import ProviderRuntimeError, RuntimeEvent, RuntimeSettings
from ogpu.types import OGPUError

__all__ = ["Job", "TaskFlow", "short"]

logger = logging.getLogger("ogpu.provider")

T = TypeVar("T")


@dataclass
class Job:
    task: str
    source: str
    seen_at: float


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


class TaskFlow:
    """The runtime's per-task machinery (a mixin: the runtime owns the state below)."""

    settings: RuntimeSettings
    _steps: Steps
    _callback: CallbackServer | None
    _pool: concurrent.futures.ThreadPoolExecutor | None
    _queue: asyncio.Queue[Job] | None
    _inflight: set[asyncio.Task[None]]
    _lock: threading.Lock
    _stats: dict[str, int]
    _on_event: Callable[[RuntimeEvent], None] | None

    async def _intake(self) -> None:
        """Start each queued task once a fetch slot is free; at most
        ``max_concurrent_fetches + max_concurrent_tasks`` tasks are in flight."""
        queue = self._queue
        assert queue is not None
        settings = self.settings
        fetching = asyncio.Semaphore(settings.max_concurrent_fetches)
        running = asyncio.Semaphore(settings.max_concurrent_tasks)
        room = asyncio.Semaphore(settings.max_concurrent_fetches + settings.max_concurrent_tasks)
        while True:
            job = await queue.get()
            await room.acquire()
            await fetching.acquire()
            task = asyncio.create_task(self._handle(job, fetching, running))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(lambda _: room.release())
            queue.task_done()

    async def _handle(
        self, job: Job, fetching: asyncio.Semaphore, running: asyncio.Semaphore
    ) -> None:
        try:
            self._event(job, "task", f"task {job.task} published to source {short(job.source)}")
            try:
                # The fetch ends by its own budget; this wait is bounded too, in case.
                prepared = await asyncio.wait_for(
                    self._call(self._steps.prepare, job.task), self.settings.fetch_timeout + 1
                )
            except asyncio.TimeoutError:
                raise ProviderRuntimeError(
                    f"reading the task and its config took over {self.settings.fetch_timeout:g}s"
                ) from None
            finally:
                fetching.release()
            if isinstance(prepared, str):
                self._count("skipped")
                self._event(job, "skipped", prepared)
                return
            async with running:
                await self._process(job, prepared)
        except asyncio.CancelledError:
            self._failed(job, "cancelled by shutdown")
            raise
        except Exception as exc:
            if not isinstance(exc, OGPUError):
                logger.exception("task %s failed unexpectedly", job.task)
            self._failed(job, f"{type(exc).__name__}: {exc}")

    # -- per task ------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, carry(lambda: fn(*args, **kwargs)))

    async def _process(self, job: Job, prepared: Prepared) -> None:
        steps, snapshot = self._steps, prepared.snapshot
        callback = self._callback
        assert callback is not None
        waiter = callback.expect(job.task)
        try:
            if await self._call(steps.attempted, job.task):
                self._event(job, "attempted", "already attempted for this provider; running it")
            else:
                tx_hash = await self._call(steps.attempt, job.task, snapshot.payment)
                self._count("attempted")
                self._event(job, "attempted", f"attempted (tx {tx_hash})", tx_hash=tx_hash)
            function = prepared.function
            ticket = callback.ticket(job.task)
            status = await self._call(steps.dispatch, function, ticket, prepared.data)
            self._event(
                job,
                "dispatched",
                f"POST /run/{function}/{short(job.task)} -> {status}",
                function=function,
            )
            try:
                result = await asyncio.wait_for(
                    asyncio.wrap_future(waiter), self.settings.result_timeout
                )
            except asyncio.TimeoutError:
                raise ProviderRuntimeError(
                    f"no callback within {self.settings.result_timeout:g}s"
                ) from None
        finally:
            callback.forget(job.task)
        self._event(job, "result", f"callback received ({result.status})", status=result.status)
        if result.status != "success":
            raise ProviderRuntimeError(f"the service reported: {failure_text(result)}")
        url = await self._call(steps.pin, result.body)
        self._event(job, "pinned", f"result pinned at {url}", url=url)
        response, tx_hash = await self._call(steps.submit, job.task, url, snapshot.payment)
        self._count("submitted")
        self._event(
            job,
            "submitted",
            f"response {response} submitted (tx {tx_hash})",
            response=response,
            tx_hash=tx_hash,
            url=url,
            result=result.body,
        )

    # -- reporting -----------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def _failed(self, job: Job, why: str) -> None:
        self._count("failed")
        self._event(job, "failed", why)

    def _event(self, job: Job, kind: str, message: str, **data: Any) -> None:
        self._emit(
            RuntimeEvent(
                kind,
                message,
                task=job.task,
                source=job.source,
                elapsed=time.monotonic() - job.seen_at,
                data=data,
            )
        )

    def _emit(self, event: RuntimeEvent) -> None:
        level = logging.WARNING if event.kind == "failed" else logging.INFO
        logger.log(level, "%s %s: %s", event.kind, event.task or "-", event.message)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("on_event callback failed")
