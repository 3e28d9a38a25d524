"""Every bounded call returns or raises within its timeout + 1 s, whatever the server does.

Each test takes one call with a timeout of ``LIMIT`` seconds and runs it, concurrently,
against one real loopback server per misbehaviour (``hostile.py``): it hangs, never
reads, drips the status line, the headers, a fixed-length body or a chunked body one
byte per ``INTERVAL``, drips a complete answer that would arrive too late, redirects
slowly forever; plus a listener whose accept queue is full (connect never completes).
The promise checked: the call ends within ``LIMIT + 1`` s with the SDK's typed error.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ogpu import net
from ogpu.chain import Web3Manager, rpc
from ogpu.chain.transport import HttpTransport
from ogpu.ipfs import fetch_ipfs_bytes, fetch_ipfs_json, publish_to_ipfs
from ogpu.ipfs.backends import DevnetStoreBackend, IPFSNodeBackend, OGPUPinningBackend
from ogpu.protocol import Task
from ogpu.provider._steps import Steps
from ogpu.provider.settings import RuntimeSettings
from ogpu.service.callback import CallbackClient
from ogpu.service.pool import DaemonThreadPool
from ogpu.types import InvalidRpcUrlError, IPFSError, OGPUError, RPCError

from .hostile import MODES as HOSTILE_MODES
from .hostile import HostileServer, backlog_full
from .scripted import Reply, ScriptedServer

pytestmark = pytest.mark.slow

Row = Callable[..., None]

LIMIT = 1.5
SLACK = 1.0
INTERVAL = 0.2
MODES = [*(mode for mode in HOSTILE_MODES if mode != "json"), "connect-hang"]
TASK = "0x" + "34" * 20


@pytest.fixture(scope="module")
def targets() -> Iterator[dict[str, str]]:
    """One base URL per misbehaviour, shared by the module's tests."""
    servers = [
        HostileServer(mode, interval=INTERVAL, payload=b'{"a": ' + b" " * 60 + b"1}").__enter__()
        for mode in MODES
        if mode != "connect-hang"
    ]
    listener, fillers, address = backlog_full()
    urls = {server.mode: server.url for server in servers}
    urls["connect-hang"] = f"http://127.0.0.1:{address[1]}"
    yield urls
    for server in servers:
        server.stop()
    for sock in (listener, *fillers):
        sock.close()


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGPU_FETCH_ALLOW", "127.0.0.1/32")
    monkeypatch.delenv("OGPU_IPFS_GATEWAY", raising=False)


def _run_all(call: Callable[[str], Any], targets: dict[str, str]) -> dict[str, tuple[float, str]]:
    """Run ``call`` against every target at once; (seconds, outcome) per mode."""
    results: dict[str, tuple[float, str]] = {}

    def one(mode: str, url: str) -> None:
        started = time.monotonic()
        try:
            call(url)
            outcome = "returned"
        except (OGPUError, rpc.TransportError, rpc.NodeError, net.NetError) as exc:
            # the class, then its bases: an expected base class matches a subclass
            outcome = " ".join(c.__name__ for c in type(exc).__mro__)
        except Exception as exc:
            outcome = f"UNTYPED {type(exc).__name__}: {exc}"
        results[mode] = (time.monotonic() - started, outcome)

    threads = [threading.Thread(target=one, args=item, daemon=True) for item in targets.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LIMIT + SLACK + 30)
    return results


def _check(name: str, results: dict[str, tuple[float, str]], row: Row, error: str) -> None:
    for mode in MODES:
        seconds, outcome = results.get(mode, (float("inf"), "did not end"))
        assert seconds <= LIMIT + SLACK, f"{name} vs {mode}: {seconds:.2f}s ({outcome})"
        typed = not outcome.startswith(("UNTYPED", "did not end"))
        kinds = outcome.split(" ") if typed else []
        assert set(kinds) & set(error.split("|")), f"{name} vs {mode}: {outcome}"
        outcome = outcome.split(" ")[0]
        row(
            area="bounded",
            case=f"{name} / {mode}",
            injected=f"server: {mode} (one byte per {INTERVAL}s where it drips); timeout {LIMIT}s",
            outcome=f"{outcome} within {LIMIT + SLACK:g}s",
        )


def _ipfs_url(base: str) -> str:
    return f"{base}/ipfs/x"


