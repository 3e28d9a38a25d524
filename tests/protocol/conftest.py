"""Fixtures for the protocol-layer tests.

- ``net``: the in-process devnet (snapshot/revert per test) selected in ``ChainConfig``.
- ``http_net``: the same chain served over real HTTP (the devnet's JSON-RPC server)
  behind ``FaultProxy`` (tests/helpers/proxy.py), which counts the requests reaching
  the node and injects faults (a lost answer, a lost request, a node error).
- ``world``: helpers that build protocol state (sources, tasks, pairings...) through
  the public API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ogpu_bindings import nexus as nexus_abi

import ogpu
from ogpu.chain import ChainConfig, NonceManager
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import JsonRpcDispatcher, RpcServer
from ogpu.devnet.store import ContentStore, StoreServer
from ogpu.protocol import (
    Provider,
    Response,
    Source,
    Task,
    controller,
    execute_request,
    extract_source_address,
    extract_task_address,
    nexus,
    terminal,
    vault,
)
from ogpu.protocol import _bindings as bindings
from ogpu.types import (
    DeliveryMethod,
    Environment,
    Receipt,
    ResponseParams,
    SourceParams,
    TaskParams,
)

from ..helpers.proxy import FaultProxy

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


# -- HTTP: the devnet's JSON-RPC server and the proxy in front of it ------------------------


@pytest.fixture(scope="session")
def rpc_server(devnet_session: Devnet) -> Iterator[RpcServer]:
    """The devnet's JSON-RPC server over the session chain, on a free loopback port."""
    dispatcher = JsonRpcDispatcher(devnet_session.tester, devnet_session.lock)
    server = RpcServer(dispatcher, "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def proxy(rpc_server: RpcServer) -> Iterator[FaultProxy]:
    counting = FaultProxy(rpc_server.url).start()
    try:
        yield counting
    finally:
        counting.stop()


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


@pytest.fixture(scope="session")
def store_server() -> Iterator[StoreServer]:
    server = StoreServer("127.0.0.1", 0, store=ContentStore())
    server.start()
    try:
        yield server
    finally:
        server.stop()


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

    def source_params(
        self,
        *,
        delivery: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION,
        min_payment: int = 10**15,
        min_lockup: int = 0,
        max_expiry: int = 3600,
        envs: Environment = Environment.CPU | Environment.NVIDIA,
        metadata_url: str = "https://example.invalid/meta.json",
    ) -> SourceParams:
        return SourceParams(
            client=self.client.address,
            imageMetadataUrl=metadata_url,
            imageEnvironments=envs,
            minPayment=min_payment,
            minAvailableLockup=min_lockup,
            maxExpiryDuration=max_expiry,
            privacyEnabled=False,
            optionalParamsUrl="",
            deliveryMethod=delivery,
            lastUpdateTime=0,
        )

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

    @staticmethod
    def wait_until(predicate: Any, timeout: float = 10.0) -> None:
        """Poll ``predicate`` until true (coordination only, never a timing assertion)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached")
            time.sleep(0.01)

    def respond(self, task: Task, provider: DevnetAccount, data: str) -> Response:
        params = ResponseParams(task=task.address, provider=provider.address, data=data, payment=0)
        request = nexus_abi.submit_response(bindings.singleton("NEXUS"), params)
        receipt = execute_request(request, provider.account)
        for log in receipt.logs:
            if type(log).__name__ == "ResponseSubmittedEvent":
                return Response(log.response)
        raise AssertionError("no ResponseSubmitted event")


@pytest.fixture
def world(net: Devnet) -> World:
    return World(net)


@pytest.fixture
def http_world(http_net: Devnet) -> World:
    return World(http_net)
