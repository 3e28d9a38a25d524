"""JSON-RPC 2.0 over HTTP without web3: keep-alive, thread-safe, batches, a deadline per call.

``HttpTransport(url)`` keeps a small pool of persistent connections (one per request
in flight, reused afterwards), so threads can share one transport. Every call ends
within its budget (``timeout=`` seconds, a :class:`~ogpu.net.Budget` passed as
``budget=``, capped by an ambient ``Budget.scope()``), whatever the node does.
Reads are retried on transient failures (connection errors, timeouts, HTTP 429/5xx)
inside that budget; sends (``eth_sendRawTransaction``, ``eth_sendTransaction``) are
never retried here: their outcome is for the caller to settle by hash.

Standard library and :mod:`ogpu.net` only: importing this module costs no web3,
requests or eth-abi. Failures are the three exceptions of :mod:`ogpu.chain.rpc`
(defined here): ``ExecutionReverted``, ``NodeError``, ``TransportError``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ogpu import net
from ogpu.chain._errors import ExecutionReverted, NodeError, TransportError, unwrap

__all__ = ["DEFAULT_TIMEOUT", "SEND_METHODS", "HttpTransport", "transport_for"]

#: Seconds one call may take, retries included, unless the caller says otherwise.
DEFAULT_TIMEOUT = 30.0
#: Never resent by the transport: a lost answer leaves the outcome unknown.
SEND_METHODS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
_CONNECT_TIMEOUT = 5.0
_MAX_ANSWER = 256 * 1024 * 1024
_READS = net.RetryPolicy(max_attempts=3, backoff_initial=0.05, backoff_max=0.5)
_SENDS = net.RetryPolicy(max_attempts=1)


class HttpTransport:
    """A JSON-RPC endpoint over HTTP(S). Thread-safe; no I/O until the first call."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        max_idle: int = 16,
    ) -> None:
        """Raises ValueError for a URL that is not absolute http(s)."""
        net.Origin.of(url)
        self.url = url
        self.timeout = float(timeout)
        self.shown = net.redact_url(url, keep_path=False)
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        }
        self._pool = net.Pool(max_idle)
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HttpTransport({self.shown!r})"

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    def request(
        self,
        method: str,
        params: Sequence[Any] = (),
        *,
        budget: net.Budget | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request; return its ``result``. One HTTP POST per attempt.

        Raises:
            ExecutionReverted: an ``eth_call``/``eth_estimateGas`` reverted.
            NodeError: the node answered with an error object.
            TransportError: no usable answer in time (the message says what was tried
                and why: refused, DNS, timeout, HTTP status, malformed body).
        """
        ident = self._next_id()
        payload = {"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)}
        answer = self._post(payload, method, budget, timeout, method not in SEND_METHODS)
        if isinstance(answer, dict) and "id" in answer and not _same_id(answer["id"], ident):
            raise TransportError(method, "malformed answer: it answers another request id")
        return unwrap(method, answer)

    def batch(
        self,
        calls: Sequence[tuple[str, Sequence[Any]]],
        *,
        budget: net.Budget | None = None,
        timeout: float | None = None,
    ) -> list[Any]:
        """Send ``calls`` as one JSON-RPC batch (one HTTP POST per attempt). Each item of
        the answer is the call's result or the exception :meth:`request` would raise.

        Raises:
            TransportError: no usable answer. NodeError: the node refused the batch.
        """
        ids = [self._next_id() for _ in calls]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
            for i, (m, p) in zip(ids, calls, strict=True)
        ]
        reads = not any(m in SEND_METHODS for m, _ in calls)
        answer = self._post(payload, "batch", budget, timeout, reads)
        if not isinstance(answer, list):
            error = answer.get("error") if isinstance(answer, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            if message is None:
                raise TransportError("batch", "malformed answer: not a list")
            raise NodeError("batch", None, str(message))
        by_id = {str(item.get("id")): item for item in answer if isinstance(item, dict)}
        results: list[Any] = []
        for ident, (method, _) in zip(ids, calls, strict=True):
            item = by_id.get(str(ident))
            try:
                if item is None:
                    raise TransportError(method, "malformed answer: missing from the batch")
                results.append(unwrap(method, item))
            except (ExecutionReverted, NodeError, TransportError) as exc:
                results.append(exc)
        return results

    def close(self) -> None:
        """Close the idle connections (the transport stays usable)."""
        self._pool.clear()

    def _post(
        self,
        payload: object,
        what: str,
        budget: net.Budget | None,
        timeout: float | None,
        retry: bool,
    ) -> Any:
        seconds = self.timeout if timeout is None else float(timeout)
        bound = net.effective(budget, seconds)
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        limits = net.Timeout(connect=min(_CONNECT_TIMEOUT, seconds), read=seconds)

        def attempt(left: net.Budget) -> Any:
            try:
                response = net.request(
                    "POST",
                    self.url,
                    body=data,
                    headers=self._headers,
                    timeout=limits,
                    budget=left,
                    pool=self._pool,
                    max_bytes=_MAX_ANSWER,
                    idempotent=retry,
                )
            except net.NetError as exc:
                error = TransportError(what, _cause(exc, self.shown))
                error.__cause__ = exc
                raise (net.Transient(error) if exc.transient else error) from exc
            return self._answer(response, what)

        policy = _READS if retry else _SENDS
        return net.run_with_retry(attempt, policy=policy, budget=bound, what=f"{what} {self.shown}")

    def _answer(self, response: net.Response, what: str) -> Any:
        status = response.status
        try:
            parsed = json.loads(response.body) if response.body else None
        except (ValueError, RecursionError):
            parsed = None
        if status != 200 and not _is_jsonrpc(parsed):
            error = TransportError(what, f"{self.shown} answered HTTP {status}")
            if net.is_transient_status(status):
                raise net.Transient(error, net.parse_retry_after(response.header("retry-after")))
            raise error
        if parsed is None:
            head = response.body[:40].decode("utf-8", "replace").replace("\n", " ")
            raise TransportError(what, f"malformed answer: not JSON ({head!r})")
        return parsed


def _cause(exc: net.NetError, shown: str) -> str:
    text = exc.message
    # The request's own message starts with the (path-keeping) URL: show the short one.
    if exc.url and text.startswith(exc.url):
        text = shown + text[len(exc.url) :]
    return text


def _is_jsonrpc(value: object) -> bool:
    return isinstance(value, dict) and ("error" in value or "result" in value)


def _same_id(got: object, sent: int) -> bool:
    return got is None or str(got) == str(sent)


_transports: dict[tuple[str, float, tuple[tuple[str, str], ...]], HttpTransport] = {}
_transports_lock = threading.Lock()


def transport_for(
    url: str, *, timeout: float = DEFAULT_TIMEOUT, headers: Mapping[str, str] | None = None
) -> HttpTransport:
    """The process-wide transport of ``url`` (one connection pool per endpoint). No I/O.

    Raises ValueError for a URL that is not absolute http(s).
    """
    key = (url, float(timeout), tuple(sorted((headers or {}).items())))
    with _transports_lock:
        found = _transports.get(key)
        if found is None:
            found = HttpTransport(url, timeout=timeout, headers=headers)
            _transports[key] = found
        return found
