"""``World``: the one scenario builder of tests/protocol (``world``), tests/workflows and
tests/reliability (``net``): devnet accounts, protocol state built through the public API,
and reads of the chain that go around the SDK (``node``), to check the SDK against.

The suites differ only in what they pass: the node reads (``InProcessNode`` of the
in-process devnet, or ``RpcNode``: JSON-RPC straight to the node's URL, not through the
proxy), the proxies the SDK talks through (``rpc_proxy``, ``store_proxy``), the default
stake of ``pair`` and whether ``register`` pairs the master and provider first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from ogpu_bindings import nexus as nexus_abi

from ogpu.chain import ChainConfig
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
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
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    ResponseParams,
    SourceInfo,
    SourceParams,
    TaskInfo,
    TaskInput,
    TaskParams,
)

from .proxy import FaultProxy
from .wait import wait_until

__all__ = ["ETHER", "InProcessNode", "Node", "RpcNode", "World", "respond", "source_params"]

ETHER = 10**18


def source_params(
    client: str,
    *,
    delivery: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION,
    min_payment: int = 10**15,
    min_lockup: int = 0,
    max_expiry: int = 3600,
    envs: Environment = Environment.CPU | Environment.NVIDIA,
    metadata_url: str = "https://example.invalid/meta.json",
) -> SourceParams:
    """Nexus ``publishSource`` parameters of a plain source owned by ``client``. No RPC."""
    return SourceParams(
        client=client,
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


def respond(task: str, provider: DevnetAccount, data: str) -> Response:
    """``provider`` submits ``data`` for ``task`` through ``ogpu.protocol`` (a generated
    request and the executor) on the selected chain; the new Response (its RPCs: one write)."""
    params = ResponseParams(task=task, provider=provider.address, data=data, payment=0)
    request = nexus_abi.submit_response(ChainConfig.get_contract_address("NEXUS"), params)
    receipt = execute_request(request, provider.account)
    for log in receipt.logs:
        if type(log).__name__ == "ResponseSubmittedEvent":
            return Response(log.response)
    raise AssertionError("no ResponseSubmitted event")


# -- reads around the SDK --------------------------------------------------------------------


class Node(Protocol):
    """The chain read directly, never through the SDK or its proxy."""

    def nonce(self, address: str) -> int:
        """Mined transaction count of ``address``."""
        ...

    def now(self) -> int:
        """The time a new task's expiry is counted from."""
        ...


@dataclass
class InProcessNode:
    """Reads of the in-process devnet (no RPC)."""

    devnet: Devnet

    def nonce(self, address: str) -> int:
        with self.devnet.lock:
            return int(self.devnet.tester.get_nonce(address))

    def now(self) -> int:
        """The latest block's timestamp."""
        return self.devnet.timestamp()


@dataclass
class RpcNode:
    """JSON-RPC straight to a node's URL (not through the proxy, so not counted)."""

    rpc_url: str
    session: requests.Session = field(init=False, repr=False, default_factory=requests.Session)

    def call(self, method: str, params: list[Any]) -> Any:
        """One request; AssertionError when the node answers an error."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = self.session.post(self.rpc_url, json=body, timeout=30).json()
        if "error" in answer:
            raise AssertionError(f"{method} failed: {answer['error']}")
        return answer["result"]

    def nonce(self, address: str) -> int:
        return int(self.call("eth_getTransactionCount", [address, "latest"]), 16)

    def now(self) -> int:
        """max(latest block time, wall clock): the next block's timestamp, near enough."""
        block = self.call("eth_getBlockByNumber", ["latest", False])
        return max(int(block["timestamp"], 16), int(time.time()))


# -- the scenario ----------------------------------------------------------------------------


