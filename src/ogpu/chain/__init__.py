"""Chain infrastructure: chain selection, Web3 instances, nonces, signers; the SDK's
state in one context (:mod:`ogpu.chain.context`: ``using`` for a scoped override,
``reset`` for tests).

A leaf layer: it imports ``ogpu.types`` and the generated bindings, nothing higher.
"""

from __future__ import annotations

from ogpu.chain.config import CHAIN_RPC_URLS, DEFAULT_RPC_URLS, ChainConfig, ChainId
from ogpu.chain.context import reset, using
from ogpu.chain.nonce import (
    NonceManager,
    clear_all_nonce_caches,
    fix_nonce,
    get_nonce_info,
    reset_nonce_cache,
)
from ogpu.chain.signer import resolve_signer
from ogpu.chain.web3 import WEB3, Web3Manager, get_web3_for_chain

__all__ = [
    "CHAIN_RPC_URLS",
    "DEFAULT_RPC_URLS",
    "WEB3",
    "ChainConfig",
    "ChainId",
    "NonceManager",
    "Web3Manager",
    "clear_all_nonce_caches",
    "fix_nonce",
    "get_nonce_info",
    "get_web3_for_chain",
    "reset",
    "reset_nonce_cache",
    "resolve_signer",
    "using",
]
