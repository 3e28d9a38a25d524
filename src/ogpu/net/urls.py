"""URL helpers: redaction for messages, origins for allow-lists. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Origin", "redact_url"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def redact_url(url: str, *, keep_path: bool = True) -> str:
    """``url`` fit for a message or log: no ``user:password@``, no fragment, the query
    shown as ``?…``; with ``keep_path=False`` the path is shown as ``/…`` too (RPC URLs
    often carry an API key in the path). No I/O; never raises.
    """
    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if not parts.scheme or not parts.hostname:
        return "<invalid url>"
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path
    if not keep_path and path not in ("", "/"):
        path = "/…"
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


@dataclass(frozen=True)
class Origin:
    """Scheme, lower-case host (IPv6 without brackets) and port of a URL."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """Parse an absolute http(s) URL's origin. Raises ValueError when it has none."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an absolute http(s) URL: {redact_url(url)}")
        port = parts.port
        return cls(scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme])

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"
