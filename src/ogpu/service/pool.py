"""A bounded pool of daemon worker threads.

Unlike ``concurrent.futures.ThreadPoolExecutor``, whose workers are joined at
interpreter exit, these threads are daemons: a handler abandoned after a
timeout cannot keep the container from exiting.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["DaemonThreadPool", "PoolClosedError"]

_T = TypeVar("_T")


class PoolClosedError(RuntimeError):
    """Work was submitted to a pool after :meth:`DaemonThreadPool.shutdown`."""


@dataclass
class _Job(Generic[_T]):
    future: Future[_T]
    fn: Callable[..., _T]
    args: tuple[Any, ...]
    on_start: Callable[[], None] | None


class DaemonThreadPool:
    """Run callables on at most ``max_workers`` daemon threads, started on demand."""

    def __init__(self, max_workers: int, name: str) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max_workers = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def submit(
        self,
        fn: Callable[..., _T],
        *args: Any,
        on_start: Callable[[], None] | None = None,
    ) -> Future[_T]:
        """Queue ``fn(*args)``; ``on_start`` runs on the worker just before it.

        Raises :class:`PoolClosedError` after :meth:`shutdown`.
        """
        future: Future[_T] = Future()
        with self._lock:
            if self._closed:
                raise PoolClosedError(f"thread pool {self._name!r} is shut down")
            self._jobs.put(_Job(future, fn, args, on_start))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work,
                    name=f"{self._name}-{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.future.set_running_or_notify_cancel():
                if job.on_start is not None:
                    # If the waiter's loop is gone, run the job anyway.
                    with contextlib.suppress(Exception):
                        job.on_start()
                try:
                    result = job.fn(*job.args)
                except Exception as exc:
                    job.future.set_exception(exc)
                except BaseException as exc:
                    # SystemExit/KeyboardInterrupt raised by user code must not kill
                    # the worker; report it to the waiter as an ordinary error.
                    error = RuntimeError(f"worker job raised {type(exc).__name__}: {exc}")
                    error.__cause__ = exc
                    job.future.set_exception(error)
                else:
                    job.future.set_result(result)
            del job
            self._idle.release()

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
                    job.future.cancel()
            for _ in self._threads:
                self._jobs.put(None)
