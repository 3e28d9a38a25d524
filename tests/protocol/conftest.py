"""Fixtures for the protocol-layer tests.

- ``net``: the in-process devnet (snapshot/revert per test) selected in ``ChainConfig``.
- ``http_net``: the same chain served over real HTTP (the devnet's JSON-RPC server)
  behind ``FaultProxy`` (tests/helpers/proxy.py), which counts the requests reaching
  the node and injects faults (a lost answer, a lost request, a node error).
- ``world``: helpers that build protocol state (sources, tasks, pairings...) through
  the public API.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import ogpu
from ogpu.chain import ChainConfig, NonceManager
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.devnet.store import StoreServer
from ogpu.protocol import (
    Provider,
    Response,
    Source,
    Task,
    controller,
    extract_source_address,
    extract_task_address,
    nexus,
    terminal,
    vault,
)
from ogpu.types import (
    Environment,
    Receipt,
    SourceParams,
    TaskParams,
)

from ..helpers import world as builders
from ..helpers.proxy import FaultProxy
from ..helpers.wait import wait_until

ETHER = 10**18


@pytest.fixture
def net(devnet: Devnet) -> Iterator[Devnet]:
    """The devnet, in process, selected as the active chain (fresh nonce caches)."""
    NonceManager.clear_all()
    ChainConfig.use_devnet(devnet.deployment, web3=devnet.w3)
    try:
        yield devnet
    finally:
        ogpu.reset()


# -- HTTP: the session servers (rpc_server, proxy, store_server: tests/helpers/served.py) -----


@pytest.fixture
def http_net(devnet: Devnet, proxy: FaultProxy) -> Iterator[Devnet]:
    """The devnet over HTTP through the proxy (no faults, counters at 0), selected as the
    active chain."""
    NonceManager.clear_all()
    ChainConfig.use_devnet(devnet.deployment, rpc=proxy.url)
    proxy.clear()
    try:
        yield devnet
    finally:
        proxy.clear()
        ogpu.reset()


@pytest.fixture
def ipfs(store_server: StoreServer, monkeypatch: pytest.MonkeyPatch) -> StoreServer:
    """Route ``ogpu.ipfs`` to the devnet content store."""
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", store_server.url)
    return store_server


# -- protocol state builders -----------------------------------------------------------------


@dataclass
class World:
    devnet: Devnet
    client: DevnetAccount = CLIENTS[0]
    other_client: DevnetAccount = CLIENTS[1]
    master: DevnetAccount = MASTERS[0]
    provider: DevnetAccount = PROVIDERS[0]
    other_provider: DevnetAccount = PROVIDERS[1]

    def source_params(self, **kwargs: Any) -> SourceParams:
        return builders.source_params(self.client.address, **kwargs)

    def source(self, **kwargs: Any) -> Source:
        receipt = nexus.publish_source(self.source_params(**kwargs), signer=self.client.account)
        return Source(extract_source_address(receipt))

    def fund(self, account: DevnetAccount, amount: int = ETHER) -> Receipt:
        return vault.deposit(account.address, amount, signer=account.account)

    def task(self, source: Source, *, payment: int = 10**16, expires_in: int = 600) -> Task:
        params = TaskParams(
            source=source.address,
            config="https://example.invalid/task.json",
            expiryTime=self.devnet.timestamp() + expires_in,
            payment=payment,
        )
        receipt = controller.publish_task(params, signer=self.client.account)
        return Task(extract_task_address(receipt))

    def pair(self, master: DevnetAccount, provider: DevnetAccount, stake: int = 2 * ETHER) -> None:
        terminal.announce_provider(provider.address, stake, signer=master.account)
        terminal.announce_master(master.address, signer=provider.account)

    def registered(
        self,
        source: Source,
        provider: DevnetAccount = PROVIDERS[0],
        master: DevnetAccount = MASTERS[0],
    ) -> Provider:
        self.pair(master, provider)
        nexus.register(source.address, provider.address, Environment.CPU, signer=provider.account)
        return Provider(provider.address)

    def tx_count(self, address: str) -> int:
        """Mined transaction count of ``address`` (read in process, not over RPC)."""
        with self.devnet.lock:
            return int(self.devnet.tester.get_nonce(address))

    #: Poll a predicate until true (coordination only, never a timing assertion).
    wait_until = staticmethod(wait_until)

    def respond(self, task: Task, provider: DevnetAccount, data: str) -> Response:
        return builders.respond(task.address, provider, data)


@pytest.fixture
def world(net: Devnet) -> World:
    return World(net)


@pytest.fixture
def http_world(http_net: Devnet) -> World:
    return World(http_net)
