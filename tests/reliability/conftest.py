"""Fixtures of the reliability suite: a real chain over HTTP behind ``FaultProxy``.

- ``upstream`` (session): the devnet's JSON-RPC server over the session chain
  (``rpc_server`` of tests/helpers/served.py, as ``proxy`` and ``store``).
- ``proxy`` (session): the fault-injecting proxy in front of it; every SDK request
  in these tests passes it, so its counters are what reached the wire.
- ``store`` (session): the devnet content store (IPFS stand-in).
- ``net``: the chain (snapshot/revert per test) selected in ``ChainConfig`` through
  the proxy (``net.rpc``), IPFS routed to the store, fresh nonce caches, no faults
  installed: a ``World`` (tests/helpers/world.py) whose direct reads go to
  ``upstream`` and whose ``register`` does not pair (tests pair with ``net.pair()``).
- ``source_address`` (module): a funded client and its source; ``source``: it, per test;
  ``short_timeout``: the SDK's HTTP timeout cut to ``CLIENT_TIMEOUT``.
- ``row``: records a line of ``docs/RELIABILITY.md`` for the running test
  (``report.py`` keeps the lines of passing tests only).

The secrets guard (``secrets_guard.py``, registered for the whole suite by tests/conftest.py)
watches every test of this folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ogpu.chain import ChainId, Web3Manager
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import StoreServer
from ogpu.protocol import Source

from ..helpers.proxy import FaultProxy
from ..helpers.state import devnet_selected
from ..helpers.world import RpcNode, World
from .endpoints import mainnet_at

__all__ = ["mainnet_at"]

ROW_KEY = "reliability_row"


@pytest.fixture
def row(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``row(area=..., case=..., injected=..., outcome=..., **more)``: one table line."""

    def add(**fields: Any) -> None:
        request.node.user_properties.append((ROW_KEY, json.dumps(fields, sort_keys=True)))

    return add


# -- the wire --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def upstream(rpc_server: RpcServer) -> RpcServer:
    """The session chain's JSON-RPC server (tests/helpers/served.py), behind ``proxy``."""
    return rpc_server


@pytest.fixture(scope="session")
def store(store_server: StoreServer) -> StoreServer:
    return store_server


# -- the world -------------------------------------------------------------------------------


#: This suite's name for the shared scenario builder (tests/helpers/world.py).
Net = World


@contextmanager
def sdk_on(
    devnet: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[Net]:
    """Point the SDK at ``devnet`` through ``proxy`` and IPFS at ``store``; undo on exit."""
    proxy.clear()
    with devnet_selected(devnet.deployment, proxy.url, store=store.url):
        try:
            yield Net(
                RpcNode(upstream.url),
                devnet=devnet,
                rpc_proxy=proxy,
                store_url=store.url,
                register_pairs=False,
            )
        finally:
            proxy.clear()


@contextmanager
def kept_state(devnet: Devnet) -> Iterator[None]:
    """Chain changes made inside survive until the end of the ``with`` (module fixtures)."""
    snapshot = devnet.snapshot()
    try:
        yield
    finally:
        devnet.revert(snapshot)


@pytest.fixture
def net(
    devnet: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[Net]:
    """The SDK on the chain through the proxy; the chain reverts when the test ends."""
    with sdk_on(devnet, proxy, upstream, store) as world:
        yield world


# -- write-path fixtures (tests/reliability/writes.py runs the scenarios) -----------------

#: The client's HTTP timeout under ``short_timeout`` (s).
CLIENT_TIMEOUT = 1.0


@pytest.fixture
def short_timeout(net: Net, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Build the SDK's Web3 with a short HTTP timeout (``ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT``)."""
    monkeypatch.setattr("ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT", CLIENT_TIMEOUT)
    Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, net.rpc.url)
    yield


@pytest.fixture(scope="module")
def source_address(
    devnet_session: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[str]:
    """A funded client and its source, built once for the module."""
    with kept_state(devnet_session):
        with sdk_on(devnet_session, proxy, upstream, store) as world:
            world.fund(world.client)
            address = world.source().address
        yield address


@pytest.fixture
def source(net: Net, source_address: str) -> Source:
    return Source(source_address)