CALLS: dict[str, tuple[Callable[[str], Any], str]] = {
    "fetch_ipfs_json(timeout=T)": (
        lambda url: fetch_ipfs_json(_ipfs_url(url), timeout=LIMIT),
        "IPFSFetchError|IPFSGatewayError",
    ),
    "fetch_ipfs_bytes(timeout=Timeout(total=T))": (
        lambda url: fetch_ipfs_bytes(_ipfs_url(url), timeout=net.Timeout(total=LIMIT)),
        "IPFSFetchError|IPFSGatewayError",
    ),
    "fetch_ipfs_json(budget=Budget(T))": (
        lambda url: fetch_ipfs_json(_ipfs_url(url), budget=net.Budget.after(LIMIT)),
        "IPFSFetchError|IPFSGatewayError",
    ),
    "publish_to_ipfs(devnet store, timeout=T)": (
        lambda url: publish_to_ipfs(b"{}", backend=DevnetStoreBackend(url), timeout=LIMIT),
        "IPFSUploadError",
    ),
    "publish_to_ipfs(IPFS node API, timeout=T)": (
        lambda url: publish_to_ipfs(b"{}", backend=IPFSNodeBackend(url, url), timeout=LIMIT),
        "IPFSUploadError",
    ),
    "publish_to_ipfs(OGPU pinning, budget=Budget(T))": (
        lambda url: publish_to_ipfs(
            {"a": 1}, backend=OGPUPinningBackend(url, url), budget=net.Budget.after(LIMIT)
        ),
        "IPFSUploadError",
    ),
    "publish_to_ipfs(official spelling: timeout=30, retries=5, _deadline=now+T)": (
        lambda url: publish_to_ipfs(
            b"{}",
            "data.json",
            "application/json",
            30,
            5,
            0.1,
            time.monotonic() + LIMIT,
            backend=DevnetStoreBackend(url),
        ),
        "IPFSUploadError",
    ),
    "fetch_ipfs_json(url, T) positional": (
        lambda url: fetch_ipfs_json(_ipfs_url(url), LIMIT),
        "IPFSFetchError|IPFSGatewayError",
    ),
    "rpc.request(url, budget=Budget(T))": (
        lambda url: rpc.request(url, "eth_blockNumber", [], budget=net.Budget.after(LIMIT)),
        "TransportError|MalformedAnswer",
    ),
    "rpc.batch(url, budget=Budget(T))": (
        lambda url: rpc.batch(
            url, [("eth_blockNumber", []), ("eth_chainId", [])], budget=net.Budget.after(LIMIT)
        ),
        "TransportError|MalformedAnswer",
    ),
    "rpc.request inside Budget(T).scope()": (
        lambda url: _in_scope(lambda: rpc.request(url, "eth_chainId", [])),
        "TransportError|MalformedAnswer",
    ),
    "HttpTransport(timeout=T) eth_sendRawTransaction": (
        lambda url: HttpTransport(url, timeout=LIMIT).request("eth_sendRawTransaction", ["0x00"]),
        "TransportError|MalformedAnswer",
    ),
    "service callback (callback_max_seconds=T)": (
        lambda url: _callback(url),
        "returned",
    ),
    "provider /run dispatch (dispatch_timeout=T)": (
        lambda url: Steps(
            RuntimeSettings(service_url=url, dispatch_timeout=LIMIT), *_NO_KEYS
        ).dispatch("echo", TASK, {}),
        "ProviderRuntimeError",
    ),
    "ogpu.net.request(Timeout(total=T), 5 redirects)": (
        lambda url: net.request("GET", url, timeout=net.Timeout(total=LIMIT), max_redirects=5),
        "DeadlineExceeded|RedirectError",  # the layer's own errors; the SDK translates them
    ),
}
_NO_KEYS: tuple[Any, Any] = (None, None)


def _in_scope(fn: Callable[[], Any]) -> Any:
    with net.Budget.after(LIMIT).scope():
        return fn()


def _callback(url: str) -> None:
    pool = DaemonThreadPool(2, "bounded-callback")
    policy = net.RetryPolicy(max_attempts=5, backoff_initial=0.05, total_timeout=LIMIT)
    client = CallbackClient(url + "/cb", policy, pool, timeout=net.Timeout(read=LIMIT, total=LIMIT))
    try:
        result = asyncio.run(client.deliver(TASK, {"a": 1}, "success"))
    finally:
        pool.shutdown()
    assert not result.delivered and result.error is not None


@pytest.mark.parametrize("name", list(CALLS))
def test_bounded_call_against_every_misbehaviour(
    name: str, targets: dict[str, str], row: Row
) -> None:
    call, error = CALLS[name]
    _check(name, _run_all(call, targets), row, error)


