"""``ogpu.net`` requests for uploads and fetches, failures as the IPFS errors.

Connection errors, timeouts and bodies cut short are ``Transient`` (retried by the
caller's policy); a refused address, a body over the cap or a bad redirect is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from ogpu import net
from ogpu.ipfs.errors import ForbiddenAddressError
from ogpu.types import IPFSError

__all__ = ["call", "transient_if_busy"]


def _fail(exc: net.NetError, error: type[IPFSError], verb: str) -> NoReturn:
    kind: type[IPFSError] = (
        ForbiddenAddressError if isinstance(exc, net.ForbiddenAddress) else error
    )
    failure = kind(message=f"{verb} {exc.message}", url=exc.url)
    failure.__cause__ = exc
    if exc.transient:
        raise net.Transient(failure) from exc
    raise failure from exc


def call(
    method: str,
    url: str,
    *,
    error: type[IPFSError],
    budget: net.Budget,
    timeout: net.Timeout,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    policy: net.AddressPolicy | None = None,
    max_redirects: int = 0,
    max_bytes: int = net.DEFAULT_MAX_BYTES,
    pool: net.Pool | None = None,
) -> net.Response:
    """One bounded exchange; NetError becomes ``error`` (wrapped in Transient when a
    retry may help). Raises ``error``, ForbiddenAddressError or Transient."""
    try:
        return net.request(
            method,
            url,
            body=body,
            headers=headers,
            timeout=timeout,
            budget=budget,
            policy=policy,
            max_redirects=max_redirects,
            max_bytes=max_bytes,
            pool=pool,
        )
    except net.NetError as exc:
        _fail(exc, error, method)


def transient_if_busy(response: net.Response, failure: IPFSError) -> BaseException:
    """``failure``, wrapped in Transient for HTTP 429/5xx (``Retry-After`` kept)."""
    if net.is_transient_status(response.status):
        return net.Transient(failure, net.parse_retry_after(response.header("retry-after")))
    return failure
