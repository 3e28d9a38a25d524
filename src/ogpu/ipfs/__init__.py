"""Off-chain content: upload JSON/bytes and fetch JSON objects over IPFS gateways.

A leaf package: it imports only :mod:`ogpu.types` (errors) and, lazily,
:mod:`ogpu.chain` (to pick the default backend for the current chain).

Backends (``backend=`` name, or ``OGPU_IPFS_BACKEND``):

- ``ogpu``: OGPU's pinning service, ``POST <api>/file/create`` (default on
  mainnet and testnet; api ``https://capi.ogpuscan.io``, gateway
  ``https://cipfs.ogpuscan.io``);
- ``node``: a standard IPFS node, ``POST <api>/api/v0/add`` then
  ``<gateway>/ipfs/<cid>`` (api ``http://127.0.0.1:5001``, gateway
  ``http://127.0.0.1:8080``);
- ``devnet``: the local devnet's content store (default on chain 1337; serves
  at the devnet RPC host on port 5001).

Environment: ``OGPU_IPFS_BACKEND``, ``OGPU_IPFS_API_URL`` (upload API base URL),
``OGPU_IPFS_GATEWAY`` (gateway base URL, also used for ``ipfs://`` URLs).

All HTTP goes through one pooled :class:`requests.Session` per process, with
bounded connect/read timeouts (default 5 s / 30 s per attempt) and retries
(default 4 attempts, exponential backoff, 120 s in total) on connection errors,
timeouts, 5xx and 429 only. Fetches follow at most 5 http(s) redirects and stop
reading at ``max_bytes`` (default 10 MiB).

The HTTP modules (backends, fetch, the session; they import requests) load on
first access to one of their names; ``publish_to_ipfs`` imports them on its first call.
"""

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_attributes
from ogpu.ipfs.config import (
    DEFAULT_MAX_BYTES,
    ENV_API_URL,
    ENV_BACKEND,
    ENV_GATEWAY,
    IPFSConfig,
    RetryPolicy,
    Timeout,
    resolve_config,
)
from ogpu.ipfs.publish import publish_to_ipfs

_LAZY = {
    "get_session": "ogpu.ipfs._http",
    "DevnetStoreBackend": "ogpu.ipfs.backends",
    "IPFSBackend": "ogpu.ipfs.backends",
    "IPFSNodeBackend": "ogpu.ipfs.backends",
    "OGPUPinningBackend": "ogpu.ipfs.backends",
    "default_backend": "ogpu.ipfs.backends",
    "make_backend": "ogpu.ipfs.backends",
    "fetch_ipfs_bytes": "ogpu.ipfs.fetch",
    "fetch_ipfs_json": "ogpu.ipfs.fetch",
    "resolve_ipfs_url": "ogpu.ipfs.fetch",
}

if TYPE_CHECKING:
    from ogpu.ipfs._http import get_session
    from ogpu.ipfs.backends import (
        DevnetStoreBackend,
        IPFSBackend,
        IPFSNodeBackend,
        OGPUPinningBackend,
        default_backend,
        make_backend,
    )
    from ogpu.ipfs.fetch import fetch_ipfs_bytes, fetch_ipfs_json, resolve_ipfs_url
else:  # runtime only: type checkers see the imports above
    __getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


__all__ = [
    "DEFAULT_MAX_BYTES",
    "ENV_API_URL",
    "ENV_BACKEND",
    "ENV_GATEWAY",
    "DevnetStoreBackend",
    "IPFSBackend",
    "IPFSConfig",
    "IPFSNodeBackend",
    "OGPUPinningBackend",
    "RetryPolicy",
    "Timeout",
    "default_backend",
    "fetch_ipfs_bytes",
    "fetch_ipfs_json",
    "get_session",
    "make_backend",
    "publish_to_ipfs",
    "resolve_config",
    "resolve_ipfs_url",
]
