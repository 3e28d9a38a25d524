"""Many clients at once against one loopback port (test support)."""

from __future__ import annotations

import socket
import threading
from collections import Counter

from ..helpers.wait import run_concurrently

__all__ = ["burst"]


def burst(port: int, request: bytes, count: int, timeout: float = 20.0) -> Counter[str]:
    """Open ``count`` connections at the same instant, send ``request`` on each and read
    the answer to the end. Returns outcomes: ``"200"`` for a 200 answer, else the status
    line or the exception name (``ConnectionResetError``, ``TimeoutError``...)."""
    barrier = threading.Barrier(count)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                sock.sendall(request)
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            outcome = "200" if data.startswith(b"HTTP/1.1 200") else repr(data[:30])
        except OSError as exc:
            outcome = type(exc).__name__
        with lock:
            outcomes[outcome] += 1

    run_concurrently([one] * count)
    return outcomes
