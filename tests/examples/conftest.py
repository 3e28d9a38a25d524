"""Fixtures for running examples/ as subprocesses against a devnet served over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.devnet.serve import DevnetServices, start_services

from ..helpers.state import ROLE_VARS, SDK_VARS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
_CLEARED = (*ROLE_VARS, *SDK_VARS)  # the developer's keys and SDK settings


@dataclass
class ServedDevnet:
    services: DevnetServices

    def env(self, **extra: str) -> dict[str, str]:
        """The environment an example or CLI subprocess gets: the devnet's URLs only."""
        env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
        env.update(
            OGPU_RPC_URL=self.services.rpc_url,
            OGPU_IPFS_API_URL=self.services.store_url,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def run(
        self, *argv: str, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**extra),
            cwd=ROOT,
            check=False,
        )


@pytest.fixture(scope="session")
def served() -> Iterator[ServedDevnet]:
    with start_services(port=0, store_port=0) as services:  # no state file: nothing saved
        yield ServedDevnet(services)


KEYS = {
    "CLIENT_PRIVATE_KEY": CLIENTS[2].key_hex,
    "PROVIDER_PRIVATE_KEY": PROVIDERS[2].key_hex,
    "MASTER_PRIVATE_KEY": MASTERS[2].key_hex,
    "AGENT_PRIVATE_KEY": AGENTS[2].key_hex,
}
