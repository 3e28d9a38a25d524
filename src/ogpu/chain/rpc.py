"""Raw JSON-RPC requests with normalized failures.

``request(target, method, params)`` and ``batch(target, calls)`` take a ``Web3``, an
:class:`~ogpu.chain.transport.HttpTransport` or an http(s) URL. HTTP endpoints (a
URL, a transport, or a ``Web3`` whose provider is web3's ``HTTPProvider``) go through
the SDK's own transport (:mod:`ogpu.chain.transport`: keep-alive, batches, a deadline
per call); any other provider (eth-tester in process...) is called through its own
request function, without the ``Web3`` instance's middleware (no hidden requests).

Every failure becomes one of three exceptions:

- ``ExecutionReverted``: the EVM reverted; ``data`` holds the revert payload.
- ``NodeError``: the node answered with a JSON-RPC error.
- ``TransportError``: no usable answer (connection refused or dropped, timeout,
  malformed body, a result of the wrong shape: ``MalformedAnswer``). For a
  broadcast, the outcome is unknown.

They are internal: the protocol layer turns them into ``OGPUError`` subclasses.
``budget=`` (a :class:`ogpu.net.Budget`) bounds a call by wall clock; an ambient
``Budget.scope()`` does too. This module imports no web3, requests or eth-abi; a
caller holding a ``Web3`` has loaded web3 already.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from ogpu.chain._answers import check_result, to_bytes, to_int
from ogpu.chain._errors import (
    ExecutionReverted,
    MalformedAnswer,
    NodeError,
    TransportError,
    encode_error_string,
    revert_from_message,
    unwrap,
)

if TYPE_CHECKING:
    from web3 import Web3
    from web3.datastructures import NamedElementOnion
    from web3.middleware.base import Middleware

    from ogpu import net
    from ogpu.chain.transport import HttpTransport

    #: What the read helpers call: a ``Web3`` (its provider), a transport or a URL.
    Endpoint: TypeAlias = Web3 | HttpTransport | str

__all__ = [
    "ExecutionReverted",
    "MalformedAnswer",
    "NodeError",
    "TransportError",
    "batch",
    "check_result",
    "encode_error_string",
    "request",
    "to_bytes",
    "to_int",
    "transport_of",
]

# Providers other than HTTP keep their own middleware (eth-tester's field formatting)
# but not the Web3 instance's: its validation middleware adds an eth_chainId round trip.
_no_middleware: NamedElementOnion[str, Middleware] | None = None


def _empty_middleware() -> NamedElementOnion[str, Middleware]:
    global _no_middleware
    if _no_middleware is None:
        from web3.datastructures import NamedElementOnion

        _no_middleware = NamedElementOnion([])
    return _no_middleware


def _seconds(value: object, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, tuple) and value and all(isinstance(v, (int, float)) for v in value):
        return float(sum(value))
    return default


def transport_of(target: Web3 | HttpTransport | str) -> HttpTransport | None:
    """The HTTP transport ``target`` stands for, or None for an in-process provider. No I/O.

    A ``Web3`` over web3's ``HTTPProvider`` maps to the shared transport of its URL,
    with the provider's ``timeout`` and extra ``headers`` (``request_kwargs``). The
    transport module (and ``http.client``) loads here, on the first call.
    """
    from ogpu.chain.transport import DEFAULT_TIMEOUT, HttpTransport, transport_for

    if isinstance(target, HttpTransport):
        return target
    if isinstance(target, str):
        return transport_for(target)
    from web3 import HTTPProvider  # loaded already: the caller holds a Web3

    provider = target.provider
    if not isinstance(provider, HTTPProvider):
        return None
    kwargs = dict(provider.get_request_kwargs())
    headers = kwargs.get("headers")
    return transport_for(
        str(provider.endpoint_uri),
        timeout=_seconds(kwargs.get("timeout"), DEFAULT_TIMEOUT),
        headers=dict(headers) if isinstance(headers, dict) else None,
    )


def _from_exception(method: str, exc: Exception) -> Exception:
    name = type(exc).__name__
    text = str(exc)
    if name == "TransactionFailed":
        return revert_from_message(text)
    if isinstance(exc, json.JSONDecodeError) or (
        isinstance(exc, (ValueError, TypeError)) and "JSON" in text
    ):
        return TransportError(method, f"malformed answer: {text}")
    return NodeError(method, None, f"{name}: {text}")


def _provider_request(w3: Web3, method: str, params: list[Any]) -> Any:
    from web3.types import RPCEndpoint

    try:
        answer = w3.provider.request_func(w3, _empty_middleware())(RPCEndpoint(method), params)
    except Exception as exc:
        raise _from_exception(method, exc) from None
    return unwrap(method, answer)


def request(
    target: Web3 | HttpTransport | str,
    method: str,
    params: list[Any],
    *,
    budget: net.Budget | None = None,
    attempts: int | None = None,
) -> Any:
    """Send one JSON-RPC request and return its ``result`` (shape-checked). Over HTTP a
    read is retried by the transport's one loop (``attempts`` tries if given, else
    ``transport.READS``); an in-process provider is asked once.

    Raises:
        ExecutionReverted: the call reverted.
        NodeError: the node returned an error object.
        TransportError: no usable answer (``MalformedAnswer``: the wrong shape).
    """
    transport = transport_of(target)
    if transport is not None:
        result = transport.request(method, params, budget=budget, attempts=attempts)
    else:
        result = _provider_request(target, method, params)  # type: ignore[arg-type]
    return check_result(method, result)


def _checked(method: str, item: Any) -> Any:
    if isinstance(item, Exception):
        return item
    try:
        return check_result(method, item)
    except MalformedAnswer as exc:
        return exc


def batch(
    target: Web3 | HttpTransport | str,
    calls: Sequence[tuple[str, list[Any]]],
    *,
    budget: net.Budget | None = None,
    attempts: int | None = None,
) -> list[Any]:
    """Send several requests as one JSON-RPC batch (one HTTP request) over HTTP, else
    one by one. Each item of the returned list is the call's result or the exception
    ``request`` would have raised for it.

    Raises:
        TransportError / NodeError: the batch as a whole got no usable answer.
    """
    transport = transport_of(target)
    if transport is None or len(calls) < 2:
        out: list[Any] = []
        for method, params in calls:
            try:
                out.append(request(target, method, params, budget=budget, attempts=attempts))
            except (ExecutionReverted, NodeError, TransportError) as exc:
                out.append(exc)
        return out
    answers = transport.batch(calls, budget=budget, attempts=attempts)
    return [_checked(method, item) for (method, _), item in zip(calls, answers, strict=True)]