@dataclass
class World:
    """Accounts, builders of protocol state through the public API, and direct reads.

    ``stake``: what ``pair`` stakes unless told; ``register_pairs``: ``register`` pairs
    the master and provider first (else the test pairs them itself).
    """

    node: Node
    devnet: Devnet | None = None  # the in-process chain, when the suite has one
    rpc_proxy: FaultProxy | None = None  # between the SDK and the node
    store_proxy: FaultProxy | None = None  # between the SDK and the content store
    store_url: str = ""  # the content store the SDK uses
    stake: int = 2 * ETHER
    register_pairs: bool = True
    client: DevnetAccount = CLIENTS[0]
    other_client: DevnetAccount = CLIENTS[1]
    master: DevnetAccount = MASTERS[0]
    other_master: DevnetAccount = MASTERS[1]
    provider: DevnetAccount = PROVIDERS[0]
    other_provider: DevnetAccount = PROVIDERS[1]
    agent: DevnetAccount = AGENTS[0]
    other_agent: DevnetAccount = AGENTS[1]

    #: Poll a predicate until true (coordination only, never a timing assertion).
    wait_until = staticmethod(wait_until)

    @classmethod
    def in_process(cls, devnet: Devnet, **kwargs: Any) -> World:
        """A world on ``devnet`` whose direct reads are in process (whatever the SDK uses)."""
        return cls(InProcessNode(devnet), devnet=devnet, **kwargs)

    @property
    def rpc(self) -> FaultProxy:
        assert self.rpc_proxy is not None, "this scenario has no RPC proxy"
        return self.rpc_proxy

    @property
    def store(self) -> FaultProxy:
        assert self.store_proxy is not None, "this scenario has no content-store proxy"
        return self.store_proxy

    # -- direct reads (around the SDK) --

    def nonce(self, who: DevnetAccount | str) -> int:
        """Mined transaction count of an account or address."""
        return self.node.nonce(who if isinstance(who, str) else who.address)

    def now(self) -> int:
        return self.node.now()

    def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC request straight to the node (an ``RpcNode`` only)."""
        assert isinstance(self.node, RpcNode), "direct JSON-RPC needs an RpcNode"
        return self.node.call(method, params)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.call("eth_getTransactionReceipt", [tx_hash])
        return found

    def published_tasks(self, source: str) -> list[str]:
        """Tasks of ``source`` from Nexus' TaskPublished logs (read from the node directly)."""
        from ogpu_bindings.nexus import TASK_PUBLISHED_TOPIC, decode_task_published

        query = {
            "fromBlock": "0x0",
            "toBlock": "latest",
            "address": ChainConfig.get_contract_address("NEXUS"),
            "topics": [TASK_PUBLISHED_TOPIC],
        }
        events = [decode_task_published(log) for log in self.call("eth_getLogs", [query])]
        return [e.task for e in events if e.source.lower() == source.lower()]

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

    # -- builders (through the SDK) --

    def source_params(self, *, client: DevnetAccount | None = None, **kwargs: Any) -> SourceParams:
        return source_params((client or self.client).address, **kwargs)

    def source(self, *, client: DevnetAccount | None = None, **kwargs: Any) -> Source:
        owner = client or self.client
        params = self.source_params(client=owner, **kwargs)
        return Source(extract_source_address(nexus.publish_source(params, signer=owner.account)))

    def source_info(
        self,
        *,
        delivery: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION,
        min_payment: int = 10**15,
        min_lockup: int = 0,
        max_expiry: int = 3600,
        name: str = "sentiment-analyzer",
    ) -> SourceInfo:
        """``client.publish_source`` input of a plain CPU + NVIDIA source. No RPC."""
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

    def task_params(
        self,
        source: Source | str,
        *,
        payment: int = 10**16,
        expires_in: int = 600,
        config: str = "https://example.invalid/task.json",
    ) -> TaskParams:
        """Controller ``publishTask`` parameters expiring ``expires_in`` s from ``now()``."""
        address = source if isinstance(source, str) else source.address
        return TaskParams(
            source=address, config=config, expiryTime=self.now() + expires_in, payment=payment
        )

    def task_info(
        self,
        source: Source | str,
        *,
        function: str = "predict",
        data: dict[str, Any] | None = None,
        payment: int = 10**16,
        expires_in: int = 600,
    ) -> TaskInfo:
        """``client.publish_task`` input: ``function(data)`` (default ``{"text": "hi"}``)
        on ``source``, expiring ``expires_in`` s from ``now()``."""
        return TaskInfo(
            source=source if isinstance(source, str) else source.address,
            config=TaskInput(function_name=function, data={"text": "hi"} if data is None else data),
            expiryTime=self.now() + expires_in,
            payment=payment,
        )

    def task(self, source: Source | str, **kwargs: Any) -> Task:
        """A task of ``source`` published by the client (``task_params``' keywords)."""
        params = self.task_params(source, **kwargs)
        receipt = controller.publish_task(params, signer=self.client.account)
        return Task(extract_task_address(receipt))

    def pair(
        self,
        master: DevnetAccount | None = None,
        provider: DevnetAccount | None = None,
        stake: int | None = None,
    ) -> None:
        """The master announces the provider with ``stake`` (default ``self.stake``), and
        the provider announces the master."""
        master, provider = master or self.master, provider or self.provider
        amount = self.stake if stake is None else stake
        terminal.announce_provider(provider.address, amount, signer=master.account)
        terminal.announce_master(master.address, signer=provider.account)

    def register(
        self,
        source: Source,
        provider: DevnetAccount | None = None,
        master: DevnetAccount | None = None,
    ) -> Provider:
        """The provider registers to ``source`` (paired with ``master`` first when
        ``register_pairs``)."""
        provider = provider or self.provider
        if self.register_pairs:
            self.pair(master, provider)
        nexus.register(source.address, provider.address, Environment.CPU, signer=provider.account)
        return Provider(provider.address)

    def attempted_task(self) -> tuple[Source, Task]:
        """A new source (the client funded) and a task of it, attempted by the provider,
        registered first (its RPCs: five writes and more)."""
        self.fund(self.client)
        source = self.source()
        task = self.task(source)
        self.register(source)
        nexus.attempt(task.address, self.provider.address, 1, signer=self.provider.account)
        return source, task

    def respond(
        self,
        task: Task | str,
        provider: DevnetAccount | None = None,
        data: str = "https://example.invalid/out.json",
    ) -> Response:
        address = task if isinstance(task, str) else task.address
        return respond(address, provider or self.provider, data)
