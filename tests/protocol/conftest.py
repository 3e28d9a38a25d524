"""Fixtures for the protocol-layer tests.

- ``net``: the in-process devnet (snapshot/revert per test) selected in ``ChainConfig``.
- ``http_net``: the same chain served over real HTTP (the devnet's JSON-RPC server)
  behind ``CountingProxy``, a loopback HTTP proxy that counts the requests reaching
  the node and can drop a connection to simulate a lost answer.
- ``world``: helpers that build protocol state (sources, tasks, pairings...) through
  the public API.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

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


# -- HTTP: the devnet's JSON-RPC server and a counting proxy in front of it -----------------


@dataclass
class CountingProxy:
    """Loopback HTTP proxy: forwards POSTs to ``upstream`` and records them.

    ``requests`` counts HTTP requests; ``methods`` lists JSON-RPC methods in
    order (batches expanded). One-shot faults, keyed by method (the loss
    faults hit the whole HTTP request carrying the method; the error faults
    only the method's item, a batch keeps its other answers):
    ``lose_answer`` forwards then closes the connection (the node acted, the
    client hears nothing); ``lose_request`` closes without forwarding;
    ``error_before`` answers a JSON-RPC error without forwarding;
    ``error_after`` forwards, then answers a JSON-RPC error instead of the
    result. ``blackhole`` methods are always dropped unforwarded;
    ``error_always`` methods always get the JSON-RPC error, unforwarded.
    """

    upstream: str
    requests: int = 0
    methods: list[str] = field(default_factory=list)
    lose_answer: set[str] = field(default_factory=set)
    lose_request: set[str] = field(default_factory=set)
    error_before: dict[str, str] = field(default_factory=dict)
    error_after: dict[str, str] = field(default_factory=dict)
    blackhole: set[str] = field(default_factory=set)
    error_always: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.methods.clear()

    def clear_faults(self) -> None:
        with self.lock:
            self.lose_answer.clear()
            self.lose_request.clear()
            self.error_before.clear()
            self.error_after.clear()
            self.blackhole.clear()
            self.error_always.clear()

    def count(self, method: str) -> int:
        with self.lock:
            return self.methods.count(method)

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        try:
            connection.request("POST", "/", body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def _with_errors(
        self,
        payload: Any,
        items: list[Any],
        early: list[str | None],
        late: list[str | None],
    ) -> bytes:
        """Forward the items without an ``early`` error, then answer each faulted item
        with its JSON-RPC error (a batch keeps its other answers)."""
        ahead = [item for item, e in zip(items, early, strict=True) if e is None]
        answers: dict[Any, Any] = {}
        if ahead:
            _, data = self._forward(
                json.dumps(ahead if isinstance(payload, list) else ahead[0]).encode()
            )
            got = json.loads(data)
            for answer in got if isinstance(got, list) else [got]:
                answers[answer.get("id")] = answer
        out = []
        for item, before, after in zip(items, early, late, strict=True):
            message = before if before is not None else after
            if message is not None:
                answers[item.get("id")] = {
                    "jsonrpc": "2.0",
                    "id": item.get("id"),
                    "error": {"code": -32000, "message": message},
                }
            out.append(answers.get(item.get("id")))
        return json.dumps(out if isinstance(payload, list) else out[0]).encode()

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                items = payload if isinstance(payload, list) else [payload]
                names = [str(item.get("method")) for item in items if isinstance(item, dict)]
                with proxy.lock:
                    proxy.requests += 1
                    proxy.methods.extend(names)
                    drop = bool(proxy.blackhole.intersection(names))
                    drop |= bool(proxy.lose_request.intersection(names))
                    proxy.lose_request.difference_update(names)
                    lose = bool(proxy.lose_answer.intersection(names))
                    proxy.lose_answer.difference_update(names)
                    early = [proxy.error_before.pop(n, proxy.error_always.get(n)) for n in names]
                    late = [proxy.error_after.pop(n, None) for n in names]
                if drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                faulty = any(e is not None for e in early + late)
                if not faulty:
                    status, data = proxy._forward(body)
                else:
                    status, data = 200, proxy._with_errors(payload, items, early, late)
                if lose:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


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
def proxy(rpc_server: RpcServer) -> Iterator[CountingProxy]:
    counting = CountingProxy(rpc_server.url)
    counting.start()
    try:
        yield counting
    finally:
        counting.stop()


@pytest.fixture
def http_net(devnet: Devnet, proxy: CountingProxy) -> Iterator[Devnet]:
    """The devnet over HTTP through the counting proxy, selected as the active chain."""
    NonceManager.clear_all()
    ChainConfig.use_devnet(devnet.deployment, rpc=proxy.url)
    proxy.clear_faults()
    proxy.reset()
    try:
        yield devnet
    finally:
        proxy.clear_faults()
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
