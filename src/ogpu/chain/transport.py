"""JSON-RPC 2.0 over HTTP without web3: keep-alive, thread-safe, batches, a deadline per call.

``HttpTransport(url)`` keeps a small pool of persistent connections (one per request
in flight, reused afterwards), so threads can share one transport. Every call ends
within its budget (``timeout=`` seconds, a :class:`~ogpu.net.Budget` passed as
``budget=``, capped by an ambient ``Budget.scope()``), whatever the node does.
Reads are retried here and nowhere else, by one loop under :data:`READS`, inside that
budget: on connection errors, timeouts, HTTP 429/5xx and error answers that say a
replica lags or the node is busy (``net.is_transient_reply``); a batch asks again for
the items still lagging. Sends (``eth_sendRawTransaction``, ``eth_sendTransaction``)
are never retried here: their outcome is for the caller to settle by hash.

Standard library and :mod:`ogpu.net` only: importing this module costs no web3,
requests or eth-abi. Failures are the three exceptions of :mod:`ogpu.chain.rpc`
(defined here): ``ExecutionReverted``, ``NodeError``, ``TransportError``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from ogpu import net
from ogpu.chain._errors import ExecutionReverted, NodeError, TransportError, unwrap

__all__ = [
    "DEFAULT_TIMEOUT",
    "READS",
    "SEND_METHODS",
    "HttpTransport",
    "TransportKey",
    "transport_for",
]

#: Seconds one call may take, retries included, unless the caller says otherwise.
DEFAULT_TIMEOUT = 30.0
#: Never resent by the transport: a lost answer leaves the outcome unknown.
SEND_METHODS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
_CONNECT_TIMEOUT = 5.0
_MAX_ANSWER = 256 * 1024 * 1024
#: The one retry policy of every JSON-RPC read: 5 tries, pauses of up to 0.05, 0.1, 0.2
#: and 0.4 s (a lagging replica is usually level again within a second).
READS = net.RetryPolicy(max_attempts=5, backoff_initial=0.05, backoff_max=0.5)
_SENDS = net.RetryPolicy(max_attempts=1)
T = TypeVar("T")


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
        attempts: int | None = None,
    ) -> Any:
        """Send one request; return its ``result``. One HTTP POST per attempt (reads:
        up to ``attempts``, default ``READS.max_attempts``; sends: one).

        Raises:
            ExecutionReverted: an ``eth_call``/``eth_estimateGas`` reverted.
            NodeError: the node answered with an error object.
            TransportError: no usable answer in time (the message says what was tried
                and why: refused, DNS, timeout, HTTP status, malformed body).
        """
        read = method not in SEND_METHODS

        def attempt(post: Callable[[object], Any]) -> Any:
            ident = self._next_id()
            answer = post(_call(ident, method, params))
            if isinstance(answer, dict) and "id" in answer and not _same_id(answer["id"], ident):
                raise TransportError(method, "malformed answer: it answers another request id")
            try:
                return unwrap(method, answer)
            except NodeError as exc:
                raise (net.Transient(exc) if read and _lagging(exc) else exc) from None

        return self._retried(attempt, method, budget, timeout, _policy(read, attempts))

    def batch(
        self,
        calls: Sequence[tuple[str, Sequence[Any]]],
        *,
        budget: net.Budget | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> list[Any]:
        """Send ``calls`` as one JSON-RPC batch (one HTTP POST per attempt, as
        :meth:`request`; a retry asks only for the reads still failing transiently).
        Each item of the answer is the call's result or the exception :meth:`request`
        would raise.

        Raises:
            TransportError: no usable answer. NodeError: the node refused the batch.
        """
        reads = not any(m in SEND_METHODS for m, _ in calls)
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))

        def attempt(post: Callable[[object], Any]) -> list[Any]:
            nonlocal pending
            ids = [self._next_id() for _ in pending]
            answer = post([_call(ident, *calls[i]) for i, ident in zip(pending, ids, strict=True)])
            for i, item in zip(pending, _items(answer, ids), strict=True):
                results[i] = _result(calls[i][0], item)
            pending = [i for i in pending if reads and _lagging(results[i])]
            if pending:
                raise net.Transient(_Unsettled())
            return results

        try:
            policy = _policy(reads, attempts)
            answers: list[Any] = self._retried(attempt, "batch", budget, timeout, policy)
        except _Unsettled:
            return results
        return answers

    def close(self) -> None:
        """Close the idle connections (the transport stays usable)."""
        self._pool.clear()

    def _retried(
        self,
        attempt: Callable[[Callable[[object], Any]], T],
        what: str,
        budget: net.Budget | None,
        timeout: float | None,
        policy: net.RetryPolicy,
    ) -> T:
        """Run ``attempt(post)`` under ``policy`` within the call's budget (``budget``, else
        ``timeout`` seconds); ``post(payload)`` is one HTTP POST of at most ``timeout``
        seconds, returning the parsed answer."""
        seconds = self.timeout if timeout is None else float(timeout)
        bound = net.effective(budget, seconds)
        limits = net.Timeout(connect=min(_CONNECT_TIMEOUT, seconds), read=seconds)
        idempotent = policy is not _SENDS

        def one(left: net.Budget) -> T:
            # a caller's longer budget spans attempts; each still ends within ``timeout``
            cap = left if left.remaining() <= seconds else net.Budget.after(seconds)
            return attempt(lambda payload: self._post(payload, what, cap, limits, idempotent))

        return net.run_with_retry(one, policy=policy, budget=bound, what=f"{what} {self.shown}")

    def _post(
        self, payload: object, what: str, left: net.Budget, limits: net.Timeout, idempotent: bool
    ) -> Any:
        """One HTTP POST of ``payload``; its parsed JSON answer. Transient failures are
        raised as ``net.Transient``."""
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
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
                idempotent=idempotent,
            )
        except net.NetError as exc:
            error = TransportError(what, _cause(exc, self.shown))
            error.__cause__ = exc
            raise (net.Transient(error) if exc.transient else error) from exc
        return self._answer(response, what)

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


def _policy(read: bool, attempts: int | None) -> net.RetryPolicy:
    """``READS`` (``attempts`` tries if given) for reads; one try for sends. No I/O."""
    if not read:
        return _SENDS
    return READS if attempts is None else replace(READS, max_attempts=attempts)


class _Unsettled(Exception):
    """Some reads of a batch still failed transiently when the retries ran out."""


def _lagging(answer: object) -> bool:
    return isinstance(answer, NodeError) and net.is_transient_reply(answer.message)


def _call(ident: int, method: str, params: Sequence[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)}


def _items(answer: Any, ids: list[int]) -> list[Any]:
    """The answer object of each id in a batch answer (None where missing).

    Raises:
        TransportError: not a list. NodeError: an error object for the whole batch.
    """
    if not isinstance(answer, list):
        error = answer.get("error") if isinstance(answer, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        if message is None:
            raise TransportError("batch", "malformed answer: not a list")
        refused = NodeError("batch", None, str(message))
        raise net.Transient(refused) if _lagging(refused) else refused
    by_id = {str(item.get("id")): item for item in answer if isinstance(item, dict)}
    return [by_id.get(str(ident)) for ident in ids]


def _result(method: str, item: Any) -> Any:
    """One batch item's result, or the exception it stands for."""
    try:
        if item is None:
            raise TransportError(method, "malformed answer: missing from the batch")
        return unwrap(method, item)
    except (ExecutionReverted, NodeError, TransportError) as exc:
        return exc


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


#: What makes two transports the same: URL, timeout and extra headers.
TransportKey = tuple[str, float, tuple[tuple[str, str], ...]]


def transport_for(
    url: str, *, timeout: float = DEFAULT_TIMEOUT, headers: Mapping[str, str] | None = None
) -> HttpTransport:
    """The transport of ``url`` (one connection pool per endpoint), kept in the SDK's
    context (:mod:`ogpu.chain.context`: ``ogpu.reset()`` drops it). No I/O.

    Raises ValueError for a URL that is not absolute http(s).
    """
    from ogpu.chain.context import current

    key: TransportKey = (url, float(timeout), tuple(sorted((headers or {}).items())))
    state = current()
    with state.lock:
        found = state.transports.get(key)
        if found is None:
            found = HttpTransport(url, timeout=timeout, headers=headers)
            state.transports[key] = found
        return found
