"""Fixtures for the CLI and provider runtime tests: one served devnet per session (real HTTP),
reverted to a snapshot after each test; ``ogpu.cli.main`` called in process."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from ogpu.chain import NonceManager, reset
from ogpu.cli import main
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.serve import DevnetServices, start_services
from ogpu.protocol import Source, vault
from ogpu.service.testing import RunningService
from ogpu.types import DeliveryMethod, ImageEnvironments, SourceInfo

from ..helpers.state import ROLE_VARS, SDK_VARS
from ..helpers.wait import free_port
from .echo import served

ETHER = 10**18


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@dataclass
class Devnet:
    services: DevnetServices
    session: requests.Session

    @property
    def rpc_url(self) -> str:
        return self.services.rpc_url

    @property
    def store_url(self) -> str:
        return self.services.store_url

    def call(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = self.session.post(self.rpc_url, json=body, timeout=30).json()
        assert "error" not in answer, answer
        return answer["result"]

    def increase_time(self, seconds: int) -> None:
        self.call("evm_increaseTime", [seconds])
        self.call("evm_mine", [])


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    with start_services(port=0, store_port=0) as services:  # no state file: nothing saved
        yield Devnet(services, requests.Session())


@pytest.fixture
def chain(devnet: Devnet, monkeypatch: pytest.MonkeyPatch) -> Iterator[Devnet]:
    """The devnet, snapshot-reverted after the test; role keys and SDK env vars cleared,
    IPFS routed to the devnet store, the SDK pointed at the devnet."""
    for name in ROLE_VARS + SDK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", devnet.store_url)
    snapshot = devnet.call("evm_snapshot", [])
    NonceManager.clear_all()
    from ogpu.devnet import connect_devnet

    connect_devnet(devnet.rpc_url)
    try:
        yield devnet
    finally:
        reset()
        devnet.call("evm_revert", [snapshot])


@pytest.fixture
def ogpu(capsys: pytest.CaptureFixture[str], chain: Devnet) -> Callable[..., Result]:
    """Run ``ogpu ARGS... --chain devnet --rpc URL`` in process (``net=False``: as given)."""

    def run(*argv: str, net: bool = True) -> Result:
        capsys.readouterr()
        args = list(argv) + (["--chain", "devnet", "--rpc", chain.rpc_url] if net else [])
        code = main(args)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Exit code non-zero, nothing on stdout, exactly one ``ogpu: error:`` line (after any
    ``… step`` progress lines), no traceback."""
    assert result.code != 0
    assert result.out == ""
    lines = [line for line in result.err.strip().splitlines() if not line.startswith("… ")]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("ogpu: error: ")
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def key_file(tmp_path: Path, account: DevnetAccount) -> str:
    """A key file readable by its owner only (others get a warning, tested apart)."""
    path = write(tmp_path, f"{account.role.value}{account.index}.key", account.key_hex + "\n")
    Path(path).chmod(0o600)
    return path


def publish_source_sdk(delivery: DeliveryMethod = DeliveryMethod.FIRST_RESPONSE) -> Source:
    from ogpu.client import publish_source

    return publish_source(
        SourceInfo(
            name="sentiment",
            description="test source",
            logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://example.com/compose.yml"),
            minPayment=10**15,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=delivery,
        ),
        signer=CLIENTS[0].account,
    )


@pytest.fixture
def world(chain: Devnet) -> Iterator[tuple[Source, int, RunningService]]:
    """A source the provider is registered to, a funded client, and the echo service
    (``echo.served``) calling back to a free port: (source, that port, the service)."""
    source = publish_source_sdk()
    fund_client()
    pair_and_register(source.address)
    port = free_port()
    with served(port) as running:
        yield source, port, running


def fund_client(amount: int = ETHER) -> None:
    vault.deposit(CLIENTS[0].address, amount, signer=CLIENTS[0].account)


def pair_and_register(source: str) -> None:
    from ogpu.provider import prepare_provider

    prepare_provider(PROVIDERS[0].account, [source], master=MASTERS[0].account)


def wei(value: int) -> dict[str, str]:
    """The ``--json`` form of an amount's exact part."""
    return {"wei": str(value)}


def amount_of(data: Any) -> int:
    """The wei of a ``--json`` amount."""
    assert set(data) == {"wei", "human"}, data
    return int(data["wei"])


def now() -> int:
    return int(time.time())


def env_without_keys() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ROLE_VARS + SDK_VARS}
