"""``ogpu devnet deploy`` onto a real ganache node, then the lifecycle over HTTP.

Needs ``contracts/node_modules/.bin/ganache`` (``cd contracts && npm ci``; CI installs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from ogpu.devnet import ADMIN
from ogpu.devnet.store import StoreServer

from ..helpers.ganache import running_ganache

pytestmark = pytest.mark.ganache

REPO = Path(__file__).resolve().parents[2]
BALANCE_WEI = 10_000 * 10**18


@pytest.fixture(scope="module")
def ganache_url() -> Iterator[str]:
    with running_ganache(balance_wei=BALANCE_WEI) as url:
        yield url


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
