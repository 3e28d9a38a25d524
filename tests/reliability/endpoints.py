"""Fixtures pointing the SDK's chain endpoint at a test server (test support)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ogpu.chain import ChainConfig, ChainId, Web3Manager

__all__ = ["mainnet_at"]


@pytest.fixture
def mainnet_at() -> Iterator[Callable[[str], None]]:
    def point(url: str) -> None:
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)
        Web3Manager.update_rpc_url(ChainId.OGPU_MAINNET, url)

    yield point
    ChainConfig.reset_rpc(ChainId.OGPU_MAINNET)
    Web3Manager.clear()
