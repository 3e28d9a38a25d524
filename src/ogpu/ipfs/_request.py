"""``ogpu.net`` requests for uploads and fetches, failures as the IPFS errors.

Connection errors, timeouts and bodies cut short are ``Transient`` (retried by the
caller's policy); a refused address, a body over the cap or a bad redirect is final.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

from ogpu import net
from ogpu.ipfs.errors import ForbiddenAddressError
from ogpu.types import IPFSError

__all__ = ["exchange"]

T = TypeVar("T")


def _fail(exc: net.NetError, error: type[IPFSError], verb: str) -> NoReturn:
    kind: type[IPFSError] = (
        ForbiddenAddressError if isinstance(exc, net.ForbiddenAddress) else error
    )
    failure = kind(message=f"{verb} {exc.message}", url=exc.url)
    failure.__cause__ = exc
    if exc.transient:
        raise net.Transient(failure) from exc
    raise failure from exc


def exchange(
    verb: str,
    send: Callable[[net.Budget], net.Response],
    read: Callable[[net.Response], T],
    *,
    error: type[IPFSError],
    retry: net.RetryPolicy,
    budget: net.Budget,
    what: str,
) -> T:
    """``read(send(budget left))``, retried per ``retry`` within ``budget``.

    A NetError of ``send`` becomes ``error`` (ForbiddenAddressError for a refused
    address); an IPFSError that ``read`` raises for HTTP 429/5xx is retried
    (``Retry-After`` kept). Cost: what ``send`` costs, per attempt. Raises ``error``,
    ForbiddenAddressError or what ``read`` raises.
    """

    def attempt(left: net.Budget) -> T:
        try:
            response = send(left)
        except net.NetError as exc:
            _fail(exc, error, verb)
        try:
            return read(response)
        except IPFSError as failure:
            if not net.is_transient_status(response.status):
                raise
            delay = net.parse_retry_after(response.header("retry-after"))
            raise net.Transient(failure, delay) from None

    return net.run_with_retry(attempt, policy=retry, budget=budget, what=what)
