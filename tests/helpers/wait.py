"""Loopback ports and polling."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

__all__ = ["free_port", "wait_until"]


def free_port() -> int:
    """A loopback TCP port free right now (for a child process that must be told one;
    in-process servers bind port 0 instead)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.02
) -> None:
    """Poll ``predicate`` until it is true; AssertionError after ``timeout`` seconds.

    Coordination only (a generous bound on a loaded machine), never a timing assertion.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout:g} s")
        time.sleep(interval)
