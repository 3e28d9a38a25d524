"""``Budget``: the wall-clock deadline of one public call, shared by its steps.

A budget is created once per public call (``Budget.after(timeout)``) and handed to
every step: each HTTP request, retry and backoff takes what it needs from what is
left. ``with budget.scope():`` also makes it the *ambient* budget of the current
context (a ``contextvars`` variable): every :mod:`ogpu.net` request and JSON-RPC call
made inside, at any depth, is capped by it without an argument being threaded
through. Contexts are per thread and per asyncio task; a thread pool started inside
a scope does not inherit it (pass the budget, or run the job in
``contextvars.copy_context()``).
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ogpu.net.errors import BudgetExhausted

__all__ = ["Budget", "effective"]

_AMBIENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "ogpu_net_budget", default=None
)


@dataclass(frozen=True)
class Budget:
    """``total`` seconds (None: unlimited) counted from ``started`` (``time.monotonic``)."""

    total: float | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def after(cls, seconds: float | None) -> Budget:
        """A budget of ``seconds`` from now (None: unlimited). No I/O."""
        return cls(None if seconds is None else float(seconds))

    @property
    def deadline(self) -> float:
        """The ``time.monotonic()`` instant it ends (``inf`` when unlimited)."""
        return math.inf if self.total is None else self.started + self.total

    def remaining(self) -> float:
        """Seconds left (``inf`` when unlimited; may be negative)."""
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def cap(self, seconds: float, before: str = "the next step") -> float:
        """``seconds`` shortened to what is left. No I/O.

        Raises:
            BudgetExhausted: nothing is left before ``before`` begins.
        """
        if self.total is None:
            return seconds
        left = self.remaining()
        if left <= 0:
            raise BudgetExhausted(f"the total timeout of {self.total:g}s ran out before {before}")
        return min(seconds, left)

    def within(self, seconds: float | None) -> Budget:
        """The earlier of this budget and ``seconds`` from now. No I/O."""
        if seconds is None:
            return self
        other = Budget.after(seconds)
        return other if other.deadline < self.deadline else self

    @contextmanager
    def scope(self) -> Iterator[Budget]:
        """Make this the ambient budget of the current context for the ``with`` block.

        Nested scopes keep the earlier deadline.
        """
        outer = _AMBIENT.get()
        chosen = self if outer is None or self.deadline <= outer.deadline else outer
        token = _AMBIENT.set(chosen)
        try:
            yield chosen
        finally:
            _AMBIENT.reset(token)

    @staticmethod
    def current() -> Budget | None:
        """The ambient budget of the current context, if any."""
        return _AMBIENT.get()


def effective(budget: Budget | float | None, default: float | None) -> Budget:
    """The budget a request runs under: ``budget`` (a Budget or seconds, else ``default``
    seconds from now), capped by the ambient budget. No I/O."""
    if isinstance(budget, Budget):
        chosen = budget
    else:
        chosen = Budget.after(budget if budget is not None else default)
    ambient = _AMBIENT.get()
    if ambient is not None and ambient.deadline < chosen.deadline:
        return ambient
    return chosen
