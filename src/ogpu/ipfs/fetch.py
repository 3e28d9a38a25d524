"""``fetch_ipfs_json``: GET a JSON object from a gateway URL, safely bounded."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

import requests

from ogpu._jsonsafe import MAX_JSON_DEPTH, nesting_depth
from ogpu.ipfs._http import (
    Budget,
    Transient,
    get_session,
    is_transient_exception,
    is_transient_status,
    parse_retry_after,
    read_capped,
    redact_url,
    run_with_retry,
)
from ogpu.ipfs.config import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    RetryPolicy,
    Timeout,
    resolve_config,
    validate_base_url,
)
from ogpu.types import InvalidInputError, IPFSFetchError, IPFSGatewayError

logger = logging.getLogger("ogpu.ipfs")

_REDIRECTS = (301, 302, 303, 307, 308)
_IPFS_RE = re.compile(
    r"^ipfs://(?P<cid>[A-Za-z0-9]{8,128})(?P<path>/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$"
)


def resolve_ipfs_url(url: str, *, gateway: str | None = None) -> str:
    """The http(s) URL to GET for ``url``.

    http(s) URLs are returned unchanged; ``ipfs://<cid>[/path]`` becomes
    ``<gateway>/ipfs/<cid>[/path]`` with ``gateway`` defaulting to the configured
    one (``OGPU_IPFS_GATEWAY``, else the backend's). No network I/O.
    Raises InvalidInputError for any other scheme or a malformed URL.
    """
    if not isinstance(url, str):
        raise InvalidInputError(f"url must be a string, got {type(url).__name__}", param="url")
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidInputError(f"malformed URL: {exc}", param="url") from exc
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise InvalidInputError(f"URL has no host: {redact_url(text)}", param="url")
        return text
    if scheme == "ipfs":
        match = _IPFS_RE.match(text)
        if match is None:
            raise InvalidInputError("ipfs URL must look like ipfs://<cid>[/path]", param="url")
        base = (
            validate_base_url("gateway", gateway)
            if gateway is not None
            else resolve_config().gateway_url
        )
        return f"{base}/ipfs/{match['cid']}{match['path'] or ''}"
    shown = f"{scheme}:" if scheme else "no scheme"
    raise InvalidInputError(
        f"only http(s) and ipfs:// URLs can be fetched, got {shown}", param="url"
    )


def _fetch_error(message: str, url: str, cause: BaseException | None = None) -> NoReturn:
    raise IPFSFetchError(message=message, url=url) from cause


def fetch_ipfs_bytes(
    url: str,
    *,
    timeout: Timeout | float | tuple[float, float] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    gateway: str | None = None,
    retry: RetryPolicy | None = None,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> bytes:
    """GET the body behind ``url`` (see :func:`fetch_ipfs_json` for the rules).

    Cost: one HTTP GET per attempt and redirect hop; no RPC.
    Raises InvalidInputError, IPFSFetchError, IPFSGatewayError.
    """
    target = resolve_ipfs_url(url, gateway=gateway)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise InvalidInputError(
            f"max_bytes must be a positive int, got {max_bytes!r}", param="max_bytes"
        )
    if isinstance(max_redirects, bool) or not isinstance(max_redirects, int) or max_redirects < 0:
        raise InvalidInputError(
            f"max_redirects must be an int >= 0, got {max_redirects!r}", param="max_redirects"
        )
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InvalidInputError("retry must be a RetryPolicy", param="retry")
    chosen_timeout = Timeout.coerce(timeout)
    start_shown = redact_url(target)

    def attempt(budget: Budget) -> bytes:
        current = target
        for hop in range(max_redirects + 1):
            shown = redact_url(current)
            try:
                response = get_session().get(
                    current,
                    headers={"Accept": "application/json, */*;q=0.5"},
                    timeout=budget.request_timeout(),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException as exc:
                error = IPFSFetchError(message=f"GET {shown} failed: {exc}", url=shown)
                error.__cause__ = exc
                if is_transient_exception(exc):
                    raise Transient(error) from exc
                raise error from exc
            with response:
                status = response.status_code
                if status in _REDIRECTS and "Location" in response.headers:
                    if hop == max_redirects:
                        _fetch_error(
                            f"GET {start_shown}: more than {max_redirects} redirects", start_shown
                        )
                    current = _redirect_target(current, response.headers["Location"], shown)
                    continue
                if is_transient_status(status):
                    busy = IPFSGatewayError(
                        message=f"GET {shown}: gateway answered HTTP {status}",
                        status_code=status,
                        url=shown,
                    )
                    raise Transient(busy, parse_retry_after(response.headers.get("Retry-After")))
                if status != 200:
                    raise IPFSGatewayError(
                        message=f"GET {shown}: gateway answered HTTP {status}",
                        status_code=status,
                        url=shown,
                    )
                return _read_body(response, shown=shown, max_bytes=max_bytes, budget=budget)
        raise AssertionError("unreachable")  # pragma: no cover

    policy = retry or RetryPolicy()
    logger.debug("fetching %s ...", start_shown)
    started = time.monotonic()
    body = run_with_retry(attempt, policy=policy, timeout=chosen_timeout, what=f"GET {start_shown}")
    logger.debug(
        "fetched %s in %.3fs (%d bytes)", start_shown, time.monotonic() - started, len(body)
    )
    return body


def _read_body(response: requests.Response, *, shown: str, max_bytes: int, budget: Budget) -> bytes:
    def fail(why: str) -> NoReturn:
        _fetch_error(f"GET {shown}: {why}", shown)

    try:
        return read_capped(
            response, max_bytes=max_bytes, budget=budget, on_too_large=fail, on_timeout=fail
        )
    except requests.RequestException as exc:
        error = IPFSFetchError(message=f"GET {shown}: reading the body failed: {exc}", url=shown)
        error.__cause__ = exc
        if is_transient_exception(exc):
            raise Transient(error) from exc
        raise error from exc


def _redirect_target(current: str, location: str, shown: str) -> str:
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
    except ValueError as exc:
        _fetch_error(f"GET {shown}: malformed redirect: {exc}", shown, exc)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        scheme = parts.scheme or "no scheme"
        _fetch_error(f"GET {shown}: refused redirect to a non-http(s) URL ({scheme})", shown)
    return target


def fetch_ipfs_json(
    url: str,
    timeout: Timeout | float | tuple[float, float] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    gateway: str | None = None,
    retry: RetryPolicy | None = None,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> dict[str, Any]:
    """GET ``url`` and return the JSON object it serves.

    Accepts http(s) URLs and ``ipfs://<cid>[/path]`` (resolved through
    ``gateway`` or the configured gateway). Follows at most ``max_redirects``
    http(s) redirects; the body is capped at ``max_bytes`` while streaming.
    Connection errors, timeouts, 5xx and 429 are retried per ``retry``.

    Cost: one HTTP GET per attempt and redirect hop; no RPC.
    Raises InvalidInputError (bad URL or arguments, before any I/O),
    IPFSGatewayError (non-200 answer; ``status_code`` set) and IPFSFetchError
    (network failure, too large, bad redirect, invalid JSON or not an object).
    """
    body = fetch_ipfs_bytes(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        gateway=gateway,
        retry=retry,
        max_redirects=max_redirects,
    )
    shown = redact_url(url) if isinstance(url, str) else "<url>"
    if nesting_depth(body) > MAX_JSON_DEPTH:
        raise IPFSFetchError(
            message=f"{shown} did not serve valid JSON: nested deeper than {MAX_JSON_DEPTH}",
            url=shown,
        )
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IPFSFetchError(message=f"{shown} did not serve valid JSON: {exc}", url=shown) from exc
    if not isinstance(value, dict):
        raise IPFSFetchError(
            message=f"{shown} served JSON {type(value).__name__}, expected an object", url=shown
        )
    return value
