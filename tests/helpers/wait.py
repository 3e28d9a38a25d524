"""Loopback ports, polling and running calls concurrently."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable

__all__ = ["free_port", "run_concurrently", "wait_until"]


def free_port() -> int:
    """A loopback TCP port free right now (for a child process that must be told one;
    in-process servers bind port 0 instead)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.02, what: str = ""
) -> None:
    """Poll ``predicate`` until it is true; AssertionError (naming ``what``, else the
    predicate) after ``timeout`` seconds.

    Coordination only (a generous bound on a loaded machine), never a timing assertion.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout:g} s: {what or predicate}")
        time.sleep(interval)


def run_concurrently(
    calls: Iterable[Callable[[], object]], timeout: float | None = None
) -> list[threading.Thread]:
    """Start one thread per call, all before joining any; return the threads once joined
    (each join waits at most ``timeout`` seconds: check ``is_alive()`` when it is set)."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return threads
