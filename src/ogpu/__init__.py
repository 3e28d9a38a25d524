"""ogpu: the Python SDK for the OpenGPU network.

The top-level names below load on first use, so ``import ogpu.service`` (inside
a source's container) or ``import ogpu`` costs no web3 import until the chain
layer is actually needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
else:
    # Runtime only (type checkers see the imports above and keep flagging unknown names).
    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'ogpu' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
