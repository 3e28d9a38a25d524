"""Bounded HTTP for the whole SDK: one budget type, one retry policy, one guard.

Standard library only. The HTTP client (``http.client``, ``ssl``: :func:`request`,
:class:`Response`, :class:`Pool`) and the address guard (``ipaddress``) load on first
use of one of their names, so importing this package (and :mod:`ogpu.chain.rpc`) costs
a few milliseconds.

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

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports
from ogpu.net.budget import Budget, effective
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
from ogpu.net.policy import (
    RetryPolicy,
    Timeout,
    Transient,
    is_transient_reply,
    is_transient_status,
    parse_retry_after,
    run_with_retry,
)
from ogpu.net.urls import Origin, redact_url

if TYPE_CHECKING:
    from ogpu.net.client import DEFAULT_MAX_BYTES, REDIRECTS, Response, request
    from ogpu.net.guard import AddressPolicy, Resolver, is_public, parse_allow
    from ogpu.net.wire import Pool
else:  # loaded on first use: http.client, ssl and ipaddress
    __getattr__, __dir__ = lazy_imports(__name__, globals())

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
    "Resolver",
    "Response",
    "ResponseTooLarge",
    "RetryPolicy",
    "TimedOut",
    "Timeout",
    "Transient",
    "effective",
    "is_public",
    "is_transient_reply",
    "is_transient_status",
    "parse_allow",
    "parse_retry_after",
    "redact_url",
    "request",
    "run_with_retry",
]
