"""ogpu: the Python SDK for the OpenGPU network.

Subpackages (``ogpu.client``, ``ogpu.protocol``...) and the top-level names
below load on first use, so ``import ogpu.service`` (inside a source's
container) or ``import ogpu`` costs no web3 import until the chain layer is
actually needed. ``ogpu.service`` needs the ``service`` extra and is not in
``__all__`` (a star-import would load it).

Importing ``ogpu`` reads ``.env`` files (see ``ogpu._env``: variables already in
the environment win) and applies ``OGPU_VERBOSE`` (see ``set_verbose``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu._env import load_dotenv_files
from ogpu._lazy import lazy_imports
from ogpu._logging import apply_env_verbose, set_verbose

__version__ = "0.3.0.dev0"

__all__ = [
    "ChainConfig",
    "ChainId",
    "IgnoredArgumentsWarning",
    "__version__",
    "agent",
    "chain",
    "clear_all_nonce_caches",
    "client",
    "events",
    "fetch_ipfs_json",
    "fix_nonce",
    "get_nonce_info",
    "ipfs",
    "protocol",
    "publish_to_ipfs",
    "reset",
    "reset_nonce_cache",
    "set_verbose",
    "types",
    "using",
]

load_dotenv_files()
apply_env_verbose()

if TYPE_CHECKING:
    from ogpu import agent, chain, client, events, ipfs, protocol, types
    from ogpu import service as service
    from ogpu._compat import IgnoredArgumentsWarning
    from ogpu.chain import (
        ChainConfig,
        ChainId,
        clear_all_nonce_caches,
        fix_nonce,
        get_nonce_info,
        reset,
        reset_nonce_cache,
        using,
    )
    from ogpu.ipfs import fetch_ipfs_json, publish_to_ipfs
else:  # loaded on first use: ``import ogpu`` imports no web3
    __getattr__, __dir__ = lazy_imports(__name__, globals())
