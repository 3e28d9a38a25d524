"""The wall clock of one write: the ambient :class:`ogpu.net.Budget` caps every wait.

A caller bounds a write with ``with budget.scope():`` (``publish_task(timeout=...)``
does); every JSON-RPC call inside is capped by it (:mod:`ogpu.chain.transport`), and
the engine's own waits (retry pauses, receipt polls, settling an uncertain send) go
through here so they are capped too. No I/O besides sleeping.
"""

from __future__ import annotations

import math
import time

from ogpu import net

__all__ = ["left", "pause"]


def left(seconds: float = math.inf) -> float:
    """``seconds`` shortened to what the ambient budget has left (may be <= 0)."""
    budget = net.Budget.current()
    return seconds if budget is None else min(seconds, budget.remaining())


def pause(seconds: float) -> None:
    """Sleep ``seconds``, never past the ambient budget."""
    wait = left(seconds)
    if wait > 0:
        time.sleep(wait)
