"""Delivery of task results to ``{CALLBACK_URL}/{task_address}``.

Each attempt is one :func:`ogpu.net.request` POST on a daemon worker thread, the
event loop awaiting it; the retry loop runs on the event loop, so a backoff pause
holds no thread. A delivery has one wall-clock budget (``callback_max_seconds``)
and each attempt at most ``callback_timeout`` of it, counted over the whole
exchange: a receiver that hangs, or drips its answer one byte at a time, cannot hold
a worker (or the task's in-flight slot) past the deadline. Network errors, timeouts
and 5xx answers are retried with exponential backoff within the budget; any other
answer is final. Task ids that are not safe path segments never reach a URL.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .. import net
from .._taskid import is_task_id
from ..net import RetryPolicy
from .config import ServiceConfig
from .logger import logger
from .pool import DaemonThreadPool

__all__ = ["STATUS_HEADER", "CallbackClient", "DeliveryResult", "RetryPolicy", "policy_of"]

STATUS_HEADER = "X-OGPU-Task-Status"
_CONNECT_TIMEOUT = 5.0
_MAX_ANSWER = 64 * 1024


def policy_of(config: ServiceConfig) -> tuple[RetryPolicy, net.Timeout]:
    """The callback's retry policy and per-attempt timeout from the service settings.

    ``callback_max_seconds`` of 0 means one attempt's worth of time.
    """
    attempt = config.callback_timeout
    total = config.callback_max_seconds or attempt
    policy = RetryPolicy(
        max_attempts=config.callback_attempts,
        backoff_initial=config.callback_backoff or 0.001,
        backoff_max=config.callback_backoff_max or 0.001,
        total_timeout=total,
    )
    return policy, net.Timeout(connect=min(_CONNECT_TIMEOUT, attempt), read=attempt, total=attempt)


@dataclass(frozen=True)
class DeliveryResult:
    """How a callback delivery ended."""

    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None


class CallbackClient:
    """POSTs result bodies to ``{base_url}/{task_address}`` with bounded retries."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        pool: DaemonThreadPool,
        *,
        timeout: net.Timeout | None = None,
        on_attempt: Callable[[int, str | None], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._policy = policy
        self._timeout = timeout or net.Timeout(connect=_CONNECT_TIMEOUT, read=10.0, total=10.0)
        self._pool = pool
        self._on_attempt = on_attempt
        self._jitter = jitter
        self._connections = net.Pool(max_idle=pool.max_workers)

    def url_for(self, task_address: str) -> str:
        """The callback URL of ``task_address``. No RPC.

        Raises:
            ValueError: ``task_address`` is not a safe task id (see ``ogpu._taskid``).
        """
        if not is_task_id(task_address):
            raise ValueError(f"not a valid task id: {task_address[:80]!r}")
        return f"{self._base_url}/{quote(task_address, safe='')}"

    def _post_once(self, url: str, payload: bytes, status: str, budget: net.Budget) -> int:
        headers = {"Content-Type": "application/json", STATUS_HEADER: status}
        response = net.request(
            "POST",
            url,
            body=payload,
            headers=headers,
            timeout=self._timeout,
            budget=budget,
            pool=self._connections,
            max_bytes=_MAX_ANSWER,
        )
        return response.status

    async def _attempt(self, url: str, payload: bytes, status: str, budget: net.Budget) -> int:
        job = self._pool.submit(self._post_once, url, payload, status, budget)
        # The request ends by its budget; the wait is bounded too, should a thread stall.
        return await asyncio.wait_for(asyncio.wrap_future(job), budget.remaining() + 1.0)

    async def deliver(
        self, task_address: str, body: Mapping[str, Any], status: str
    ) -> DeliveryResult:
        """POST ``body`` as JSON, retrying network errors, timeouts and 5xx within the
        policy's total budget. One HTTP request per attempt.

        Never raises for delivery problems (an invalid task id included): the outcome
        is in the returned :class:`DeliveryResult`. Raises ``TypeError`` if ``body`` is
        not JSON-serialisable.
        """
        payload = json.dumps(body).encode()
        try:
            url = self.url_for(task_address)
        except ValueError as exc:
            logger.error("[%.80s] callback not sent: %s", task_address, exc)
            return DeliveryResult(False, 0, None, str(exc))
        shown = net.redact_url(url)
        policy = self._policy
        total = policy.budget()
        attempt = 0
        error: str | None = None
        status_code: int | None = None
        while attempt < policy.max_attempts and (attempt == 0 or not total.expired()):
            attempt += 1
            retry = False
            try:
                per_attempt = total.within(self._timeout.total)
                status_code = await self._attempt(url, payload, status, per_attempt)
            except (net.NetError, asyncio.TimeoutError) as exc:
                error, status_code = _describe(exc), None
                retry = not isinstance(exc, net.NetError) or exc.transient
            else:
                if 200 <= status_code < 300:
                    self._notify(attempt, None)
                    return DeliveryResult(True, attempt, status_code, None)
                error = f"HTTP {status_code}"
                retry = status_code >= 500
            self._notify(attempt, error)
            if not retry:
                logger.error(
                    "[%s] callback to %s refused (%s); not retrying", task_address, shown, error
                )
                return DeliveryResult(False, attempt, status_code, error)
            if attempt >= policy.max_attempts:
                break
            wait = policy.delay(attempt - 1, jitter=self._jitter)
            if total.remaining() <= wait:
                break
            logger.warning(
                "[%s] callback attempt %d to %s failed (%s); retrying in %.2f s",
                task_address,
                attempt,
                shown,
                error,
                wait,
            )
            await asyncio.sleep(wait)
        logger.error(
            "[%s] callback to %s not delivered after %d attempt(s): %s",
            task_address,
            shown,
            attempt,
            error,
        )
        return DeliveryResult(False, attempt, status_code, error)

    def _notify(self, attempt: int, error: str | None) -> None:
        if self._on_attempt is not None:
            self._on_attempt(attempt, error)


def _describe(exc: BaseException) -> str:
    """``Kind: cause`` without the URL (it carries the task id and query)."""
    if isinstance(exc, net.NetError):
        cause = exc.message
        if exc.url and cause.startswith(exc.url):
            cause = cause[len(exc.url) :].lstrip(": ")
        return f"{type(exc).__name__}: {cause}"
    return "TimedOut: the delivery attempt did not end in time"
