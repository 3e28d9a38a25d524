"""Configuration for :mod:`ogpu.ipfs`: timeouts, retry policy, backend choice.

Backend resolution order (first match wins):

1. the ``backend=`` argument (a name or an :class:`~ogpu.ipfs.backends.IPFSBackend`);
2. the ``OGPU_IPFS_BACKEND`` environment variable (``ogpu``, ``node`` or ``devnet``);
3. the current chain of :mod:`ogpu.chain`: ``devnet`` on chain id 1337, else ``ogpu``.

``OGPU_IPFS_API_URL`` overrides the upload API base URL and ``OGPU_IPFS_GATEWAY``
the gateway base URL (used to build node links and to resolve ``ipfs://`` URLs).
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ogpu.types import InvalidInputError

BackendName = Literal["ogpu", "node", "devnet"]
BACKEND_NAMES: tuple[BackendName, ...] = ("ogpu", "node", "devnet")

ENV_BACKEND = "OGPU_IPFS_BACKEND"
ENV_API_URL = "OGPU_IPFS_API_URL"
ENV_GATEWAY = "OGPU_IPFS_GATEWAY"

OGPU_API_URL = "https://capi.ogpuscan.io"
OGPU_GATEWAY_URL = "https://cipfs.ogpuscan.io"
NODE_API_URL = "http://127.0.0.1:5001"
NODE_GATEWAY_URL = "http://127.0.0.1:8080"
DEVNET_STORE_PORT = 5001
DEVNET_STORE_URL = f"http://127.0.0.1:{DEVNET_STORE_PORT}"
DEVNET_CHAIN_ID = 1337

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(f"{name} must be a number, got {type(value).__name__}", param=name)
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(
            f"{name} must be a positive finite number, got {value!r}", param=name
        )
    return float(value)


@dataclass(frozen=True)
class Timeout:
    """Per-attempt timeouts in seconds: TCP connect, and each socket read."""

    connect: float = 5.0
    read: float = 30.0

    def __post_init__(self) -> None:
        _positive("Timeout.connect", self.connect)
        _positive("Timeout.read", self.read)

    @classmethod
    def coerce(cls, value: Timeout | float | tuple[float, float] | None) -> Timeout:
        """Build from ``None`` (defaults), one number (both) or ``(connect, read)``.

        No I/O. Raises InvalidInputError on anything else.
        """
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, tuple):
            if len(value) != 2:
                raise InvalidInputError("timeout tuple must be (connect, read)", param="timeout")
            return cls(connect=value[0], read=value[1])
        number = _positive("timeout", value)
        return cls(connect=number, read=number)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter for transient failures.

    Transient: connection errors, timeouts, HTTP 5xx and 429. ``max_attempts``
    counts the first try; ``total_timeout`` bounds the whole call including sleeps.
    """

    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    total_timeout: float = 120.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise InvalidInputError(
                f"RetryPolicy.max_attempts must be an int >= 1, got {self.max_attempts!r}",
                param="max_attempts",
            )
        _positive("RetryPolicy.backoff_initial", self.backoff_initial)
        _positive("RetryPolicy.backoff_max", self.backoff_max)
        _positive("RetryPolicy.total_timeout", self.total_timeout)

    def delay(self, retry_index: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``retry_index`` (0-based). No I/O."""
        ceiling = min(self.backoff_max, self.backoff_initial * (2**retry_index))
        wait = random.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max))
        return wait


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


def _current_chain_id() -> int | None:
    """Chain id selected in :mod:`ogpu.chain`, or None if unavailable. No RPC."""
    try:
        from ogpu.chain import ChainConfig
    except ImportError:
        return None
    return int(ChainConfig.get_current_chain())


def _current_rpc_url() -> str | None:
    try:
        from ogpu.chain import ChainConfig
    except ImportError:
        return None
    return str(ChainConfig.get_rpc())


@dataclass(frozen=True)
class IPFSConfig:
    """Resolved settings for one backend: names, base URLs, timeouts and retries."""

    backend: BackendName
    api_url: str
    gateway_url: str
    timeout: Timeout = Timeout()
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self) -> None:
        if self.backend not in BACKEND_NAMES:
            raise InvalidInputError(
                f"unknown IPFS backend {self.backend!r}; expected one of {BACKEND_NAMES}",
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


def _devnet_store_url() -> str:
    """The devnet store's URL: the devnet RPC's host on port 5001. No I/O."""
    rpc = _current_rpc_url()
    if rpc is None:
        return DEVNET_STORE_URL
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
    if backend is not None:
        name = parse_backend_name(backend)
    elif os.environ.get(ENV_BACKEND, "").strip():
        name = parse_backend_name(os.environ[ENV_BACKEND], source=ENV_BACKEND)
    else:
        name = "devnet" if _current_chain_id() == DEVNET_CHAIN_ID else "ogpu"

    if name == "ogpu":
        api, gateway = OGPU_API_URL, OGPU_GATEWAY_URL
    elif name == "node":
        api, gateway = NODE_API_URL, NODE_GATEWAY_URL
    else:
        api = gateway = _devnet_store_url()

    env_api = os.environ.get(ENV_API_URL, "").strip()
    env_gateway = os.environ.get(ENV_GATEWAY, "").strip()
    if env_api:
        api = validate_base_url(ENV_API_URL, env_api)
        if name == "devnet" and not env_gateway:
            gateway = api
    if env_gateway:
        gateway = validate_base_url(ENV_GATEWAY, env_gateway)
    return IPFSConfig(backend=name, api_url=api, gateway_url=gateway)
