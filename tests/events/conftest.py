"""The HTTP devnet, the suite's JSON-RPC proxy in front of it (tests/helpers/proxy.py), and a
plain-web3 protocol driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from ogpu.chain import ChainConfig, ChainId
from ogpu.devnet import CLIENTS, PROVIDERS, Deployment, load_artifact
from ogpu.devnet.serve import DevnetServices, start_services

from ..helpers.proxy import FaultProxy
from ..helpers.streams import until


def get_logs(proxy: FaultProxy, latest: bool = False) -> list[dict[str, Any]]:
    """The filters of the eth_getLogs calls received: to a block number, or (``latest``)
    to ``"latest"``."""
    with proxy.lock:
        calls = list(proxy.calls)
    filters = [c["params"][0] for c in calls if c.get("method") == "eth_getLogs"]
    return [f for f in filters if (f.get("toBlock") == "latest") is latest]


#: The request a poller's first poll makes: the head block alone.
HEAD = ["eth_getBlockByNumber"]


def is_poll(methods: list[str]) -> bool:
    """One poll's batch: exactly one eth_getLogs, then block headers (the head first)."""
    return (
        len(methods) >= 2
        and methods[0] == "eth_getLogs"
        and all(m == "eth_getBlockByNumber" for m in methods[1:])
    )


def batches_seen(proxy: FaultProxy) -> int:
    """HTTP requests (single or batch) the proxy has received since its last reset."""
    with proxy.lock:
        return len(proxy.batches)


async def more_requests(proxy: FaultProxy, count: int) -> None:
    """Wait until ``count`` more HTTP requests reached the proxy (the poller kept polling)."""
    seen = batches_seen(proxy)
    await until(lambda: batches_seen(proxy) >= seen + count)


def wider_than(blocks: int, driver: Driver) -> Callable[[list[Any]], bool]:
    """Whether an eth_getLogs call (its params) spans more than ``blocks`` blocks."""

    def wide(params: list[Any]) -> bool:
        bounds = [params[0].get(key, "latest") for key in ("fromBlock", "toBlock")]
        low, high = (driver.head() if b == "latest" else int(b, 16) for b in bounds)
        return high - low + 1 > blocks

    return wide


@dataclass
class Driver:
    """Drives the protocol with plain web3 (directly on the devnet, bypassing the proxy)."""

    w3: Web3
    deployment: Deployment

    def __post_init__(self) -> None:
        d = self.deployment
        self.nexus = self.w3.eth.contract(d.nexus, abi=load_artifact("Nexus").abi)
        self.controller = self.w3.eth.contract(d.controller, abi=load_artifact("Controller").abi)
        self.vault = self.w3.eth.contract(d.vault, abi=load_artifact("Vault").abi)
        self.client = CLIENTS[0].address
        self.providers = [p.address for p in PROVIDERS]
        self._funded: set[str] = set()

    def send(self, call: Any, sender: str, value: int = 0) -> TxReceipt:
        tx_hash = call.transact({"from": sender, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["status"] == 1, receipt
        return receipt

    def mine(self) -> None:
        """One empty block, so the head moves past the last transaction."""
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def nexus_events(self, receipt: TxReceipt, name: str) -> list[Any]:
        return list(self.nexus.events[name]().process_receipt(receipt, errors=DISCARD))

    def fund(self, provider: str) -> None:
        if provider in self._funded:
            return
        self.send(self.vault.functions.deposit(provider), provider, value=3 * 10**18)
        self.send(self.vault.functions.lock(2 * 10**18), provider)
        self._funded.add(provider)

    def new_source(self) -> tuple[str, TxReceipt]:
        params = (
            self.client,
            "https://example.invalid/meta.json",
            1,
            1000,
            0,
            3600,
            False,
            "",
            0,
            0,
        )
        receipt = self.send(self.nexus.functions.publishSource(params), self.client)
        (event,) = self.nexus_events(receipt, "SourcePublished")
        return str(event["args"]["source"]), receipt

    def register(self, source: str, provider: str) -> TxReceipt:
        self.fund(provider)
        return self.send(self.nexus.functions.register(source, provider, 1), provider)

    def publish_task(self, source: str, payment: int = 10**15) -> tuple[str, TxReceipt]:
        self.send(self.vault.functions.deposit(self.client), self.client, value=payment)
        expiry = int(self.w3.eth.get_block("latest")["timestamp"]) + 1800
        call = self.controller.functions.publishTask(
            (source, "https://cfg.invalid", expiry, payment)
        )
        receipt = self.send(call, self.client)
        (event,) = self.nexus_events(receipt, "TaskPublished")
        return str(event["args"]["task"]), receipt

    def attempt(self, task: str, provider: str, suggested: int = 7) -> TxReceipt:
        return self.send(self.nexus.functions.attempt(task, provider, suggested), provider)

    def submit(self, task: str, provider: str, data: str) -> tuple[str, TxReceipt]:
        call = self.nexus.functions.submitResponse((task, provider, data, 10**15))
        receipt = self.send(call, provider)
        (event,) = self.nexus_events(receipt, "ResponseSubmitted")
        return str(event["args"]["response"]), receipt

    def confirm(self, response: str) -> TxReceipt:
        return self.send(self.controller.functions.confirmResponse(response), self.client)


@pytest.fixture(scope="session")
def services() -> Iterator[DevnetServices]:
    with start_services(port=0, store_port=0) as svc:  # no state file: nothing saved
        yield svc


@pytest.fixture(scope="session")
def driver(services: DevnetServices) -> Driver:
    return Driver(Web3(Web3.HTTPProvider(services.rpc_url)), services.devnet.deployment)


@pytest.fixture
def make_driver() -> type[Driver]:
    """The Driver class, for tests that drive another chain (e.g. the in-process devnet)."""
    return Driver


@pytest.fixture
def proxy(services: DevnetServices) -> Iterator[FaultProxy]:
    with FaultProxy(services.rpc_url) as rpc_proxy:
        yield rpc_proxy


@pytest.fixture
def on_devnet(services: DevnetServices, proxy: FaultProxy) -> Iterator[FaultProxy]:
    """Point ogpu.chain at the devnet through the proxy; restore mainnet afterwards."""
    ChainConfig.use_devnet(services.devnet.deployment, rpc=proxy.url)
    try:
        yield proxy
    finally:
        ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)
