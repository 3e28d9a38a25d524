"""Failures of :mod:`ogpu.net`. Stdlib only; callers translate them into the SDK's
typed errors (``IPFSFetchError``, the JSON-RPC ``TransportError``...).

Every message is one line: what was tried (a redacted URL) and the cause. The
underlying exception, when there is one, is the ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "BudgetExhausted",
    "ConnectFailed",
    "DeadlineExceeded",
    "ForbiddenAddress",
    "NetError",
    "ProtocolError",
    "RedirectError",
    "ResponseTooLarge",
    "TimedOut",
]


class NetError(Exception):
    """An HTTP exchange failed. ``url`` is redacted; ``transient`` says a retry may help."""

    transient = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url


class ConnectFailed(NetError):
    """No connection: DNS failure, refused, unreachable, reset before an answer."""

    transient = True


class TimedOut(NetError):
    """No progress in time: a connect or a silence longer than the per-attempt timeout."""

    transient = True


class DeadlineExceeded(TimedOut):
    """The call's wall-clock budget ran out (resolving, connecting, sending or reading)."""


class ProtocolError(NetError):
    """The server broke HTTP: malformed status or headers, a body cut short."""

    transient = True


class ResponseTooLarge(NetError):
    """The (decoded) body is larger than the caller's limit."""


class ForbiddenAddress(NetError):
    """The URL's host is (or resolves to) an address the policy refuses."""


class RedirectError(NetError):
    """Too many redirects, or a redirect to a refused scheme."""


class BudgetExhausted(Exception):
    """A :class:`~ogpu.net.Budget` had no time left before a step began."""