# -- the SDK's read path, the chain-id probe, slow DNS --------------------------------------------


def test_sdk_read_under_a_budget_scope(
    targets: dict[str, str], mainnet_at: Callable[[str], None], row: Row
) -> None:
    # One Web3Manager endpoint per process: run the modes one after the other.
    results: dict[str, tuple[float, str]] = {}
    for mode, url in targets.items():
        mainnet_at(url)
        results.update(_run_all(lambda _: _in_scope(Task(TASK).snapshot), {mode: url}))
    _check("Task.snapshot() in Budget(T).scope()", results, row, "RPCError")


def test_sdk_read_with_the_default_http_timeout(
    targets: dict[str, str],
    mainnet_at: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    row: Row,
) -> None:
    monkeypatch.setattr("ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT", LIMIT)
    results: dict[str, tuple[float, str]] = {}
    for mode, url in targets.items():
        mainnet_at(url)
        results.update(_run_all(lambda _: Task(TASK).snapshot(), {mode: url}))
    _check("Task.snapshot(), HTTP timeout T", results, row, "RPCError")


def test_chain_id_probe(targets: dict[str, str], monkeypatch: pytest.MonkeyPatch, row: Row) -> None:
    monkeypatch.setattr("ogpu.chain.web3.PROBE_TIMEOUT", LIMIT)
    results = _run_all(Web3Manager.probe_chain_id, targets)
    _check("Web3Manager.probe_chain_id", results, row, "InvalidRpcUrlError")
    assert InvalidRpcUrlError.__name__ == "InvalidRpcUrlError"


@pytest.mark.parametrize("delay", [5.0, 60.0])
def test_slow_dns_is_bounded(delay: float, row: Row) -> None:
    calls: list[str] = []

    def slow(host: str) -> list[str]:
        calls.append(host)
        time.sleep(delay)
        return ["93.184.216.34"]

    policy = net.AddressPolicy.public(resolver=slow)
    started = time.monotonic()
    with pytest.raises(net.DeadlineExceeded, match="resolving"):
        net.request(
            "GET", "http://slow-dns.test/x", timeout=net.Timeout(total=LIMIT), policy=policy
        )
    seconds = time.monotonic() - started
    assert seconds <= LIMIT + SLACK and calls == ["slow-dns.test"]
    row(
        area="bounded",
        case=f"slow DNS ({delay:g}s resolver)",
        injected=f"a resolver that answers after {delay:g}s; timeout {LIMIT}s",
        outcome=f"DeadlineExceeded within {LIMIT + SLACK:g}s; one resolution",
    )


def test_a_slow_redirect_chain_counts_inside_the_budget(row: Row) -> None:
    hops = {"n": 0}

    def redirect(request: Any) -> Reply:
        hops["n"] += 1
        time.sleep(0.4)
        return Reply(status=302, headers={"Location": f"/hop{hops['n']}"})

    with ScriptedServer(redirect) as server:
        started = time.monotonic()
        with pytest.raises(IPFSError):
            fetch_ipfs_json(server.url + "/start", timeout=LIMIT, max_redirects=50)
        seconds = time.monotonic() - started
    assert seconds <= LIMIT + SLACK
    row(
        area="bounded",
        case="fetch_ipfs_json / 50 redirects of 0.4s each",
        injected="every hop answers a redirect after 0.4s",
        outcome=f"IPFSFetchError within {LIMIT + SLACK:g}s (the hops count inside the budget)",
    )


def test_retries_count_inside_the_budget(row: Row) -> None:
    with ScriptedServer(lambda r: Reply(status=503, body=b"", headers={"Retry-After": "1"})) as s:
        policy = net.RetryPolicy(max_attempts=100, backoff_initial=0.3, total_timeout=60)
        started = time.monotonic()
        with pytest.raises(IPFSError):
            fetch_ipfs_json(s.url + "/ipfs/x", timeout=LIMIT, retry=policy)
        seconds = time.monotonic() - started
    assert seconds <= LIMIT + SLACK and 1 <= s.requests < 100
    row(
        area="bounded",
        case="fetch_ipfs_json / 503 with Retry-After forever",
        injected="HTTP 503 Retry-After: 1 on every attempt; 100 attempts allowed",
        outcome=f"IPFSGatewayError within {LIMIT + SLACK:g}s, well short of 100 attempts",
    )
    assert RPCError is not None
