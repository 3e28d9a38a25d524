"""A ganache process (npm, ``contracts/node_modules``) on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from ogpu.devnet import ALL_ACCOUNTS, DevnetAccount

from .wait import free_port

__all__ = ["GANACHE", "running_ganache"]

GANACHE = Path(__file__).resolve().parents[2] / "contracts" / "node_modules" / ".bin" / "ganache"


def _ready(url: str) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
    try:
        answer = requests.post(url, json=body, timeout=2)
    except requests.RequestException:
        return False
    return answer.status_code == 200 and "result" in answer.json()


@contextmanager
def running_ganache(
    accounts: Iterable[DevnetAccount] = ALL_ACCOUNTS, balance_wei: int = 10**23
) -> Iterator[str]:
    """A fresh ganache (chain id 1337, ``accounts`` funded); yields its URL, stops it after.

    Skips the test when ganache or node is not installed; fails it when ganache does not
    answer within 90 s.
    """
    if not GANACHE.exists() or shutil.which("node") is None:
        pytest.skip(f"ganache is not installed ({GANACHE} missing; run: cd contracts && npm ci)")
    port = free_port()
    funded = [f"--wallet.accounts={a.key_hex},{balance_wei}" for a in accounts]
    process = subprocess.Popen(
        [
            str(GANACHE),
            "--server.host=127.0.0.1",
            f"--server.port={port}",
            "--chain.chainId=1337",
            "--logging.quiet",
            *funded,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _ready(url):
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"ganache exited with {process.returncode}: {stderr}")
            if time.monotonic() > deadline:
                pytest.fail("ganache did not start within 90 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()
