"""HTTP(S) proxies from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``),
as ``requests`` honoured them: plain HTTP is sent to the proxy in absolute form, HTTPS
is tunnelled (``CONNECT``), both with ``Proxy-Authorization`` from ``user:pass@``.

Requests under an SSRF guard never use a proxy: the guard must see the address it
connects to, and a proxy would resolve the name again on its own.
"""

from __future__ import annotations

import base64
import http.client
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

from ogpu.net.errors import NetError, ProtocolError
from ogpu.net.urls import Origin

if TYPE_CHECKING:
    from ogpu.net.wire import BoundedSocket

__all__ = ["Proxy", "proxy_for", "tunnel"]


@dataclass(frozen=True)
class Proxy:
    origin: Origin
    authorization: str | None

    def headers(self) -> dict[str, str]:
        return {} if self.authorization is None else {"Proxy-Authorization": self.authorization}


def proxy_for(origin: Origin) -> Proxy | None:
    """The environment's proxy for ``origin``, or None (none set, or ``NO_PROXY``)."""
    url = getproxies().get(origin.scheme)
    if not url or proxy_bypass(origin.host):
        return None
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        target = Origin.of(url)
    except ValueError:
        return None
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    return Proxy(target, authorization)


def tunnel(sock: BoundedSocket, origin: Origin, proxy: Proxy, shown: str) -> None:
    """Ask the proxy on ``sock`` for a tunnel to ``origin`` (bounded like any exchange).

    Raises:
        NetError: the proxy refused. ProtocolError: it did not answer in HTTP.
    """
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    lines = [f"CONNECT {host}:{origin.port} HTTP/1.1", f"Host: {host}:{origin.port}"]
    lines += [f"{k}: {v}" for k, v in proxy.headers().items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    answer = http.client.HTTPResponse(sock, method="CONNECT")  # type: ignore[arg-type]
    try:
        answer.begin()
    except http.client.HTTPException as exc:
        raise ProtocolError(f"{shown}: the proxy's answer is not HTTP", url=shown) from exc
    if answer.status != 200:
        raise NetError(f"{shown}: the proxy refused the tunnel (HTTP {answer.status})", url=shown)
