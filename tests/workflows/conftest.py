"""Fixtures for the workflow tests: a real node over HTTP, counted at the wire.

- ``node`` (session, parametrized): the embedded devnet served by
  ``ogpu.devnet.serve`` over JSON-RPC, or ganache (npm) with the suite deployed
  by ``ogpu devnet deploy`` plus a devnet content store. Tests on ganache carry
  the ``ganache`` mark and are skipped when its binary is absent.
- ``net``: the node selected in ``ChainConfig`` through ``FaultProxy``
  (tests/helpers/proxy.py), IPFS routed to the content store through a second one, and the chain
  reverted to a snapshot (``evm_snapshot``/``evm_revert``) after the test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ogpu.client import publish_source
from ogpu.devnet import Deployment
from ogpu.devnet.store import ContentStore, StoreServer
from ogpu.protocol import Source

from ..helpers.ganache import running_ganache
from ..helpers.proxy import FaultProxy
from ..helpers.state import devnet_selected
from ..helpers.world import ETHER, RpcNode, World

ROOT = Path(__file__).resolve().parents[2]


# -- nodes ----------------------------------------------------------------------------------------


@dataclass
class Node(RpcNode):
    """A chain reachable over HTTP with the suite deployed, and a content store; ``call``
    (from ``RpcNode``) goes to the node directly, not counted by the proxy."""

    kind: str
    store_url: str
    deployment: Deployment
    rpc_proxy: FaultProxy = field(init=False)
    store_proxy: FaultProxy = field(init=False)

    def __post_init__(self) -> None:
        self.rpc_proxy = FaultProxy(self.rpc_url).start()
        self.store_proxy = FaultProxy(self.store_url).start()

    def close(self) -> None:
        self.rpc_proxy.stop()
        self.store_proxy.stop()


@pytest.fixture(scope="session")
def devnet_node() -> Iterator[Node]:
    from ogpu.devnet.serve import start_services

    services = start_services(port=0, store_port=0)
    node = Node(services.rpc_url, "devnet", services.store_url, services.devnet.deployment)
    try:
        yield node
    finally:
        node.close()
        services.stop(save=False)


@pytest.fixture(scope="session")
def ganache_node() -> Iterator[Node]:
    store = StoreServer("127.0.0.1", 0, store=ContentStore())
    store.start()
    try:
        with running_ganache() as url:
            deployed = subprocess.run(
                [sys.executable, "-m", "ogpu.cli", "devnet", "deploy", "--rpc", url, "--json"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert deployed.returncode == 0, deployed.stderr
            node = Node(url, "ganache", store.url, Deployment.from_json(deployed.stdout))
            try:
                yield node
            finally:
                node.close()
    finally:
        store.stop()


@pytest.fixture(
    scope="session", params=["devnet", pytest.param("ganache", marks=pytest.mark.ganache)]
)
def node(request: pytest.FixtureRequest) -> Node:
    found: Node = request.getfixturevalue(f"{request.param}_node")
    return found


# -- the per-test world ---------------------------------------------------------------------------

#: This suite's name for the shared scenario builder (tests/helpers/world.py).
Net = World


@pytest.fixture
def net(node: Node) -> Iterator[Net]:
    snapshot = node.call("evm_snapshot", [])
    try:
        with devnet_selected(node.deployment, node.rpc_proxy.url, store=node.store_proxy.url):
            node.rpc_proxy.clear()
            node.store_proxy.clear()
            try:
                yield Net(
                    node,
                    rpc_proxy=node.rpc_proxy,
                    store_proxy=node.store_proxy,
                    store_url=node.store_proxy.url,
                    stake=ETHER,
                )
            finally:
                node.rpc_proxy.clear()
                node.store_proxy.clear()
    finally:
        node.call("evm_revert", [snapshot])


@pytest.fixture
def source(net: Net) -> Source:
    """The client funded (1 ETH) and a plain source of it (``client.publish_source``)."""
    net.fund(net.client, ETHER)
    return publish_source(net.source_info(), signer=net.client.account)
