"""The CLI reads ``.env`` as the official SDK does: role keys and the chain/RPC settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ogpu.devnet import CLIENTS
from ogpu.protocol import vault

from .conftest import ETHER, Devnet

pytestmark = pytest.mark.slow


def test_cli_takes_key_chain_and_rpc_from_dotenv(chain: Devnet, tmp_path: Path) -> None:
    client = CLIENTS[1]
    vault.deposit(client.address, ETHER, signer=client.account)
    (tmp_path / ".env").write_text(
        f"CLIENT_PRIVATE_KEY={client.key_hex}\nOGPU_CHAIN=devnet\nOGPU_RPC_URL={chain.rpc_url}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OGPU_", "CLIENT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "ogpu.cli", "vault", "show", "--role", "client", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**env, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["address"] == client.address
    assert shown["balance"]["wei"] == str(ETHER)  # docs/CLI.md: amounts are {"wei", "human"}
    assert client.key_hex[2:] not in done.stdout + done.stderr
