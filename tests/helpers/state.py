"""The variables a test must not inherit from the developer's shell, and the SDK pointed
at a devnet (and IPFS at its store) for a block (``devnet_selected``: its state reset by
``ogpu.reset()`` after)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from web3 import Web3

import ogpu
from ogpu.chain import ChainConfig, NonceManager

__all__ = ["ROLE_VARS", "SDK_VARS", "devnet_selected", "no_role_keys"]

ROLE_VARS = (
    "CLIENT_PRIVATE_KEY",
    "PROVIDER_PRIVATE_KEY",
    "MASTER_PRIVATE_KEY",
    "AGENT_PRIVATE_KEY",
)
SDK_VARS = (
    "OGPU_CHAIN",
    "OGPU_RPC_URL",
    "OGPU_DEVNET_DEPLOYMENT",
    "OGPU_IPFS_BACKEND",
    "OGPU_IPFS_API_URL",
    "OGPU_IPFS_GATEWAY",
)


@pytest.fixture(autouse=True)
def no_role_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No role key from the developer's environment reaches a test (suite-wide, from the
    root conftest); a test that needs one sets it."""
    for name in ROLE_VARS:
        monkeypatch.delenv(name, raising=False)


@contextmanager
def devnet_selected(
    deployment: object,
    rpc: str | None = None,
    *,
    web3: Web3 | None = None,
    store: str | None = None,
) -> Iterator[None]:
    """The SDK on ``deployment`` (through ``rpc``, or the in-process ``web3``) with empty
    nonce caches and, with ``store``, ``ogpu.ipfs`` on that devnet content store through
    the environment a user would set (``OGPU_IPFS_BACKEND``/``OGPU_IPFS_API_URL``, no
    gateway); on exit every piece of SDK state back to its defaults, then the environment
    as it was. No RPC."""
    with pytest.MonkeyPatch.context() as env:
        NonceManager.clear_all()
        ChainConfig.use_devnet(deployment, rpc, web3=web3)
        if store is not None:
            env.setenv("OGPU_IPFS_BACKEND", "devnet")
            env.setenv("OGPU_IPFS_API_URL", store)
            env.delenv("OGPU_IPFS_GATEWAY", raising=False)
        try:
            yield
        finally:
            ogpu.reset()
