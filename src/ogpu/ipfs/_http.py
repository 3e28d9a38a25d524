"""HTTP plumbing shared by upload and fetch: pooled session, retry loop, capped reads."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.cookiejar import DefaultCookiePolicy
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from ogpu.ipfs.config import RetryPolicy, Timeout
from ogpu.types import OGPUError

logger = logging.getLogger("ogpu.ipfs")

T = TypeVar("T")

_session_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    from ogpu import __version__

    session.headers["User-Agent"] = f"ogpu-python/{__version__}"
    return session


def get_session() -> requests.Session:
    """The process-wide pooled session (recreated after ``fork``). No I/O.

    Safe to share between threads: the connection pool is thread-safe, cookies
    are never stored and each request passes its own headers and timeouts.
    """
    global _session, _session_pid
    pid = os.getpid()
    current = _session
    if current is not None and _session_pid == pid:
        return current
    with _session_lock:
        if _session is None or _session_pid != pid:
            _session = _new_session()
            _session_pid = pid
        return _session


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` and query string removed, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.netloc.rsplit("@", 1)[-1]
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


class Transient(Exception):
    """One attempt failed in a way worth retrying; ``final`` is raised if none remain."""

    def __init__(self, final: OGPUError, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after


@dataclass(frozen=True)
class Budget:
    """Deadline of one public call, shared by its attempts."""

    deadline: float
    timeout: Timeout

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def request_timeout(self) -> tuple[float, float]:
        left = max(self.remaining(), 0.001)
        return (min(self.timeout.connect, left), min(self.timeout.read, left))

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def run_with_retry(
    attempt: Callable[[Budget], T],
    *,
    policy: RetryPolicy,
    timeout: Timeout,
    what: str,
) -> T:
    """Call ``attempt`` until it returns, raises a non-Transient error, or the policy is spent.

    Sleeps between attempts (exponential backoff with jitter, ``Retry-After``
    honoured up to ``policy.backoff_max``); never exceeds ``policy.total_timeout``.
    Raises the last Transient's ``final`` error when attempts or time run out.
    """
    budget = Budget(deadline=time.monotonic() + policy.total_timeout, timeout=timeout)
    index = 0
    while True:
        try:
            return attempt(budget)
        except Transient as failure:
            index += 1
            if index >= policy.max_attempts:
                raise failure.final from failure.final.__cause__
            delay = policy.delay(index - 1, failure.retry_after)
            if budget.remaining() <= delay:
                raise failure.final from failure.final.__cause__
            logger.debug(
                "%s: attempt %d/%d failed (%s); retrying in %.2fs",
                what,
                index,
                policy.max_attempts,
                failure.final,
                delay,
            )
            time.sleep(delay)


def read_capped(
    response: requests.Response,
    *,
    max_bytes: int,
    budget: Budget,
    on_too_large: Callable[[str], NoReturn],
    on_timeout: Callable[[str], NoReturn],
) -> bytes:
    """Stream the (decoded) body, stopping as soon as it exceeds ``max_bytes``.

    Raises via ``on_too_large`` (declared or actual size over the cap) or
    ``on_timeout`` (call deadline passed). Raw requests errors propagate for the
    caller to classify.
    """
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        on_too_large(f"Content-Length {int(declared)} exceeds the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            on_too_large(f"body exceeds the {max_bytes}-byte limit")
        chunks.append(chunk)
        if budget.expired():
            on_timeout("total time budget exhausted while reading the body")
    return b"".join(chunks)


def is_transient_exception(exc: requests.RequestException) -> bool:
    """Connection errors, timeouts and truncated bodies; not TLS failures or bad URLs."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return False
    return isinstance(
        exc,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ),
    )


def is_transient_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599
