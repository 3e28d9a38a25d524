"""``fetch_ipfs_json``: GET a JSON object from a gateway URL, safely bounded.

Every fetch runs under one wall-clock budget (``timeout``: seconds for the whole call,
or a :class:`~ogpu.net.Timeout`; never more than ``retry.total_timeout``) that
attempts, redirects, slow DNS and a server dripping its answer all count against.
Non-public addresses are refused after DNS and on every redirect, except the
allow-list (:func:`ogpu.ipfs.config.fetch_policy`). Content is checked against the
CID its URL names (:mod:`ogpu.ipfs.verify`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

from ogpu import net
from ogpu._jsonsafe import MAX_JSON_DEPTH, nesting_depth
from ogpu.ipfs import _request
from ogpu.ipfs.config import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    RetryPolicy,
    Timeout,
    fetch_policy,
    resolve_config,
    validate_base_url,
)
from ogpu.ipfs.verify import RAW_BLOCK_TYPE, named_cid, verify
from ogpu.types import InvalidInputError, IPFSFetchError, IPFSGatewayError

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11

logger = logging.getLogger("ogpu.ipfs")

_IPFS_RE = re.compile(
    r"^ipfs://(?P<cid>[A-Za-z0-9]{8,128})(?P<path>/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$"
)
_ACCEPT = {"Accept": "application/json, */*;q=0.5", "Accept-Encoding": "gzip, deflate"}


class FetchOptions(TypedDict, total=False):
    """The keyword options of :func:`fetch_ipfs_bytes` (defaults there), which
    :func:`fetch_ipfs_json` passes on."""

    max_bytes: int
    gateway: str | None
    retry: RetryPolicy | None
    max_redirects: int
    allow: Iterable[str] | str
    verify_cid: bool
    budget: net.Budget | None


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
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise InvalidInputError(f"malformed URL: {exc}", param="url") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise InvalidInputError(f"URL has no host: {net.redact_url(text)}", param="url")
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


def _check_arguments(max_bytes: object, max_redirects: object, retry: object) -> None:
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


def _allow_list(allow: Iterable[str] | str) -> list[str]:
    entries = [allow] if isinstance(allow, str) else list(allow)
    if not all(isinstance(entry, str) for entry in entries):
        raise InvalidInputError("allow must be strings (origins or IP networks)", param="allow")
    return entries


def fetch_ipfs_bytes(
    url: str,
    timeout: Timeout | float | tuple[float, float] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    gateway: str | None = None,
    retry: RetryPolicy | None = None,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    allow: Iterable[str] | str = (),
    verify_cid: bool = True,
    budget: net.Budget | None = None,
) -> bytes:
    """GET the body behind ``url`` (see :func:`fetch_ipfs_json` for the rules).

    Cost: one HTTP GET per attempt and redirect hop (plus one per block when a
    dag-pb DAG must be walked to verify it); no RPC.
    Raises InvalidInputError, IPFSFetchError (ForbiddenAddressError,
    ContentMismatchError), IPFSGatewayError.
    """
    target = resolve_ipfs_url(url, gateway=gateway)
    _check_arguments(max_bytes, max_redirects, retry)
    chosen = Timeout.coerce(timeout)
    policy = retry or RetryPolicy()
    guard = fetch_policy(_allow_list(allow))
    bound = net.effective(budget or policy.budget(chosen), None)
    shown = net.redact_url(target)

    def read(response: net.Response) -> bytes:
        if response.status == 200:
            return response.body
        hop = net.redact_url(response.url)
        if response.status in net.REDIRECTS:
            why = (
                f"more than {max_redirects} redirects"
                if response.header("location")
                else (f"HTTP {response.status} redirect without a Location")
            )
            raise IPFSFetchError(message=f"GET {hop}: {why}", url=hop)
        raise IPFSGatewayError(
            message=f"GET {hop}: gateway answered HTTP {response.status}",
            status_code=response.status,
            url=hop,
        )

    fetch = partial(net.request, "GET", timeout=chosen, policy=guard, max_redirects=max_redirects)

    def get(address: str, accept: dict[str, str], limit: int) -> bytes:
        def send(left: net.Budget) -> net.Response:
            return fetch(address, headers=accept, budget=left, max_bytes=limit)

        what = f"GET {shown}"
        return _request.exchange(
            "GET", send, read, error=IPFSFetchError, retry=policy, budget=bound, what=what
        )

    logger.debug("fetching %s ...", shown)
    started = time.monotonic()
    body = get(target, _ACCEPT, max_bytes)
    logger.debug("fetched %s in %.3fs (%d bytes)", shown, time.monotonic() - started, len(body))
    named = named_cid(target) if verify_cid else None
    if named is not None:
        raw = {"Accept": RAW_BLOCK_TYPE}
        verify(body, named, lambda block: get(block, raw, max_bytes), shown=shown)
    return body


def fetch_ipfs_json(
    url: str,
    timeout: Timeout | float | tuple[float, float] | None = None,
    **options: Unpack[FetchOptions],
) -> dict[str, Any]:
    """GET ``url`` and return the JSON object it serves.

    Accepts http(s) URLs and ``ipfs://<cid>[/path]`` (resolved through ``gateway`` or
    the configured gateway). The keyword ``options`` are :class:`FetchOptions`'s (the
    same as :func:`fetch_ipfs_bytes`'s). ``timeout``: seconds for the whole call (or a
    :class:`Timeout`); the call returns or raises within it whatever the server does
    (hang, drip, slow DNS, redirect chains), and within ``retry.total_timeout`` (120 s
    by default) in any case; ``budget`` (an :class:`ogpu.net.Budget`) caps it further.
    Follows at most ``max_redirects`` http(s) redirects; the body is capped at
    ``max_bytes`` while streaming. Connection errors, timeouts, 5xx and 429 are
    retried per ``retry``. Hosts that are (or resolve to) loopback, private,
    link-local, unspecified, multicast or other non-public addresses are refused,
    on every hop, unless ``allow`` (origins like ``http://10.0.0.5:8080`` or networks
    like ``10.0.0.0/8``), ``OGPU_FETCH_ALLOW`` or the configured gateway admit them.
    When the URL names a CID the content must match it (``verify_cid=False`` skips).

    Cost: one HTTP GET per attempt and redirect hop; no RPC.
    Raises InvalidInputError (bad URL or arguments, before any I/O),
    IPFSGatewayError (non-200 answer; ``status_code`` set), ForbiddenAddressError
    (non-public address), ContentMismatchError (content does not match its CID) and
    IPFSFetchError (network failure, timeout, too large, bad redirect, invalid JSON
    or not an object).
    """
    body = fetch_ipfs_bytes(url, timeout, **options)
    shown = net.redact_url(url) if isinstance(url, str) else "<url>"
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
