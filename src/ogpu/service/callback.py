"""Delivery of task results to ``{CALLBACK_URL}/{task_address}``.

Each attempt is one blocking ``requests`` POST on a daemon worker thread; the
retry loop itself runs on the event loop so a backoff wait holds no thread.
Network errors and 5xx answers are retried with exponential backoff, bounded
by an attempt count and a total time budget; any other answer is final.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from .config import ServiceConfig, redact_url
from .logger import logger
from .pool import DaemonThreadPool

__all__ = ["STATUS_HEADER", "CallbackClient", "DeliveryResult", "RetryPolicy"]

STATUS_HEADER = "X-OGPU-Task-Status"
_URL_IN_MESSAGE = re.compile(r"url: \S+")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the callback retry loop (seconds are wall-clock)."""

    attempts: int = 5
    max_seconds: float = 60.0
    backoff: float = 0.5
    backoff_max: float = 10.0
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: ServiceConfig) -> RetryPolicy:
        return cls(
            attempts=config.callback_attempts,
            max_seconds=config.callback_max_seconds,
            backoff=config.callback_backoff,
            backoff_max=config.callback_backoff_max,
            timeout=config.callback_timeout,
        )

    def delay(self, attempt: int, jitter: float = 0.0) -> float:
        """Wait after failed attempt number ``attempt`` (1-based); ``jitter`` in [0, 1)."""
        base = min(self.backoff_max, self.backoff * 2.0 ** (attempt - 1))
        return float(base * (1.0 + 0.1 * jitter))


@dataclass(frozen=True)
class DeliveryResult:
    """How a callback delivery ended."""

    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None


class _RetryableError(Exception):
    pass


class CallbackClient:
    """POSTs result bodies to ``{base_url}/{task_address}`` with bounded retries."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        pool: DaemonThreadPool,
        *,
        on_attempt: Callable[[int, str | None], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._policy = policy
        self._pool = pool
        self._on_attempt = on_attempt
        self._jitter = jitter
        self._local = threading.local()

    def url_for(self, task_address: str) -> str:
        """The callback URL of ``task_address`` (percent-encoded). No RPC."""
        return f"{self._base_url}/{quote(task_address, safe='')}"

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
        return session

    def _post_once(self, url: str, payload: bytes, status: str, timeout: float) -> int:
        try:
            response = self._session().post(
                url,
                data=payload,
                headers={"Content-Type": "application/json", STATUS_HEADER: status},
                timeout=timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _RetryableError(f"{type(exc).__name__}: {_short(exc)}") from None
        response.close()
        return response.status_code

    async def deliver(
        self, task_address: str, body: Mapping[str, Any], status: str
    ) -> DeliveryResult:
        """POST ``body`` as JSON, retrying network errors and 5xx. One HTTP request per attempt.

        Never raises for delivery problems: the outcome is in the returned
        :class:`DeliveryResult`. Raises ``TypeError`` if ``body`` is not JSON-serialisable.
        """
        payload = json.dumps(body).encode()
        url = self.url_for(task_address)
        shown = redact_url(url)
        policy = self._policy
        deadline = time.monotonic() + policy.max_seconds
        attempt = 0
        error: str | None = None
        status_code: int | None = None
        while attempt < policy.attempts:
            remaining = deadline - time.monotonic()
            if attempt > 0 and remaining <= 0:
                break
            attempt += 1
            timeout = max(0.05, min(policy.timeout, remaining)) if remaining > 0 else policy.timeout
            retry = False
            try:
                status_code = await asyncio.wrap_future(
                    self._pool.submit(self._post_once, url, payload, status, timeout)
                )
            except _RetryableError as exc:
                error, status_code, retry = str(exc), None, True
            except requests.RequestException as exc:
                error, status_code = f"{type(exc).__name__}: {_short(exc)}", None
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
            if attempt >= policy.attempts:
                break
            wait = policy.delay(attempt, self._jitter())
            if time.monotonic() + wait >= deadline:
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


def _short(exc: BaseException, limit: int = 300) -> str:
    # requests puts the request path (and query) in its messages; keep them out of logs.
    text = _URL_IN_MESSAGE.sub("url: <callback path>", str(exc))
    return text if len(text) <= limit else text[: limit - 3] + "..."
