"""``ogpu devnet deploy`` onto a real ganache node, then the lifecycle over HTTP.

Needs ``contracts/node_modules/.bin/ganache`` (``cd contracts && npm ci``; CI installs it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from web3 import HTTPProvider, Web3

from ogpu.devnet import ADMIN, ALL_ACCOUNTS
from ogpu.devnet.store import StoreServer

pytestmark = pytest.mark.ganache

REPO = Path(__file__).resolve().parents[2]
GANACHE = REPO / "contracts" / "node_modules" / ".bin" / "ganache"
BALANCE_WEI = 10_000 * 10**18


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        answer = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2
        )
    except requests.RequestException:
        return False
    return answer.status_code == 200 and "result" in answer.json()


@pytest.fixture(scope="module")
def ganache_url() -> Iterator[str]:
    if not GANACHE.exists():
        pytest.skip(f"ganache is not installed ({GANACHE} missing; run: cd contracts && npm ci)")
    port = _free_port()
    command = [
        str(GANACHE),
        "--server.host",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--chain.chainId",
        "1337",
        "--logging.quiet",
    ]
    for account in ALL_ACCOUNTS:
        command += ["--wallet.accounts", f"{account.key_hex},{BALANCE_WEI}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _ready(url):
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"ganache exited with {process.returncode}: {stderr}")
            if time.monotonic() > deadline:
                pytest.fail("ganache did not start within 90 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def test_deploy_on_ganache_then_lifecycle(ganache_url: str, h: Any) -> None:
    w3 = Web3(HTTPProvider(ganache_url))
    assert w3.eth.get_balance(ADMIN.address) == BALANCE_WEI
    deployed = subprocess.run(
        [sys.executable, "-m", "ogpu.cli", "devnet", "deploy", "--rpc", ganache_url, "--json"],
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert deployed.returncode == 0, deployed.stderr.decode()
    assert b"Traceback" not in deployed.stderr
    addresses = json.loads(deployed.stdout)
    assert addresses["chain_id"] == 1337
    assert addresses["deployer"] == ADMIN.address
    for name in ("nexus", "controller", "terminal", "vault", "manager"):
        assert len(w3.eth.get_code(addresses[name])) > 100, name

    store = StoreServer("127.0.0.1", 0)
    with store:
        result = h.run_lifecycle(w3, addresses, store.url)
    assert result.provider_earnings > 0
