"""A bounded pool of daemon worker threads.

Unlike ``concurrent.futures.ThreadPoolExecutor``, whose workers are joined at
interpreter exit, these threads are daemons: a handler abandoned after a
timeout cannot keep the container from exiting.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["DaemonThreadPool", "PoolClosedError", "PoolFuture"]

_T = TypeVar("_T")


class PoolClosedError(RuntimeError):
    """Work was submitted to a pool after :meth:`DaemonThreadPool.shutdown`."""


class PoolFuture(Future[_T]):
    """A pool job's future; ``started_at`` is the ``time.monotonic()`` at which a
    worker picked the job up (``None`` while it waits in the pool)."""

    started_at: float | None = None
    _on_start: Callable[[], None] | None = None


_Job = tuple[PoolFuture[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonThreadPool:
    """Run callables on at most ``max_workers`` daemon threads, started on demand."""

    def __init__(self, max_workers: int, name: str) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max_workers = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # workers waiting for a job that no submit has claimed yet
        self._threads: list[threading.Thread] = []
        self._closed = False

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def submit(self, fn: Callable[..., _T], *args: Any) -> PoolFuture[_T]:
        """Queue ``fn(*args)``; the returned future records when a worker starts it.

        Raises :class:`PoolClosedError` after :meth:`shutdown`.
        """
        future: PoolFuture[_T] = PoolFuture()
        with self._lock:
            if self._closed:
                raise PoolClosedError(f"thread pool {self._name!r} is shut down")
            self._jobs.put((future, fn, args))
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def when_started(self, future: PoolFuture[Any], callback: Callable[[], None]) -> float | None:
        """The job's start time, or ``None`` after arranging for ``callback`` to run (on
        the worker thread) when it starts. No I/O.

        No lock: this stores the callback then reads the start time, the worker
        stores the start time then reads the callback, so (attribute accesses
        being sequentially consistent) at least one side sees the other's write.
        """
        future._on_start = callback
        return future.started_at

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args = job
            del job
            if future.set_running_or_notify_cancel():
                future.started_at = time.monotonic()
                on_start = future._on_start  # see when_started
                if on_start is not None:
                    with contextlib.suppress(Exception):  # the waiter is gone: run anyway
                        on_start()
                try:
                    result = fn(*args)
                except Exception as exc:
                    future.set_exception(exc)
                except BaseException as exc:
                    # SystemExit/KeyboardInterrupt raised by user code must not kill
                    # the worker; report it to the waiter as an ordinary error.
                    error = RuntimeError(f"worker job raised {type(exc).__name__}: {exc}")
                    error.__cause__ = exc
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, fn, args
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Cancel queued jobs and let idle workers exit; running jobs are not waited for."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
            for _ in self._threads:
                self._jobs.put(None)
