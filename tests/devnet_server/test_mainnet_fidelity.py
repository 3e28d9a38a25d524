"""The devnet's ``eth_call`` gas cap and its mainnet fault mode (docs/MAINNET.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ogpu.cli import main
from ogpu.devnet.faults import MainnetFaults
from ogpu.devnet.serve import DevnetServices, start_services
from ogpu.devnet.server import DEFAULT_CALL_GAS_CAP, JsonRpcDispatcher, RpcServer

from .conftest import rpc_post
from .test_cli import DevnetProcess

# Init code returning the gas left when it starts: an eth_call without "to" runs it.
GAS_LEFT = "0x5a5f5260205ff3"  # GAS PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
# Init code that loops for ever: it runs out of whatever gas it has.
SPIN = "0x5b5f56"  # JUMPDEST PUSH0 JUMP
CREATION_INTRINSIC = 53_000


def call(url: str, data: str, *, gas: int | None = None, block: str = "latest") -> Any:
    tx: dict[str, Any] = {"data": data}
    if gas is not None:
        tx["gas"] = hex(gas)
    return rpc_post(url, {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [tx, block]})


def gas_left(url: str, gas: int | None = None) -> int:
    answer = call(url, GAS_LEFT, gas=gas).json()
    return int(answer["result"], 16)


def test_eth_call_gas_is_capped_at_geths_default_not_the_block_gas_limit(
    services: DevnetServices,
) -> None:
    url = services.rpc_url
    block_gas_limit = int(
        services.dispatcher.call("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16
    )
    assert DEFAULT_CALL_GAS_CAP == 50_000_000 == services.dispatcher.call_gas_cap
    assert block_gas_limit < DEFAULT_CALL_GAS_CAP
    # No gas named: the whole cap, which is more than a block holds (as geth).
    left = gas_left(url)
    assert DEFAULT_CALL_GAS_CAP - CREATION_INTRINSIC - 1000 < left < DEFAULT_CALL_GAS_CAP
    assert gas_left(url, 3 * DEFAULT_CALL_GAS_CAP) == left  # more than the cap: capped
    assert gas_left(url, 1_000_000) < 1_000_000  # less: as asked
    spun = call(url, SPIN, gas=1_000_000).json()
    assert spun["error"] == {"code": -32000, "message": "out of gas"}


@pytest.mark.slow
def test_the_cap_is_configurable() -> None:
    running = start_services(port=0, store_port=0, call_gas_cap=2_000_000)
    try:
        assert running.dispatcher.call_gas_cap == 2_000_000
        assert gas_left(running.rpc_url) < 2_000_000 - CREATION_INTRINSIC
    finally:
        running.stop()
    with pytest.raises(ValueError):
        JsonRpcDispatcher(running.devnet.tester, running.devnet.lock, call_gas_cap=0)


# -- mainnet fault mode -------------------------------------------------------------------------


@pytest.fixture
def faulty(services: DevnetServices, rpc_url: str) -> Iterator[tuple[RpcServer, MainnetFaults]]:
    """A second JSON-RPC server on the session chain (reverted after the test), every
    request faulted."""
    faults = MainnetFaults(1.0, seed=1)
    with RpcServer(services.dispatcher, "127.0.0.1", 0, faults=faults) as server:
        yield server, faults


def _post(url: str, payload: Any) -> Any:
    return requests.post(url, json=payload, timeout=30).json()


def _head(services: DevnetServices) -> int:
    return services.block_number()


def test_off_by_default(services: DevnetServices) -> None:
    assert services.rpc_server.faults is None
    head = hex(_head(services))
    for _ in range(20):
        assert "result" in call(services.rpc_url, GAS_LEFT, block=head).json()


def test_a_block_just_reported_is_not_found_on_a_lagging_replica(
    services: DevnetServices, faulty: tuple[RpcServer, MainnetFaults]
) -> None:
    server, faults = faulty
    services.dispatcher.mine(2)
    head = _head(services)
    head_hash = services.dispatcher.call("eth_getBlockByNumber", ["latest", False])["hash"]
    expected = {"code": -32000, "message": f"block {hex(head)} not found"}
    for params in (
        [{"data": GAS_LEFT}, hex(head)],
        [{"data": GAS_LEFT}, {"blockHash": head_hash}],
        [{"data": GAS_LEFT}, {"blockNumber": hex(head)}],
    ):
        request = {"jsonrpc": "2.0", "id": 7, "method": "eth_call", "params": params}
        answer = _post(server.url, request)
        assert answer == {"jsonrpc": "2.0", "id": 7, "error": expected}
    logs = {"jsonrpc": "2.0", "id": 8, "method": "eth_getLogs", "params": [{"toBlock": hex(head)}]}
    assert _post(server.url, logs)["error"] == expected
    # A batch keeps its other answers.
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_getBlockByNumber", "params": [hex(head), False]},
    ]
    first, second = _post(server.url, batch)
    assert first == {"jsonrpc": "2.0", "id": 1, "result": "0x539"}
    assert second["error"] == expected
    assert faults.injected["block not found"] == 5


def test_other_requests_lose_their_connection_before_or_after_the_node_acts(
    services: DevnetServices, faulty: tuple[RpcServer, MainnetFaults]
) -> None:
    server, faults = faulty
    older = hex(_head(services) - 1)  # not "just reported": a lagging replica has it
    for payload in (
        {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"data": GAS_LEFT}, older]},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
    ):
        with pytest.raises(requests.ConnectionError):
            requests.post(server.url, json=payload, timeout=30)
    start, before = _head(services), faults.injected["drop after"]
    for _ in range(20):
        with pytest.raises(requests.ConnectionError):
            requests.post(server.url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine"})
    mined = faults.injected["drop after"] - before
    assert 0 < mined < 20 and faults.injected["drop before"] > 0
    assert _head(services) - start == mined  # dropped after: the node did mine


def test_faults_are_a_seeded_share() -> None:
    class Chain:
        def __init__(self) -> None:
            self.handled = 0

        def handle_body(self, body: bytes) -> bytes:
            self.handled += 1
            return b'{"jsonrpc":"2.0","id":1,"result":"0x1"}'

        def block_number(self) -> int:
            return 10

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}).encode()

    def outcomes(faults: MainnetFaults) -> list[bool]:
        chain = Chain()
        return [faults.answer(body, chain) == b"" for _ in range(400)]  # type: ignore[arg-type]

    first = outcomes(MainnetFaults(0.25, seed=5))
    assert first == outcomes(MainnetFaults(0.25, seed=5))  # deterministic for a seed
    assert first != outcomes(MainnetFaults(0.25, seed=6))
    assert 60 < sum(first) < 140  # about a quarter
    for bad in (0, -0.1, 1.5, "0.2", True):
        with pytest.raises(ValueError):
            MainnetFaults(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MainnetFaults(0.5, lag=0)


@pytest.mark.slow
def test_cli_options(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["--mainnet-faults", "0"], ["--mainnet-faults", "2"], ["--mainnet-faults", "x"]):
        assert main(["devnet", *bad]) == 2
    assert main(["devnet", "--call-gas-cap", "100"]) == 2
    capsys.readouterr()
    process = DevnetProcess(
        "--json", "--mainnet-faults", "0.25", "--faults-seed", "9", "--call-gas-cap", "40_000_000"
    )
    try:
        info = json.loads(process.read_until(r"^\{.*\}$").group(0))
        code, _, err = process.stop()
    finally:
        process.kill()
    assert code == 0, err
    assert info["mainnet_faults"] == {"share": 0.25, "seed": 9}
    assert info["call_gas_cap"] == 40_000_000
