"""Fixtures of the reliability suite: a real chain over HTTP behind ``FaultProxy``.

- ``upstream`` (session): the devnet's JSON-RPC server over the session chain
  (``rpc_server`` of tests/helpers/served.py, as ``proxy`` and ``store``).
- ``proxy`` (session): the fault-injecting proxy in front of it; every SDK request
  in these tests passes it, so its counters are what reached the wire.
- ``store`` (session): the devnet content store (IPFS stand-in).
- ``net``: the chain (snapshot/revert per test) selected in ``ChainConfig`` through
  the proxy, IPFS routed to the store, fresh nonce caches, no faults installed.
- ``source_address`` (module): a funded client and its source; ``source``: it, per test;
  ``short_timeout``: the SDK's HTTP timeout cut to ``CLIENT_TIMEOUT``.
- ``row``: records a line of ``docs/RELIABILITY.md`` for the running test
  (``report.py`` keeps the lines of passing tests only).

The secrets guard (``secrets_guard.py``) watches every test of this folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests

import ogpu
from ogpu.chain import ChainConfig, ChainId, NonceManager, Web3Manager
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import StoreServer
from ogpu.protocol import (
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
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    SourceInfo,
    SourceParams,
    TaskParams,
)

from ..helpers import world as builders
from ..helpers.proxy import FaultProxy
from .endpoints import mainnet_at
from .secrets_guard import (
    ogpu_secrets_guard,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
    pytest_warning_recorded,
)

__all__ = [
    "mainnet_at",
    "ogpu_secrets_guard",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "pytest_warning_recorded",
]

ETHER = 10**18
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


@dataclass
class Net:
    """The chain behind the proxy, plus builders that use the public API (through the proxy)."""

    devnet: Devnet
    proxy: FaultProxy
    upstream_url: str
    store_url: str
    client: DevnetAccount = CLIENTS[0]
    other_client: DevnetAccount = CLIENTS[1]
    master: DevnetAccount = MASTERS[0]
    provider: DevnetAccount = PROVIDERS[0]
    agent: DevnetAccount = AGENTS[0]

    # direct reads (not through the proxy, not counted)
    def call(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = requests.post(self.upstream_url, json=body, timeout=30).json()
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer["result"]

    def nonce(self, account: DevnetAccount) -> int:
        return int(self.call("eth_getTransactionCount", [account.address, "latest"]), 16)

    def now(self) -> int:
        block = self.call("eth_getBlockByNumber", ["latest", False])
        return max(int(block["timestamp"], 16), int(time.time()))

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.call("eth_getTransactionReceipt", [tx_hash])
        return found

    def published_tasks(self, source: str) -> list[str]:
        """Tasks of ``source`` from Nexus' TaskPublished logs (read from the node directly)."""
        from ogpu_bindings.nexus import TASK_PUBLISHED_TOPIC, decode_task_published

        logs = self.call(
            "eth_getLogs",
            [
                {
                    "fromBlock": "0x0",
                    "toBlock": "latest",
                    "address": self.devnet.deployment.nexus,
                    "topics": [TASK_PUBLISHED_TOPIC],
                }
            ],
        )
        tasks = []
        for log in logs:
            event = decode_task_published(log)
            if event.source.lower() == source.lower():
                tasks.append(event.task)
        return tasks

    # builders (through the proxy, before faults are installed)
    def source_params(
        self,
        *,
        delivery: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION,
        min_payment: int = 10**15,
        client: DevnetAccount | None = None,
    ) -> SourceParams:
        owner = (client or self.client).address
        return builders.source_params(owner, delivery=delivery, min_payment=min_payment)

    def source_info(self) -> SourceInfo:
        return SourceInfo(
            name="reliability",
            description="a source for the reliability suite",
            logoUrl="https://example.com/logo.png",
            imageEnvs=ImageEnvironments(cpu="https://example.com/docker-compose.yml"),
            minPayment=10**15,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
        )

    def fund(self, account: DevnetAccount, amount: int = ETHER) -> Receipt:
        return vault.deposit(account.address, amount, signer=account.account)

    def source(self, **kwargs: Any) -> Source:
        owner = kwargs.get("client") or self.client
        receipt = nexus.publish_source(self.source_params(**kwargs), signer=owner.account)
        return Source(extract_source_address(receipt))

    def task(self, source: Source, *, payment: int = 10**16, expires_in: int = 600) -> Task:
        params = TaskParams(
            source=source.address,
            config="https://example.invalid/task.json",
            expiryTime=self.now() + expires_in,
            payment=payment,
        )
        receipt = controller.publish_task(params, signer=self.client.account)
        return Task(extract_task_address(receipt))

    def pair(self, stake: int = 2 * ETHER) -> None:
        terminal.announce_provider(self.provider.address, stake, signer=self.master.account)
        terminal.announce_master(self.master.address, signer=self.provider.account)

    def register(self, source: Source) -> None:
        nexus.register(
            source.address, self.provider.address, Environment.CPU, signer=self.provider.account
        )

    def respond(self, task: Task, data: str = "https://example.invalid/out.json") -> Response:
        return builders.respond(task.address, self.provider, data)


@contextmanager
def sdk_on(
    devnet: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[Net]:
    """Point the SDK at ``devnet`` through ``proxy`` and IPFS at ``store``; undo on exit."""
    NonceManager.clear_all()
    proxy.clear()
    ChainConfig.use_devnet(devnet.deployment, rpc=proxy.url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OGPU_IPFS_BACKEND", "devnet")
        patch.setenv("OGPU_IPFS_API_URL", store.url)
        patch.delenv("OGPU_IPFS_GATEWAY", raising=False)
        try:
            yield Net(devnet, proxy, upstream.url, store.url)
        finally:
            proxy.clear()
            ogpu.reset()


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
    Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, net.proxy.url)
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
