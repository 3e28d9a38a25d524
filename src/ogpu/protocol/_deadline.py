"""The wall-clock budget of a write, in the official SDK's terms.

0.2.3 bounds a publish with ``deadline`` (a ``time.monotonic()`` instant) and
``budget`` (the total in seconds, for messages): ``TxExecutor(..., deadline=, budget=)``
and ``controller.publish_task(..., deadline=, budget=)``. Ours expresses both as an
:class:`ogpu.net.Budget` made ambient with ``scope``: every JSON-RPC call inside ends by
the deadline, the executor checks it right before the broadcast (``before_broadcast``:
a transaction the budget no longer covers is never sent) and the engine caps its waits
with it (``_tx.clock``). A client workflow's ``with budget.scope():`` has the same effect.
No I/O here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ogpu import net
from ogpu.types.errors import (
    InvalidParamsError,
    NonceError,
    PublishTimeoutError,
    RPCError,
)

__all__ = [
    "before_broadcast",
    "check",
    "pre_send_reads",
    "scope",
    "seconds",
]

#: The stage name 0.2.3 gives a budget spent before the broadcast.
PRE_TRANSACTION = "pre-transaction"


def seconds(name: str, value: object, positive: bool = True) -> float | None:
    """Validate optional seconds (None passes). No I/O.

    Raises:
        InvalidParamsError: not a finite number (positive unless ``positive=False``).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParamsError(
            f"{name} must be a number of seconds, got {type(value).__name__}", param=name
        )
    if not math.isfinite(value) or (positive and value <= 0):
        rule = "positive and finite" if positive else "finite"
        raise InvalidParamsError(f"{name} must be {rule}, got {value!r}", param=name)
    return float(value)


def check(deadline: object, budget: object) -> tuple[float | None, float | None]:
    """Validate ``deadline`` (a ``time.monotonic()`` instant) and ``budget`` (seconds).
    No I/O.

    Raises:
        InvalidParamsError: not finite numbers, or a budget that is not positive.
    """
    return seconds("deadline", deadline, False), seconds("budget", budget)


@contextmanager
def scope(deadline: float | None, budget: float | None) -> Iterator[None]:
    """Make ``deadline`` the ambient budget for the ``with`` block (nothing without one).

    With ``budget`` the budget's total is those seconds, ending at ``deadline``; an
    enclosing scope that ends earlier stays in force.
    """
    if deadline is None:
        yield
        return
    if budget is None:
        bound = net.Budget(total=deadline - time.monotonic())
    else:
        bound = net.Budget(total=budget, started=deadline - budget)
    with bound.scope():
        yield


def _spent() -> net.Budget | None:
    """The ambient budget when it has run out, else None."""
    ambient = net.Budget.current()
    return ambient if ambient is not None and ambient.expired() else None


def _error(budget: net.Budget, stage: str) -> PublishTimeoutError:
    total = budget.total or 0.0
    return PublishTimeoutError(
        message=f"the total timeout of {total:g}s ran out before the broadcast ({stage}); "
        "no transaction was sent",
        budget=total,
        stage=stage,
    )


def before_broadcast(stage: str = PRE_TRANSACTION) -> None:
    """Refuse to broadcast once the ambient budget has run out. No I/O.

    Raises:
        PublishTimeoutError: the budget is spent (nothing was sent).
    """
    spent = _spent()
    if spent is not None:
        raise _error(spent, stage)


@contextmanager
def pre_send_reads(stage: str = PRE_TRANSACTION) -> Iterator[None]:
    """Inside the block, an ``RPCError``/``NonceError`` without a transaction hash (a node
    read before the broadcast) raised once the ambient budget is spent becomes the
    ``PublishTimeoutError`` it stands for; an error about a sent transaction carries its
    hash and passes unchanged. No I/O."""
    try:
        yield
    except (RPCError, NonceError) as exc:
        spent = _spent()
        if spent is None or getattr(exc, "tx_hash", None):
            raise
        raise _error(spent, stage) from exc
