"""ogpu: the Python SDK for the OpenGPU network.

The top-level names below load on first use, so ``import ogpu.service`` (inside
a source's container) or ``import ogpu`` costs no web3 import until the chain
layer is actually needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_attributes

__version__ = "0.3.0.dev0"

_LAZY = {
    "ChainConfig": "ogpu.chain",
    "ChainId": "ogpu.chain",
    "clear_all_nonce_caches": "ogpu.chain",
    "fix_nonce": "ogpu.chain",
    "get_nonce_info": "ogpu.chain",
    "reset_nonce_cache": "ogpu.chain",
}

__all__ = [
    "ChainConfig",
    "ChainId",
    "__version__",
    "clear_all_nonce_caches",
    "fix_nonce",
    "get_nonce_info",
    "reset_nonce_cache",
]

if TYPE_CHECKING:
    from ogpu.chain import (
        ChainConfig,
        ChainId,
        clear_all_nonce_caches,
        fix_nonce,
        get_nonce_info,
        reset_nonce_cache,
    )
else:  # runtime only: type checkers see the imports above
    __getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
