"""Fixtures for the protocol-layer tests.

- ``net``: the in-process devnet (snapshot/revert per test) selected in ``ChainConfig``.
- ``http_net``: the same chain served over real HTTP (the devnet's JSON-RPC server)
  behind ``FaultProxy`` (tests/helpers/proxy.py), which counts the requests reaching
  the node and injects faults (a lost answer, a lost request, a node error).
- ``world``, ``http_world``: ``World`` (tests/helpers/world.py) over each: protocol
  state (sources, tasks, pairings...) built through the public API.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogpu.devnet.chain import Devnet
from ogpu.devnet.store import StoreServer

from ..helpers.proxy import FaultProxy
from ..helpers.state import devnet_selected
from ..helpers.world import World


@pytest.fixture
def net(devnet: Devnet) -> Iterator[Devnet]:
    """The devnet, in process, selected as the active chain (fresh nonce caches)."""
    with devnet_selected(devnet.deployment, web3=devnet.w3):
        yield devnet


# -- HTTP: the session servers (rpc_server, proxy, store_server: tests/helpers/served.py) -----


@pytest.fixture
def http_net(devnet: Devnet, proxy: FaultProxy) -> Iterator[Devnet]:
    """The devnet over HTTP through the proxy (no faults, counters at 0), selected as the
    active chain."""
    proxy.clear()
    with devnet_selected(devnet.deployment, proxy.url):
        try:
            yield devnet
        finally:
            proxy.clear()


@pytest.fixture
def ipfs(store_server: StoreServer, monkeypatch: pytest.MonkeyPatch) -> StoreServer:
    """Route ``ogpu.ipfs`` to the devnet content store."""
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", store_server.url)
    return store_server


# -- protocol state builders -----------------------------------------------------------------


@pytest.fixture
def world(net: Devnet) -> World:
    """Builders on the in-process chain; direct reads in process too."""
    return World.in_process(net)


@pytest.fixture
def http_world(http_net: Devnet) -> World:
    """Builders through the HTTP proxy; direct reads in process."""
    return World.in_process(http_net)
