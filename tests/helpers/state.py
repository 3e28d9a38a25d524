"""The variables a test must not inherit from the developer's shell (the SDK's own state
is reset by ``ogpu.reset()``)."""

from __future__ import annotations

import pytest

__all__ = ["ROLE_VARS", "SDK_VARS", "no_role_keys"]

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
