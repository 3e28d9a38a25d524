"""0.2.3's publish bounds in the client's terms: ``total_timeout`` (the call's budget),
``ipfs_retries``/``ipfs_backoff`` and the expiry checked again right before the send."""

from __future__ import annotations

import math
import time

from ogpu.client._common import Budget, positive_seconds
from ogpu.types import InvalidParamsError, TaskExpiredError, TaskInfo

__all__ = ["check_not_expired", "ipfs_attempts", "total_budget"]


def ipfs_attempts(retries: object, backoff: object) -> tuple[int | None, float | None]:
    """Validate 0.2.3's ``ipfs_retries`` (attempts in all) and ``ipfs_backoff``. No I/O.

    Raises:
        InvalidParamsError: not an int >= 1 / a number >= 0.
    """
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or retries < 1
    ):
        raise InvalidParamsError("ipfs_retries must be an int >= 1", param="ipfs_retries")
    if backoff is not None and (
        isinstance(backoff, bool)
        or not isinstance(backoff, (int, float))
        or not math.isfinite(backoff)
        or backoff < 0
    ):
        raise InvalidParamsError("ipfs_backoff must be a number >= 0", param="ipfs_backoff")
    return retries, None if backoff is None else float(backoff)


def total_budget(timeout: object, total_timeout: object) -> Budget:
    """The call's budget from ``timeout`` (ours) or ``total_timeout`` (0.2.3). No I/O."""
    if timeout is not None and total_timeout is not None:
        raise InvalidParamsError(
            "pass timeout= or total_timeout= (the same budget), not both", param="total_timeout"
        )
    if total_timeout is not None:
        return Budget(positive_seconds("total_timeout", total_timeout))
    return Budget.of(timeout)


def check_not_expired(info: TaskInfo, chain_time: int, since: float) -> None:
    """0.2.3's second expiry check, right before the send: the pin may have eaten the time
    left. The clock is the later of the local one and the chain time read by the
    preflight plus the time elapsed since. No I/O.

    Raises:
        TaskExpiredError: ``expiryTime`` has passed (nothing is sent).
    """
    now = max(int(time.time()), chain_time + int(time.monotonic() - since))
    if info.expiryTime <= now:
        raise TaskExpiredError(
            message=f"expiryTime {info.expiryTime} passed while publishing (now {now}); "
            "nothing was sent",
            contract="Controller",
            function="publishTask",
            expiry=info.expiryTime,
        )
