"""Sockets whose every wait is bounded: DNS, connect, TLS, send and each read.

:class:`BoundedSocket` wraps a connected socket; before each blocking operation it
sets the socket's timeout to the smaller of the idle limit and what is left of the
exchange's :class:`~ogpu.net.Budget`, and refuses to start once nothing is left. A
server that drips one byte per second therefore cannot stretch an exchange past its
budget: the per-``recv`` timeout shrinks as the deadline nears.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import socket
import ssl
import threading
from typing import TYPE_CHECKING

from ogpu.net.budget import Budget
from ogpu.net.errors import ConnectFailed, DeadlineExceeded, NetError, TimedOut
from ogpu.net.guard import AddressPolicy, IPAddress, resolve
from ogpu.net.proxy import Proxy, proxy_for, tunnel
from ogpu.net.urls import Origin

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

__all__ = ["BoundedSocket", "Pool", "open_socket"]

_SEND_CHUNK = 64 * 1024


def describe(exc: BaseException) -> str:
    """A short cause for an OS-level failure (the OS's words: ``Connection refused``...)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (text or type(exc).__name__).splitlines()[0][:80]


class BoundedSocket:
    """A connected socket; :meth:`arm` sets the budget and idle limit of the next exchange."""

    def __init__(
        self, sock: socket.socket, origin: Origin, shown: str, *, proxy: Proxy | None = None
    ) -> None:
        self._sock = sock
        self.origin = origin
        self.shown = shown
        self.proxy = proxy  # set when plain HTTP is sent to a proxy (absolute-form targets)
        self._budget = Budget()
        self._idle = 30.0

    def arm(self, budget: Budget, idle: float, shown: str) -> None:
        self._budget, self._idle, self.shown = budget, idle, shown

    def _timeout(self) -> float:
        left = self._budget.remaining()
        if left <= 0:
            raise DeadlineExceeded(
                f"{self.shown}: timed out (total {self._budget.total:g}s)", url=self.shown
            )
        return min(self._idle, left)

    def _timed_out(self) -> NetError:
        if self._budget.expired():
            return DeadlineExceeded(
                f"{self.shown}: timed out (total {self._budget.total:g}s)", url=self.shown
            )
        return TimedOut(f"{self.shown}: timed out (no data for {self._idle:g}s)", url=self.shown)

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0) -> int:
        self._sock.settimeout(self._timeout())
        try:
            return self._sock.recv_into(buffer, nbytes)
        except TimeoutError:
            raise self._timed_out() from None

    def sendall(self, data: ReadableBuffer) -> None:
        view = memoryview(data).cast("B")
        while view:
            self._sock.settimeout(self._timeout())
            try:
                sent = self._sock.send(view[:_SEND_CHUNK])
            except TimeoutError:
                raise self._timed_out() from None
            view = view[sent:]

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        if "r" not in mode:
            raise ValueError("a BoundedSocket only makes readers")
        return io.BufferedReader(_SocketFile(self), 64 * 1024)

    def writer(self) -> io.BufferedWriter:
        """A buffered file writing under this socket's deadlines (a server's ``wfile``;
        ``http.server`` flushes it after every response)."""
        return io.BufferedWriter(_SocketFile(self), 64 * 1024)

    def setsockopt(self, *args: int) -> None:
        self._sock.setsockopt(*args)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    def dropped(self) -> bool:
        """Whether an idle connection was closed (or sent something) by the server."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


class _SocketFile(io.RawIOBase):
    """A BoundedSocket as a raw file: reads and writes keep its deadlines."""

    def __init__(self, owner: BoundedSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        return self._owner.recv_into(buffer)

    def write(self, data: ReadableBuffer) -> int:
        view = memoryview(data)
        self._owner.sendall(view)
        return view.nbytes


def _connect(ip: IPAddress, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(max(timeout, 0.001))
        sock.connect((str(ip), port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _handshake(sock: ssl.SSLSocket, phase: Budget, shown: str) -> None:
    # Non-blocking loop: a server dripping its handshake cannot outlast the phase.
    sock.setblocking(False)
    while True:
        left = phase.remaining()
        if left <= 0:
            raise TimedOut(f"{shown}: TLS handshake timed out", url=shown)
        try:
            sock.do_handshake()
            break
        except ssl.SSLWantReadError:
            select.select([sock], [], [], left)
        except ssl.SSLWantWriteError:
            select.select([], [sock], [], left)
    sock.setblocking(True)


def _tcp(
    host: str,
    port: int,
    phase: Budget,
    budget: Budget,
    policy: AddressPolicy | None,
    origin: Origin,
    shown: str,
) -> socket.socket:
    """Resolve ``host`` once, check every address with ``policy`` (for ``origin``) and
    connect to a checked one, within ``phase``."""
    ips = resolve(host, phase.remaining(), policy.resolver if policy else None, shown)
    if policy is not None:
        for ip in ips:
            policy.check(origin, ip, shown)
    last: BaseException | None = None
    for ip in ips:
        left = phase.remaining()
        if left <= 0:
            break
        try:
            return _connect(ip, port, left)
        except OSError as exc:
            last = exc
    if last is None or isinstance(last, TimeoutError):
        error: NetError = (DeadlineExceeded if budget.expired() else TimedOut)(
            f"{shown}: connect timed out", url=shown
        )
    else:
        error = ConnectFailed(f"{shown}: {describe(last)}", url=shown)
    raise error from last


def _tls(
    sock: socket.socket, host: str, phase: Budget, shown: str, tls: ssl.SSLContext | None
) -> socket.socket:
    context = tls or _default_tls()
    try:
        wrapped = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
        _handshake(wrapped, phase, shown)
    except ssl.SSLError as exc:
        sock.close()
        raise NetError(f"{shown}: TLS failed: {describe(exc)}", url=shown) from exc
    except BaseException:
        sock.close()
        raise
    return wrapped


def open_socket(
    origin: Origin,
    *,
    budget: Budget,
    connect_timeout: float,
    policy: AddressPolicy | None,
    shown: str,
    tls: ssl.SSLContext | None = None,
) -> BoundedSocket:
    """Resolve ``origin`` once, check every address with ``policy``, connect to a checked
    one (then TLS for https), all within ``connect_timeout`` and the budget. A request
    without a guard goes through the environment's proxy (``HTTPS_PROXY``...), if any.

    Raises:
        ForbiddenAddress: the policy refuses an address of the host.
        ConnectFailed / TimedOut / DeadlineExceeded: no connection.
        NetError: the TLS handshake (certificate...) or the proxy refused, not transient.
    """
    phase = budget.within(connect_timeout)
    proxy = proxy_for(origin) if policy is None or not policy.public_only else None
    if proxy is not None:
        return _via_proxy(origin, proxy, phase, budget, shown, tls)
    sock = _tcp(origin.host, origin.port, phase, budget, policy, origin, shown)
    if origin.scheme == "https":
        sock = _tls(sock, origin.host, phase, shown, tls)
    return BoundedSocket(sock, origin, shown)


def _via_proxy(
    origin: Origin,
    proxy: Proxy,
    phase: Budget,
    budget: Budget,
    shown: str,
    tls: ssl.SSLContext | None,
) -> BoundedSocket:
    where = f"{shown} (via proxy {proxy.origin})"
    sock = _tcp(proxy.origin.host, proxy.origin.port, phase, budget, None, proxy.origin, where)
    if proxy.origin.scheme == "https":
        sock = _tls(sock, proxy.origin.host, phase, where, tls)
    if origin.scheme == "http":
        # Plain HTTP goes to the proxy in absolute form (see client._exchange).
        return BoundedSocket(sock, origin, shown, proxy=proxy)
    bounded = BoundedSocket(sock, origin, shown)
    bounded.arm(phase, phase.remaining(), where)
    try:
        tunnel(bounded, origin, proxy, where)
    except BaseException:
        bounded.close()
        raise
    return BoundedSocket(_tls(sock, origin.host, phase, shown, tls), origin, shown)


_tls_lock = threading.Lock()
_tls_context: ssl.SSLContext | None = None


def _default_tls() -> ssl.SSLContext:
    """Certificates from ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` if set, else certifi's
    bundle when installed (as requests did), else the system's."""
    global _tls_context
    with _tls_lock:
        if _tls_context is None:
            cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
            if not cafile:
                try:
                    import certifi

                    cafile = certifi.where()
                except ImportError:
                    cafile = None
            _tls_context = ssl.create_default_context(cafile=cafile)
        return _tls_context


class Pool:
    """Idle keep-alive connections per origin; thread-safe, emptied after ``fork``."""

    def __init__(self, max_idle: int = 8) -> None:
        self._max_idle = max_idle
        self._idle: dict[Origin, list[BoundedSocket]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self, origin: Origin) -> BoundedSocket | None:
        """An idle connection to ``origin`` that the server has not closed, or None."""
        with self._lock:
            if self._pid != os.getpid():
                self._idle, self._pid = {}, os.getpid()
            stack = self._idle.get(origin)
            while stack:
                sock = stack.pop()
                if not sock.dropped():
                    return sock
                sock.close()
        return None

    def give(self, sock: BoundedSocket) -> None:
        """Keep ``sock`` for reuse (closed when the pool is full)."""
        with self._lock:
            stack = self._idle.setdefault(sock.origin, [])
            if self._pid == os.getpid() and len(stack) < self._max_idle:
                stack.append(sock)
                return
        sock.close()

    def clear(self) -> None:
        """Close every idle connection."""
        with self._lock:
            stacks, self._idle = list(self._idle.values()), {}
        for stack in stacks:
            for sock in stack:
                sock.close()
