"""Which addresses a request may reach: the SSRF guard for URLs that strangers chose.

The guard runs on the address a host *resolves to*, right before connecting to that
same address (no second resolution, so a name cannot rebind between check and
connect), and again on every redirect hop. Numeric spellings (``2130706433``,
``0x7f.1``, ``017700000001``, ``127.1``) are read as the IPv4 address the C library
would connect to; IPv6 forms that embed an IPv4 address (``::ffff:a.b.c.d``,
``::a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo) are judged by the
embedded address.

Public means: not loopback, private (RFC 1918, ``fc00::/7``), link-local, unspecified,
multicast, shared (``100.64.0.0/10``), reserved, documentation or benchmarking space
(``ipaddress``'s ``is_global``, plus multicast and the embedded-IPv4 forms).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ogpu.net.errors import ConnectFailed, DeadlineExceeded, ForbiddenAddress
from ogpu.net.urls import Origin

__all__ = ["AddressPolicy", "IPAddress", "Resolver", "is_public", "parse_allow", "resolve"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]
"""Maps a host name to IP address strings (default: the system resolver)."""

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_V4 = frozenset("0123456789abcdefxABCDEFX.")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64) or (ip in _V4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address (see the module docstring). No I/O."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not ip.is_multicast


def ip_literal(host: str) -> IPAddress | None:
    """The address a host written as a number stands for (any inet_aton spelling, or
    IPv6), else None for a name. No I/O."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and set(text) <= _NUMERIC_V4 and text[0].isdigit():
        import socket

        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class _Allowed:
    origin: Origin | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    def admits(self, origin: Origin, ip: IPAddress) -> bool:
        if self.network is not None:
            return ip in self.network
        allowed = self.origin
        if allowed is None or (allowed.scheme, allowed.port) != (origin.scheme, origin.port):
            return False
        if allowed.host == origin.host:
            return True
        literal = ip_literal(allowed.host)
        return literal is not None and literal == ip


def parse_allow(entries: Iterable[str]) -> tuple[_Allowed, ...]:
    """Parse allow-list entries: an origin (``http://127.0.0.1:5001``: that scheme, host
    and port only) or an IP network/address (``10.0.0.0/8``, ``::1``: any port). No I/O.

    Raises ValueError for an entry that is neither.
    """
    out: list[_Allowed] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        if "://" in entry:
            out.append(_Allowed(origin=Origin.of(entry)))
        else:
            out.append(_Allowed(network=ipaddress.ip_network(entry.strip("[]"), strict=False)))
    return tuple(out)


@dataclass(frozen=True)
class AddressPolicy:
    """Addresses a request may connect to.

    ``public_only``: refuse every non-public address unless ``allow`` admits it.
    ``resolver``: host name -> IP strings (None: the system resolver), e.g. a test's
    own DNS. A name that resolves to any refused address is refused as a whole.
    """

    public_only: bool = False
    allow: tuple[_Allowed, ...] = ()
    resolver: Resolver | None = None

    @classmethod
    def public(cls, allow: Iterable[str] = (), resolver: Resolver | None = None) -> AddressPolicy:
        """Public addresses plus the ``allow`` entries (see :func:`parse_allow`)."""
        return cls(public_only=True, allow=parse_allow(allow), resolver=resolver)

    def check(self, origin: Origin, ip: IPAddress, shown: str) -> None:
        """Raise ForbiddenAddress unless ``ip`` may be reached for ``origin``. No I/O."""
        if not self.public_only or is_public(ip):
            return
        if any(entry.admits(origin, ip) for entry in self.allow):
            return
        raise ForbiddenAddress(
            f"refused {shown}: {origin.host} is {ip}, not a public address", url=shown
        )


def _system_resolver(host: str) -> list[str]:
    import socket

    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve(host: str, timeout: float, resolver: Resolver | None, shown: str) -> list[IPAddress]:
    """The addresses of ``host``, resolved once, within ``timeout`` seconds.

    Raises:
        ConnectFailed: the name does not resolve. DeadlineExceeded: too slow.
    """
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    chosen = resolver or _system_resolver
    found: list[str] = []
    failures: list[Exception] = []
    done = threading.Event()

    def work() -> None:
        try:
            found.extend(str(text) for text in chosen(host))
        except Exception as exc:
            failures.append(exc)
        finally:
            done.set()

    # The C resolver has no timeout of its own: wait for it on a daemon thread.
    threading.Thread(target=work, name="ogpu-net-dns", daemon=True).start()
    if not done.wait(max(timeout, 0.0)):
        raise DeadlineExceeded(f"{shown}: resolving {host} timed out", url=shown)
    if failures:
        raise ConnectFailed(f"{shown}: cannot resolve {host} (DNS)", url=shown) from failures[0]
    ips: list[IPAddress] = []
    for text in found:
        try:
            ips.append(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError:
            continue
    if not ips:
        raise ConnectFailed(f"{shown}: {host} resolves to no address (DNS)", url=shown)
    return ips
