"""ogpu: the Python SDK for the OpenGPU network."""

from __future__ import annotations

from ogpu.chain import (
    ChainConfig,
    ChainId,
    clear_all_nonce_caches,
    fix_nonce,
    get_nonce_info,
    reset_nonce_cache,
)

__version__ = "0.3.0.dev0"

__all__ = [
    "ChainConfig",
    "ChainId",
    "__version__",
    "clear_all_nonce_caches",
    "fix_nonce",
    "get_nonce_info",
    "reset_nonce_cache",
]
