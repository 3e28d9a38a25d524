"""Timeouts and the retry policy: one definition for IPFS, JSON-RPC and the service callback.

Transient (worth a retry): connection failures, timeouts, bodies cut short, HTTP 429
and 5xx, and an error answer saying the same in words (a lagging replica, a rate
limit: :func:`is_transient_reply`). Everything else is final. Retries and their
pauses count inside the call's :class:`~ogpu.net.Budget`: a retry that cannot finish
in time is not started.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from ogpu.net.budget import Budget

__all__ = [
    "RetryPolicy",
    "Timeout",
    "Transient",
    "is_transient_reply",
    "is_transient_status",
    "parse_retry_after",
    "run_with_retry",
]

T = TypeVar("T")

# A replica without the block yet: "block 0x1a not found" (public RPC), "header not found"
# (geth), "unknown block" (erigon, nethermind). A busy node: rate limits, "try again".
_TRANSIENT_REPLY = re.compile(
    r"block\s+\S*\s*not found|header not found|unknown block"
    r"|rate limit|too many requests|temporarily|try again",
    re.IGNORECASE,
)


def _invalid(message: str, param: str) -> NoReturn:
    # Imported on failure only: this module stays stdlib-only at import time.
    from ogpu.types import InvalidInputError

    raise InvalidInputError(message, param=param)


def _seconds(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _invalid(f"{name} must be a number, got {type(value).__name__}", name)
    if not math.isfinite(value) or value <= 0:
        _invalid(f"{name} must be a positive finite number, got {value!r}", name)


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed to one call.

    ``connect``: resolving and connecting (TLS included), per attempt. ``read``: the
    longest silence while waiting for the answer, per attempt. ``total``: the whole
    call by wall clock, attempts, redirects and pauses included (None: the retry
    policy's ``total_timeout``). Whatever the server does (hang, drip one byte per
    second), the call ends within ``total``.
    """

    connect: float = 5.0
    read: float = 30.0
    total: float | None = None

    def __post_init__(self) -> None:
        _seconds("Timeout.connect", self.connect)
        _seconds("Timeout.read", self.read)
        _seconds("Timeout.total", self.total, optional=True)

    @classmethod
    def coerce(cls, value: Timeout | float | tuple[float, float] | None) -> Timeout:
        """From ``None`` (defaults), seconds (the total, which also caps connect and
        read) or ``(connect, read)``. No I/O. Raises InvalidInputError otherwise."""
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, tuple):
            if len(value) != 2:
                _invalid("timeout tuple must be (connect, read)", "timeout")
            return cls(connect=value[0], read=value[1])
        _seconds("timeout", value)
        seconds = float(value)
        return cls(connect=min(cls.connect, seconds), read=seconds, total=seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of transient failures, exponential backoff with jitter.

    ``max_attempts`` counts the first try; ``total_timeout`` bounds the whole call,
    pauses included. ``Retry-After`` is honoured up to ``backoff_max``.
    """

    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    total_timeout: float = 120.0

    def __post_init__(self) -> None:
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            from ogpu.errors import shown  # on failure only, as in _invalid

            _invalid(
                f"RetryPolicy.max_attempts must be an int >= 1, got {shown(attempts)}",
                "max_attempts",
            )
        _seconds("RetryPolicy.backoff_initial", self.backoff_initial)
        _seconds("RetryPolicy.backoff_max", self.backoff_max)
        _seconds("RetryPolicy.total_timeout", self.total_timeout)

    def delay(
        self,
        retry_index: int,
        retry_after: float | None = None,
        *,
        jitter: Callable[[], float] | None = None,
    ) -> float:
        """Seconds to pause before retry ``retry_index`` (0-based): between half and all
        of ``backoff_initial * 2**retry_index`` capped at ``backoff_max`` (``jitter()``
        in [0, 1] picks where; default random). No I/O."""
        if jitter is None:
            import random  # loaded by the first retry, not with the SDK

            jitter = random.random
        ceiling = min(self.backoff_max, self.backoff_initial * (2**retry_index))
        wait = float(ceiling * (0.5 + 0.5 * jitter()))
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max))
        return wait

    def budget(self, timeout: Timeout | None = None) -> Budget:
        """The budget of one call under this policy (and ``timeout.total``). No I/O."""
        total = self.total_timeout
        if timeout is not None and timeout.total is not None:
            total = min(total, timeout.total)
        return Budget.after(total)


class Transient(Exception):
    """One attempt failed in a way worth retrying; ``final`` is raised if none remain."""

    def __init__(self, final: BaseException, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after


def run_with_retry(
    attempt: Callable[[Budget], T],
    *,
    policy: RetryPolicy,
    budget: Budget,
    what: str,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> T:
    """Call ``attempt(budget)`` until it returns, raises something other than
    :class:`Transient`, or the attempts or the budget are spent (then the last
    ``Transient.final`` is raised, its own cause kept). Sleeps between attempts."""
    index = 0
    previous: Transient | None = None
    while True:
        try:
            return attempt(budget)
        except Transient as caught:
            index += 1
            # A retry cut short by the deadline says less than the failure it retried.
            failure = previous if budget.expired() and previous is not None else caught
            delay = policy.delay(index - 1, failure.retry_after)
            if index >= policy.max_attempts or budget.remaining() <= delay:
                raise failure.final from failure.final.__cause__
            previous = failure
            if on_retry is not None:
                on_retry(index, failure.final)
            import logging  # loaded by the first retry, not with the SDK

            logging.getLogger("ogpu.net").debug(
                "%s: attempt %d/%d failed (%s); retrying in %.2fs",
                what,
                index,
                policy.max_attempts,
                failure.final,
                delay,
            )
            time.sleep(delay)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # rare: loaded on the first HTTP date

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_transient_status(status: int) -> bool:
    """HTTP 429 and 5xx."""
    return status == 429 or 500 <= status <= 599


def is_transient_reply(message: str) -> bool:
    """Whether an error answer's ``message`` says another try may succeed: a lagging
    replica of a load-balanced node (official ogpu 0.2.3 retries those too) or a busy
    one. Reverts and other errors are final. No I/O."""
    return bool(_TRANSIENT_REPLY.search(message))
