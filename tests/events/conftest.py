"""The HTTP devnet, a switchable loopback JSON-RPC proxy, and a plain-web3 protocol driver."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from ogpu.chain import ChainConfig, ChainId
from ogpu.devnet import CLIENTS, PROVIDERS, Deployment, load_artifact
from ogpu.devnet.serve import DevnetServices, start_services


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        owner = self.server.owner
        owner.record(body)
        if owner.mode == "502":
            self._answer(502, b"bad gateway")
            return
        upstream = owner.session.post(
            owner.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        self._answer(upstream.status_code, owner.limit_ranges(body, upstream.content))

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, owner: RpcProxy) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", port), _ProxyHandler)


class RpcProxy:
    """Forwards JSON-RPC to the devnet; counts methods; can answer 502 or refuse connections."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.session = requests.Session()
        self.mode = "pass"
        self.lock = threading.Lock()
        self.methods: Counter[str] = Counter()
        self.sequence: list[str] = []
        self.get_logs_params: list[dict[str, Any]] = []
        self.latest_get_logs_params: list[dict[str, Any]] = []
        self.http_requests: list[list[str]] = []
        self.max_range: int | None = None
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, body: bytes) -> None:
        try:
            parsed = json.loads(body)
        except ValueError:
            return
        calls = parsed if isinstance(parsed, list) else [parsed]
        with self.lock:
            self.http_requests.append([str(c.get("method")) for c in calls if isinstance(c, dict)])
            for call in calls:
                if isinstance(call, dict):
                    self.methods[str(call.get("method"))] += 1
                    self.sequence.append(str(call.get("method")))
                    if call.get("method") == "eth_getLogs":
                        params = call["params"][0]
                        if params.get("toBlock") == "latest":
                            self.latest_get_logs_params.append(params)
                        else:
                            self.get_logs_params.append(params)

    def _too_wide(self, call: Any) -> bool:
        if not isinstance(call, dict) or call.get("method") != "eth_getLogs":
            return False
        assert self.max_range is not None
        params = call["params"][0]
        bounds = []
        for key in ("fromBlock", "toBlock"):
            tag = params.get(key, "latest")
            if tag == "latest":
                answer = self.session.post(
                    self.upstream, json={"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber"}
                ).json()
                tag = answer["result"]
            bounds.append(int(tag, 16))
        return bounds[1] - bounds[0] + 1 > self.max_range

    def limit_ranges(self, body: bytes, content: bytes) -> bytes:
        """Replace the answer of every eth_getLogs (alone or in a batch) whose range
        exceeds ``max_range`` by a node-style JSON-RPC error."""
        if self.max_range is None:
            return content
        try:
            calls, answer = json.loads(body), json.loads(content)
        except ValueError:
            return content
        wide = {
            c.get("id")
            for c in (calls if isinstance(calls, list) else [calls])
            if self._too_wide(c)
        }
        if not wide:
            return content
        error = {"code": -32005, "message": f"query exceeds max block range {self.max_range}"}

        def fix(item: Any) -> Any:
            if isinstance(item, dict) and item.get("id") in wide:
                return {"jsonrpc": "2.0", "id": item["id"], "error": error}
            return item

        fixed = [fix(a) for a in answer] if isinstance(answer, list) else fix(answer)
        return json.dumps(fixed).encode()

    def reset(self) -> None:
        with self.lock:
            self.methods.clear()
            self.sequence.clear()
            self.get_logs_params.clear()
            self.latest_get_logs_params.clear()
            self.http_requests.clear()

    def count(self, method: str) -> int:
        with self.lock:
            return self.methods[method]

    def up(self) -> None:
        """(Re)open the listener on the same port."""
        server = _ProxyServer(self.port, self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        """Close the listener: new connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


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
    svc = start_services(port=0, store_port=0)
    try:
        yield svc
    finally:
        svc.stop(save=False)


@pytest.fixture(scope="session")
def driver(services: DevnetServices) -> Driver:
    return Driver(Web3(Web3.HTTPProvider(services.rpc_url)), services.devnet.deployment)


@pytest.fixture
def make_driver() -> type[Driver]:
    """The Driver class, for tests that drive another chain (e.g. the in-process devnet)."""
    return Driver


@pytest.fixture
def proxy(services: DevnetServices) -> Iterator[RpcProxy]:
    rpc_proxy = RpcProxy(services.rpc_url)
    try:
        yield rpc_proxy
    finally:
        rpc_proxy.down()


@pytest.fixture
def on_devnet(services: DevnetServices, proxy: RpcProxy) -> Iterator[RpcProxy]:
    """Point ogpu.chain at the devnet through the proxy; restore mainnet afterwards."""
    ChainConfig.use_devnet(services.devnet.deployment, rpc=proxy.url)
    try:
        yield proxy
    finally:
        ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)


def wait_until(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until true (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)
