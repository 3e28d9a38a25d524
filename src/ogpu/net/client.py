"""One HTTP request, bounded by wall clock: ``request()``.

Built on ``http.client`` over :mod:`ogpu.net.wire` sockets, so the request's
:class:`~ogpu.net.Budget` bounds everything: DNS, connect, TLS, sending, the status
line and headers however slowly they come, the body, and every redirect hop.
Bodies are capped while streaming (after gzip/deflate decoding). Retrying is the
caller's choice (:func:`ogpu.net.run_with_retry`).
"""

from __future__ import annotations

import http.client
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ogpu.net.budget import Budget, effective
from ogpu.net.errors import (
    ConnectFailed,
    NetError,
    ProtocolError,
    RedirectError,
    ResponseTooLarge,
)
from ogpu.net.guard import AddressPolicy
from ogpu.net.policy import Timeout
from ogpu.net.urls import Origin, redact_url
from ogpu.net.wire import BoundedSocket, Pool, describe, open_socket

__all__ = ["DEFAULT_MAX_BYTES", "REDIRECTS", "Response", "request"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_REDIRECT_BODY = 64 * 1024
_READ = 64 * 1024
_CROSS_ORIGIN_DROP = ("authorization", "cookie", "proxy-authorization")


@dataclass(frozen=True)
class Response:
    """A complete answer: status, headers (lower-case names), decoded body, final URL."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _Connection(http.client.HTTPConnection):
    """``http.client`` over an already connected :class:`BoundedSocket` (never reconnects)."""

    auto_open = 0

    def __init__(self, sock: BoundedSocket) -> None:
        super().__init__(sock.origin.host, sock.origin.port)
        self.sock = sock

    def close(self) -> None:
        # http.client closes the socket when an answer ends the connection, while the
        # answer may still be read from it; ``_send`` closes or pools it afterwards.
        self.sock = None


def _decoder(encoding: str, shown: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(47)  # gzip or zlib, detected from the header
    raise ProtocolError(f"{shown}: unsupported Content-Encoding {encoding!r}", url=shown)


def _too_large(shown: str, max_bytes: int, what: str = "body") -> ResponseTooLarge:
    return ResponseTooLarge(f"{shown}: {what} exceeds the {max_bytes}-byte limit", url=shown)


def _read_body(answer: http.client.HTTPResponse, max_bytes: int, shown: str) -> bytes:
    encoding = (answer.getheader("Content-Encoding") or "").strip().lower()
    decoder = _decoder(encoding, shown)
    declared = (answer.getheader("Content-Length") or "").strip()
    if decoder is None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(shown, max_bytes, f"Content-Length {int(declared)}")
    out = bytearray()
    raw = 0
    while True:
        chunk = answer.read(_READ)
        if not chunk:
            if answer.length:  # http.client returns b"" when a Content-Length body stops
                raise http.client.IncompleteRead(bytes(out), answer.length)
            break
        raw += len(chunk)
        if raw > max_bytes:
            raise _too_large(shown, max_bytes)
        if decoder is None:
            out += chunk
            continue
        try:
            out += decoder.decompress(chunk, max_bytes + 1 - len(out))
            while decoder.unconsumed_tail and len(out) <= max_bytes:
                out += decoder.decompress(decoder.unconsumed_tail, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise ProtocolError(f"{shown}: undecodable {encoding} body", url=shown) from exc
        if len(out) > max_bytes:
            raise _too_large(shown, max_bytes, "decoded body")
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise _too_large(shown, max_bytes, "decoded body")
    return bytes(out)


def _exchange(
    sock: BoundedSocket,
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    max_bytes: int,
) -> tuple[Response, bool]:
    """Send one request on ``sock`` and read the whole answer. Returns the answer and
    whether the connection may be reused."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if sock.proxy is not None:  # plain HTTP through a proxy: absolute form
        target = f"{sock.origin}{target}"
        headers = {**headers, **sock.proxy.headers()}
    connection = _Connection(sock)
    shown = sock.shown
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        answer = connection.getresponse()
        limit = min(max_bytes, _REDIRECT_BODY) if answer.status in REDIRECTS else max_bytes
        payload = _read_body(answer, limit, shown) if method != "HEAD" else b""
    except NetError:
        raise
    except http.client.RemoteDisconnected as exc:
        raise ConnectFailed(f"{shown}: closed without an answer", url=shown) from exc
    except http.client.IncompleteRead as exc:
        raise ProtocolError(f"{shown}: reading the body failed (cut short)", url=shown) from exc
    except http.client.HTTPException as exc:
        what = type(exc).__name__
        raise ProtocolError(f"{shown}: malformed HTTP answer ({what})", url=shown) from exc
    except ssl.SSLError as exc:
        raise ProtocolError(f"{shown}: TLS error: {describe(exc)}", url=shown) from exc
    except OSError as exc:
        raise ConnectFailed(f"{shown}: {describe(exc)}", url=shown) from exc
    names = {key.lower(): value for key, value in answer.getheaders()}
    response = Response(answer.status, answer.reason, names, payload, url)
    return response, not answer.will_close


def _send(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    *,
    budget: Budget,
    timeout: Timeout,
    policy: AddressPolicy | None,
    pool: Pool | None,
    max_bytes: int,
    idempotent: bool,
) -> Response:
    origin = Origin.of(url)
    shown = redact_url(url)
    reused = pool.take(origin) if pool is not None else None
    if reused is not None:
        reused.arm(budget, timeout.read, shown)
        try:
            response, keep = _exchange(reused, method, url, body, headers, max_bytes)
        except ConnectFailed:
            reused.close()  # the server dropped an idle connection; try a fresh one
            if not idempotent:
                raise
        else:
            _settle(reused, keep, pool)
            return response
    sock = open_socket(
        origin, budget=budget, connect_timeout=timeout.connect, policy=policy, shown=shown
    )
    sock.arm(budget, timeout.read, shown)
    try:
        response, keep = _exchange(sock, method, url, body, headers, max_bytes)
    except BaseException:
        sock.close()
        raise
    _settle(sock, keep, pool)
    return response


def _settle(sock: BoundedSocket, keep: bool, pool: Pool | None) -> None:
    if keep and pool is not None:
        pool.give(sock)
    else:
        sock.close()


def _next_hop(current: str, location: str, shown: str) -> str:
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise RedirectError(f"{shown}: malformed redirect", url=shown) from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        scheme = parts.scheme or "no scheme"
        raise RedirectError(f"{shown}: refused redirect to a non-http(s) URL ({scheme})", url=shown)
    return target


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Timeout | None = None,
    budget: Budget | None = None,
    policy: AddressPolicy | None = None,
    max_redirects: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    pool: Pool | None = None,
    idempotent: bool = True,
) -> Response:
    """One HTTP exchange (following up to ``max_redirects`` redirects), bounded by
    ``budget`` (default: ``timeout.total``, else ``timeout.read`` seconds; an ambient
    :meth:`Budget.scope` caps it). With ``max_redirects=0`` a 3xx is returned as is.
    ``policy`` is checked on every hop; a guarded request never reuses a pooled
    connection. Authorization and Cookie headers are dropped on a cross-origin hop.

    Raises:
        NetError subclasses: ForbiddenAddress, ConnectFailed, TimedOut,
        DeadlineExceeded, ProtocolError, ResponseTooLarge, RedirectError.
    """
    chosen = timeout or Timeout()
    bound = effective(budget, chosen.total if chosen.total is not None else chosen.read)
    if policy is not None and policy.public_only:
        pool = None
    current = url
    sent_headers = dict(headers or {})
    for hop in range(max_redirects + 1):
        response = _send(
            method,
            current,
            body,
            sent_headers,
            budget=bound,
            timeout=chosen,
            policy=policy,
            pool=pool,
            max_bytes=max_bytes,
            idempotent=idempotent,
        )
        location = response.header("location")
        if response.status not in REDIRECTS or location is None or max_redirects == 0:
            return response
        shown = redact_url(current)
        if hop == max_redirects:
            raise RedirectError(
                f"{redact_url(url)}: more than {max_redirects} redirects", url=shown
            )
        following = _next_hop(current, location, shown)
        if Origin.of(following) != Origin.of(current):
            sent_headers = {
                k: v for k, v in sent_headers.items() if k.lower() not in _CROSS_ORIGIN_DROP
            }
        if response.status not in (307, 308):
            method, body = ("GET", None) if method != "HEAD" else (method, None)
        current = following
    raise AssertionError("unreachable")  # pragma: no cover
