"""Bounded HTTP for the whole SDK: one budget type, one retry policy, one guard.

Standard library only (``http.client``, ``socket``, ``ssl``), so importing it costs a
few milliseconds and no third-party package.

- :class:`Budget`: the wall-clock deadline of one public call, shared by its steps;
  ``with budget.scope():`` caps every request made inside.
- :class:`Timeout` (connect, read silence, total) and :class:`RetryPolicy` (attempts,
  backoff, total), with :func:`run_with_retry` and :class:`Transient`.
- :func:`request`: one HTTP exchange that ends within its budget whatever the server
  does (hang, drip the status line, headers or body one byte per second, redirect
  loops, slow DNS), with a capped, decoded body.
- :class:`AddressPolicy`: the SSRF guard (public addresses only, plus an allow-list),
  applied after DNS resolution and on every redirect hop.
- :func:`redact_url`: URLs fit for messages.
- errors: :class:`NetError` and its subclasses (stdlib exceptions; the SDK's public
  functions translate them into typed ``OGPUError`` subclasses).
"""

from ogpu.net.budget import Budget, effective
from ogpu.net.client import DEFAULT_MAX_BYTES, REDIRECTS, Response, request
from ogpu.net.errors import (
    BudgetExhausted,
    ConnectFailed,
    DeadlineExceeded,
    ForbiddenAddress,
    NetError,
    ProtocolError,
    RedirectError,
    ResponseTooLarge,
    TimedOut,
)
from ogpu.net.guard import AddressPolicy, is_public, parse_allow
from ogpu.net.policy import (
    RetryPolicy,
    Timeout,
    Transient,
    is_transient_status,
    parse_retry_after,
    run_with_retry,
)
from ogpu.net.urls import Origin, redact_url
from ogpu.net.wire import Pool

__all__ = [
    "DEFAULT_MAX_BYTES",
    "REDIRECTS",
    "AddressPolicy",
    "Budget",
    "BudgetExhausted",
    "ConnectFailed",
    "DeadlineExceeded",
    "ForbiddenAddress",
    "NetError",
    "Origin",
    "Pool",
    "ProtocolError",
    "RedirectError",
    "Response",
    "ResponseTooLarge",
    "RetryPolicy",
    "TimedOut",
    "Timeout",
    "Transient",
    "effective",
    "is_public",
    "is_transient_status",
    "parse_allow",
    "parse_retry_after",
    "redact_url",
    "request",
    "run_with_retry",
]
