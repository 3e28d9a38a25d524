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

All HTTP goes through :mod:`ogpu.net` (standard library): every call has one
wall-clock budget (``timeout=`` seconds, at most 120 s by default) that retries (4
attempts, exponential backoff, on connection errors, timeouts, 5xx and 429 only),
redirects and slow or dripping servers count against. Fetches follow at most 5
http(s) redirects, stop reading at ``max_bytes`` (default 10 MiB), refuse
non-public addresses unless allowed (``OGPU_FETCH_ALLOW``; the configured gateway is
allowed) and check content against the CID its URL names.

The HTTP modules (backends, fetch) load on first access to one of their names;
``publish_to_ipfs`` imports them on its first call.
"""

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports
from ogpu.ipfs.config import (
    DEFAULT_MAX_BYTES,
    ENV_API_URL,
    ENV_BACKEND,
    ENV_FETCH_ALLOW,
    ENV_GATEWAY,
    IPFSConfig,
    RetryPolicy,
    Timeout,
    fetch_policy,
    resolve_config,
)
from ogpu.ipfs.errors import ContentMismatchError, ForbiddenAddressError
from ogpu.ipfs.publish import publish_to_ipfs

if TYPE_CHECKING:
    from ogpu.ipfs.backends import (
        DevnetStoreBackend,
        IPFSBackend,
        IPFSNodeBackend,
        OGPUPinningBackend,
        default_backend,
        make_backend,
    )
    from ogpu.ipfs.fetch import fetch_ipfs_bytes, fetch_ipfs_json, resolve_ipfs_url
else:  # loaded on first use: the HTTP modules (backends, fetch)
    __getattr__, __dir__ = lazy_imports(__name__, globals())


__all__ = [
    "DEFAULT_MAX_BYTES",
    "ENV_API_URL",
    "ENV_BACKEND",
    "ENV_FETCH_ALLOW",
    "ENV_GATEWAY",
    "ContentMismatchError",
    "DevnetStoreBackend",
    "ForbiddenAddressError",
    "IPFSBackend",
    "IPFSConfig",
    "IPFSNodeBackend",
    "OGPUPinningBackend",
    "RetryPolicy",
    "Timeout",
    "default_backend",
    "fetch_ipfs_bytes",
    "fetch_ipfs_json",
    "fetch_policy",
    "make_backend",
    "publish_to_ipfs",
    "resolve_config",
    "resolve_ipfs_url",
]
