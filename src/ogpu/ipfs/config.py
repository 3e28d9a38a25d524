"""Configuration for :mod:`ogpu.ipfs`: timeouts, retry policy, backend choice.

Backend resolution order (first match wins):

1. the ``backend=`` argument (a name or an :class:`~ogpu.ipfs.backends.IPFSBackend`);
2. ``devnet`` when a content store is registered in the current context
   (``ogpu.devnet.connect_devnet(store_url=...)``; that URL is then the devnet's API and gateway);
3. the ``OGPU_IPFS_BACKEND`` environment variable (``ogpu``, ``node`` or ``devnet``);
4. the current chain of :mod:`ogpu.chain`: ``devnet`` on chain id 1337, else ``ogpu``.

``OGPU_IPFS_API_URL`` overrides the upload API base URL (but not a registered store)
and ``OGPU_IPFS_GATEWAY`` the gateway base URL (used to build node links and to
resolve ``ipfs://`` URLs).

Fetching refuses non-public addresses (loopback, private, link-local...; see
:mod:`ogpu.net.guard`) except the allow-list of :func:`fetch_policy`: the resolved
gateway's own origin (the devnet store on the devnet, a local node's gateway with the
``node`` backend, ``OGPU_IPFS_GATEWAY``) plus the entries of ``OGPU_FETCH_ALLOW``.

``Timeout`` and ``RetryPolicy`` are :mod:`ogpu.net`'s, re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ogpu import net
from ogpu.errors import shown
from ogpu.net import RetryPolicy, Timeout
from ogpu.types import InvalidInputError

__all__ = [
    "BACKEND_NAMES",
    "DEFAULT_MAX_BYTES",
    "ENV_API_URL",
    "ENV_BACKEND",
    "ENV_FETCH_ALLOW",
    "ENV_GATEWAY",
    "BackendName",
    "IPFSConfig",
    "RetryPolicy",
    "Timeout",
    "fetch_policy",
    "resolve_config",
    "validate_base_url",
]

BackendName = Literal["ogpu", "node", "devnet"]
BACKEND_NAMES: tuple[BackendName, ...] = ("ogpu", "node", "devnet")

ENV_BACKEND = "OGPU_IPFS_BACKEND"
ENV_API_URL = "OGPU_IPFS_API_URL"
ENV_GATEWAY = "OGPU_IPFS_GATEWAY"
ENV_FETCH_ALLOW = "OGPU_FETCH_ALLOW"

OGPU_API_URL = "https://capi.ogpuscan.io"
OGPU_GATEWAY_URL = "https://cipfs.ogpuscan.io"
NODE_API_URL = "http://127.0.0.1:5001"
NODE_GATEWAY_URL = "http://127.0.0.1:8080"
DEVNET_STORE_PORT = 5001
DEVNET_STORE_URL = f"http://127.0.0.1:{DEVNET_STORE_PORT}"
DEVNET_CHAIN_ID = 1337

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5


def validate_base_url(name: str, url: str) -> str:
    """Return ``url`` without trailing slash if it is an absolute http(s) URL.

    No I/O. Raises InvalidInputError otherwise.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError(f"{name} must be a non-empty http(s) URL", param=name)
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise InvalidInputError(f"{name} is not a valid URL: {exc}", param=name) from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            f"{name} must be an absolute http(s) URL, got scheme {parts.scheme!r}", param=name
        )
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class IPFSConfig:
    """Resolved settings for one backend: names, base URLs, timeouts and retries."""

    backend: BackendName
    api_url: str
    gateway_url: str
    timeout: Timeout = field(default_factory=Timeout)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if self.backend not in BACKEND_NAMES:
            raise InvalidInputError(
                f"unknown IPFS backend {shown(self.backend)}; expected one of {BACKEND_NAMES}",
                param="backend",
            )
        object.__setattr__(self, "api_url", validate_base_url("api_url", self.api_url))
        object.__setattr__(self, "gateway_url", validate_base_url("gateway_url", self.gateway_url))


def parse_backend_name(value: str, *, source: str = "backend") -> BackendName:
    """Normalise a backend name. No I/O. Raises InvalidInputError if unknown."""
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{source} must be a string, got {type(value).__name__}", param=source
        )
    name = value.strip().lower()
    if name not in BACKEND_NAMES:
        raise InvalidInputError(
            f"{source}={value!r} is not one of {', '.join(BACKEND_NAMES)}", param=source
        )
    return name


def _devnet_store_url(rpc: str) -> str:
    """The devnet store's URL: the devnet RPC's host on port 5001. No I/O."""
    try:
        parts = urlsplit(rpc)
        host = parts.hostname
    except ValueError:
        return DEVNET_STORE_URL
    if parts.scheme not in ("http", "https") or not host:
        return DEVNET_STORE_URL
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{DEVNET_STORE_PORT}"


def resolve_config(backend: str | None = None) -> IPFSConfig:
    """Resolve the backend settings from the argument, environment and current chain.

    No network I/O (reads ``ogpu.chain`` state only). Raises InvalidInputError on
    an unknown backend name or a malformed URL in the environment.
    """
    # Imported here: ogpu.ipfs loads without the chain layer until a backend is resolved.
    from ogpu.chain import ChainConfig
    from ogpu.chain.context import current

    store = current().ipfs_store
    if backend is not None:
        name = parse_backend_name(backend)
    elif store is not None:
        name = "devnet"
    elif os.environ.get(ENV_BACKEND, "").strip():
        name = parse_backend_name(os.environ[ENV_BACKEND], source=ENV_BACKEND)
    else:
        name = "devnet" if int(ChainConfig.get_current_chain()) == DEVNET_CHAIN_ID else "ogpu"

    if name == "ogpu":
        api, gateway = OGPU_API_URL, OGPU_GATEWAY_URL
    elif name == "node":
        api, gateway = NODE_API_URL, NODE_GATEWAY_URL
    else:
        api = gateway = _devnet_store_url(ChainConfig.get_rpc())

    env_api = (store if name == "devnet" else None) or os.environ.get(ENV_API_URL, "").strip()
    env_gateway = os.environ.get(ENV_GATEWAY, "").strip()
    if env_api:
        api = validate_base_url(ENV_API_URL, env_api)
        if name == "devnet" and not env_gateway:
            gateway = api
    if env_gateway:
        gateway = validate_base_url(ENV_GATEWAY, env_gateway)
    return IPFSConfig(backend=name, api_url=api, gateway_url=gateway)


def fetch_policy(allow: Iterable[str] = ()) -> net.AddressPolicy:
    """The address policy of a fetch: public addresses, the resolved gateway's origin,
    ``OGPU_FETCH_ALLOW`` (comma-separated origins like ``http://10.0.0.5:8080`` or
    networks like ``10.0.0.0/8``) and ``allow``. No network I/O.

    Raises InvalidInputError for a malformed entry.
    """
    extra = list(allow) if isinstance(allow, Iterable) and not isinstance(allow, str) else [allow]
    if not all(isinstance(entry, str) for entry in extra):
        raise InvalidInputError(
            f"allow is a list of origins or IP networks (strings), got {shown(allow)}",
            param="allow",
        )
    entries = [resolve_config().gateway_url]
    entries += os.environ.get(ENV_FETCH_ALLOW, "").split(",")
    entries += extra
    try:
        return net.AddressPolicy.public(entries)
    except ValueError as exc:
        raise InvalidInputError(
            f"not an allow-list entry (an http(s) origin or an IP network): {exc}",
            param="allow",
        ) from None
