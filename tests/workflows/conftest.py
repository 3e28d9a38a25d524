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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

import ogpu
from ogpu.chain import ChainConfig, NonceManager
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS, Deployment, DevnetAccount
from ogpu.devnet.store import ContentStore, StoreServer
from ogpu.protocol import Response as ResponseProxy
from ogpu.protocol import Source, nexus, terminal, vault
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    SourceInfo,
)

from ..helpers import world as builders
from ..helpers.ganache import running_ganache
from ..helpers.proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
ETHER = 10**18


# -- nodes ----------------------------------------------------------------------------------------


@dataclass
class Node:
    """A chain reachable over HTTP with the suite deployed, and a content store."""

    kind: str
    rpc_url: str
    store_url: str
    deployment: Deployment
    rpc_proxy: FaultProxy = field(init=False)
    store_proxy: FaultProxy = field(init=False)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.rpc_proxy = FaultProxy(self.rpc_url).start()
        self.store_proxy = FaultProxy(self.store_url).start()

    def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC request straight to the node (not counted by the proxy)."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = self.session.post(self.rpc_url, json=body, timeout=30).json()
        if "error" in answer:
            raise AssertionError(f"{method} failed: {answer['error']}")
        return answer["result"]

    def close(self) -> None:
        self.rpc_proxy.stop()
        self.store_proxy.stop()


@pytest.fixture(scope="session")
def devnet_node() -> Iterator[Node]:
    from ogpu.devnet.serve import start_services

    services = start_services(port=0, store_port=0)
    node = Node("devnet", services.rpc_url, services.store_url, services.devnet.deployment)
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
            node = Node("ganache", url, store.url, Deployment.from_json(deployed.stdout))
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


@dataclass
class Net:
    """The selected node plus helpers that build protocol state through the public API."""

    node: Node
    client: DevnetAccount = CLIENTS[0]
    other_client: DevnetAccount = CLIENTS[1]
    master: DevnetAccount = MASTERS[0]
    other_master: DevnetAccount = MASTERS[1]
    provider: DevnetAccount = PROVIDERS[0]
    other_provider: DevnetAccount = PROVIDERS[1]
    agent: DevnetAccount = AGENTS[0]
    other_agent: DevnetAccount = AGENTS[1]

    @property
    def rpc(self) -> FaultProxy:
        return self.node.rpc_proxy

    @property
    def store(self) -> FaultProxy:
        return self.node.store_proxy

    def nonce(self, account: DevnetAccount) -> int:
        """Mined transaction count of ``account``, read straight from the node."""
        return int(self.node.call("eth_getTransactionCount", [account.address, "latest"]), 16)

    def now(self) -> int:
        """max(latest block time, wall clock): the next block's timestamp, near enough."""
        block = self.node.call("eth_getBlockByNumber", ["latest", False])
        return max(int(block["timestamp"], 16), int(time.time()))

    def block_number(self) -> int:
        return int(self.node.call("eth_blockNumber", []), 16)

    def source_info(
        self,
        *,
        delivery: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION,
        min_payment: int = 10**15,
        min_lockup: int = 0,
        max_expiry: int = 3600,
        name: str = "sentiment-analyzer",
    ) -> SourceInfo:
        return SourceInfo(
            name=name,
            description="DistilBERT-based sentiment classifier",
            logoUrl="https://example.com/logo.png",
            imageEnvs=ImageEnvironments(
                cpu="https://example.com/docker-compose.yml",
                nvidia="https://example.com/docker-compose.gpu.yml",
            ),
            minPayment=min_payment,
            minAvailableLockup=min_lockup,
            maxExpiryDuration=max_expiry,
            deliveryMethod=delivery,
        )

    def fund(self, account: DevnetAccount, amount: int = ETHER) -> Receipt:
        return vault.deposit(account.address, amount, signer=account.account)

    def pair(self, master: DevnetAccount, provider: DevnetAccount, stake: int = ETHER) -> None:
        terminal.announce_provider(provider.address, stake, signer=master.account)
        terminal.announce_master(master.address, signer=provider.account)

    def register(
        self,
        source: Source,
        provider: DevnetAccount = PROVIDERS[0],
        master: DevnetAccount = MASTERS[0],
    ) -> None:
        self.pair(master, provider)
        nexus.register(source.address, provider.address, Environment.CPU, signer=provider.account)

    @contextmanager
    def nothing_sent(self, *accounts: DevnetAccount) -> Iterator[None]:
        """Assert the block sends no transaction and pins nothing (counted at the wire)."""
        watched = accounts or (self.client,)
        before = [self.nonce(a) for a in watched]
        self.rpc.reset_counts()
        self.store.reset_counts()
        yield
        assert self.rpc.count("eth_sendRawTransaction") == 0
        assert self.store.posts() == 0
        assert [self.nonce(a) for a in watched] == before

    def respond(self, task: str, provider: DevnetAccount, data: str) -> ResponseProxy:
        """The provider submits a response through ``ogpu.protocol`` (request + executor)."""
        return builders.respond(task, provider, data)


@pytest.fixture
def net(node: Node, monkeypatch: pytest.MonkeyPatch) -> Iterator[Net]:
    snapshot = node.call("evm_snapshot", [])
    NonceManager.clear_all()
    ChainConfig.use_devnet(node.deployment, rpc=node.rpc_proxy.url)
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", node.store_proxy.url)
    monkeypatch.delenv("OGPU_IPFS_GATEWAY", raising=False)
    node.rpc_proxy.clear()
    node.store_proxy.clear()
    try:
        yield Net(node)
    finally:
        node.rpc_proxy.clear()
        node.store_proxy.clear()
        ogpu.reset()
        node.call("evm_revert", [snapshot])
