"""The session devnet over loopback HTTP, shared by every folder (root conftest):
``rpc_server`` (its JSON-RPC server), ``proxy`` (``FaultProxy`` in front of it) and
``store_server`` (a devnet content store, the IPFS stand-in).

The chain behind them is ``devnet_session``: a test's changes are reverted by the
``devnet`` fixture; the proxy's rules and counters are cleared by the fixtures that
select it (``http_net`` in tests/protocol, ``net`` in tests/reliability).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import JsonRpcDispatcher, RpcServer
from ogpu.devnet.store import ContentStore, StoreServer

from .proxy import FaultProxy

__all__ = ["proxy", "rpc_server", "store_server"]


@pytest.fixture(scope="session")
def rpc_server(devnet_session: Devnet) -> Iterator[RpcServer]:
    """The devnet's JSON-RPC server over the session chain, on a free loopback port."""
    dispatcher = JsonRpcDispatcher(devnet_session.tester, devnet_session.lock)
    with RpcServer(dispatcher, "127.0.0.1", 0) as server:
        yield server


@pytest.fixture(scope="session")
def proxy(rpc_server: RpcServer) -> Iterator[FaultProxy]:
    """``FaultProxy`` in front of ``rpc_server``: what the SDK sends passes it."""
    with FaultProxy(rpc_server.url) as faulty:
        yield faulty


@pytest.fixture(scope="session")
def store_server() -> Iterator[StoreServer]:
    with StoreServer("127.0.0.1", 0, store=ContentStore()) as server:
        yield server
