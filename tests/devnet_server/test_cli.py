"""``ogpu devnet`` as a real process (signals, state file) and ``ogpu devnet deploy``."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from web3 import HTTPProvider, Web3

from ogpu.cli import main
from ogpu.devnet import ADMIN, ALL_ACCOUNTS, CLIENTS
from ogpu.ipfs.cid import cid_for_bytes

from ..helpers.wait import free_port, wait_until

STARTUP_TIMEOUT = 120.0


class DevnetProcess:
    """``python -m ogpu.cli devnet ...`` with its stdout collected line by line by a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ogpu.cli", "devnet", "--port", "0", "--store-port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._queue.put(raw.decode())
        self._queue.put(None)

    def read_line(self, timeout: float = STARTUP_TIMEOUT) -> str:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            self.kill()
            stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise AssertionError(f"no output from ogpu devnet (rc={self.proc.poll()}): {stderr}")
        self.lines.append(line)
        return line

    def read_until(self, pattern: str) -> re.Match[str]:
        while True:
            match = re.search(pattern, self.read_line())
            if match:
                return match

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=30)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
        return code, "".join(self.lines), stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.mark.slow
def test_devnet_process_prints_urls_and_stops_cleanly_on_sigint() -> None:
    process = DevnetProcess()
    try:
        rpc_url = process.read_until(r"JSON-RPC:\s+(http://\S+)").group(1)
        store_url = process.read_until(r"Content store:\s+(http://\S+)").group(1)
        process.read_until(r"DEVNET ONLY")
        banner = process.read_until(r"Press Ctrl-C")
        assert banner
        w3 = Web3(HTTPProvider(rpc_url))
        assert w3.eth.chain_id == 1337
        assert not rpc_url.endswith(":0") and not store_url.endswith(":0")
        stored = requests.post(
            f"{store_url}/api/v0/add", files={"file": ("x", b"hello world")}, timeout=10
        )
        assert stored.json()["Hash"] == cid_for_bytes(b"hello world")
        code, out, err = process.stop(signal.SIGINT)
    finally:
        process.kill()
    assert code == 0, err
    assert "Traceback" not in out + err
    assert ADMIN.address in out
    assert ADMIN.key_hex in out  # devnet keys are printed on purpose, clearly labelled
    assert "ogpu devnet stopped" in err


@pytest.mark.slow
def test_state_file_survives_restart_and_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "chain.state"
    recipient = "0x" + "42" * 20
    first = DevnetProcess("--json", "--state", str(state))
    try:
        info = json.loads(first.read_line())
        assert info["loaded_state"] is False
        assert info["chain_id"] == 1337
        assert [a["address"] for a in info["accounts"]] == [a.address for a in ALL_ACCOUNTS]
        w3 = Web3(HTTPProvider(info["rpc_url"]))
        sender = CLIENTS[0].account
        tx = {
            "to": recipient,
            "value": 424242,
            "gas": 21000,
            "nonce": w3.eth.get_transaction_count(sender.address),
            "chainId": 1337,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
        }
        tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        w3.provider.make_request("evm_increaseTime", [7200])
        w3.provider.make_request("evm_mine", [])
        head = w3.eth.get_block("latest")
        document = b'{"kept": true}'
        requests.post(
            f"{info['store_url']}/file/create", files={"file": ("d.json", document)}, timeout=10
        )
        code, _, err = first.stop(signal.SIGTERM)
    finally:
        first.kill()
    assert code == 0, err
    assert "Traceback" not in err
    assert state.exists()
    assert f"state saved to {state}" in err

    second = DevnetProcess("--json", "--state", str(state))
    try:
        info2 = json.loads(second.read_line())
        assert info2["loaded_state"] is True
        assert info2["deployment"] == info["deployment"]
        w3 = Web3(HTTPProvider(info2["rpc_url"]))
        assert w3.eth.block_number == head["number"]
        assert w3.eth.get_block("latest")["hash"] == head["hash"]
        assert w3.eth.get_balance(recipient) == 424242
        assert w3.eth.get_transaction_receipt(tx_hash)["blockHash"] == receipt["blockHash"]
        assert w3.eth.get_transaction_count(CLIENTS[0].address) == tx["nonce"] + 1
        fetched = requests.get(f"{info2['store_url']}/ipfs/{cid_for_bytes(document)}", timeout=10)
        assert fetched.content == document
        # the chain keeps going on top of the loaded state, with the clock offset kept
        tx2 = {**tx, "nonce": tx["nonce"] + 1}
        receipt2 = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(sender.sign_transaction(tx2).raw_transaction)
        )
        assert receipt2["blockNumber"] == head["number"] + 1
        assert w3.eth.get_block(receipt2["blockNumber"])["timestamp"] >= time.time() + 7000
        assert w3.eth.get_balance(recipient) == 2 * 424242
        code, _, err = second.stop(signal.SIGINT)
    finally:
        second.kill()
    assert code == 0, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_deploy_command_onto_the_served_devnet(
    rpc_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devnet", "deploy", "--rpc", rpc_url, "--json"]) == 0
    deployment = json.loads(capsys.readouterr().out)
    assert deployment["chain_id"] == 1337
    assert deployment["deployer"] == ADMIN.address
    w3 = Web3(HTTPProvider(rpc_url))
    for name in ("nexus", "controller", "terminal", "vault", "manager"):
        assert len(w3.eth.get_code(deployment[name])) > 100
    assert main(["devnet", "deploy", "--rpc", rpc_url]) == 0
    text = capsys.readouterr().out
    assert "Deployed on chain 1337" in text
    assert re.search(r"nexus\s+0x[0-9a-fA-F]{40}", text)


def test_deploy_command_errors(
    rpc_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["devnet", "deploy", "--rpc", dead, "--timeout", "5"]) == 1
    assert "cannot reach the RPC http://127.0.0.1:" in capsys.readouterr().err

    secret = "ab" * 31 + "zz"
    bad_key = tmp_path / "bad.key"
    bad_key.write_text(secret)
    assert main(["devnet", "deploy", "--rpc", rpc_url, "--key-file", str(bad_key)]) == 1
    err = capsys.readouterr().err
    assert "does not hold a 32-byte hex private key" in err
    assert secret not in err

    poor_key = tmp_path / "poor.key"
    key_hex = "0x" + "11" * 32
    poor_key.write_text(key_hex + "\n")
    assert main(["devnet", "deploy", "--rpc", rpc_url, "--key-file", str(poor_key)]) == 1
    err = capsys.readouterr().err
    assert "has no funds" in err
    assert key_hex[2:] not in err

    assert main(["devnet", "deploy", "--rpc", rpc_url, "--key-file", str(tmp_path / "nope")]) == 1
    assert "cannot read key file" in capsys.readouterr().err


def test_cli_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "devnet" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert main(["devnet", "--port", "70000"]) == 2
    assert main(["devnet", "--max-upload", "lots"]) == 2
    assert main(["devnet", "--block-time", "-1"]) == 2
    capsys.readouterr()
    junk = tmp_path / "junk.state"
    junk.write_bytes(b"definitely not gzip")
    assert main(["devnet", "--port", "0", "--store-port", "0", "--state", str(junk)]) == 1
    assert "cannot read state file" in capsys.readouterr().err


@pytest.mark.slow
def test_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["devnet", "--port", str(port), "--store-port", "0"])
    assert code == 1
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


@pytest.mark.slow
def test_block_time_mines_empty_blocks() -> None:
    from ogpu.devnet.serve import start_services

    with start_services(port=0, store_port=0, block_time=0.2) as services:
        start = services.block_number()
        wait_until(lambda: services.block_number() >= start + 2, interval=0.05)
    stopped_at = services.block_number()
    time.sleep(0.5)
    assert services.block_number() == stopped_at
