"""``ogpu devnet`` as a process: free ports, the env file and export block, listen errors,
--detach, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ogpu.cli import main
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS

from ..helpers.child import last_json
from .processes import Proc, clean_env, ctrl_c_budget, env_file_values, run, run_json

pytestmark = pytest.mark.slow

#: Ctrl-C must stop a command within this many seconds (SIGINT to process exit).
CTRL_C = 1.0
ROLE_KEYS = {
    "CLIENT_PRIVATE_KEY": CLIENTS[0].key_hex,
    "PROVIDER_PRIVATE_KEY": PROVIDERS[0].key_hex,
    "MASTER_PRIVATE_KEY": MASTERS[0].key_hex,
    "AGENT_PRIVATE_KEY": AGENTS[0].key_hex,
}


@contextmanager
def occupied(port: int = 0) -> Iterator[int]:
    """A listening socket on 127.0.0.1:``port`` (0: any); yields its port."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:  # already taken by someone else: occupied all the same
        sock.close()
        yield port
        return
    sock.listen(1)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def test_port_0_frees_every_port_and_the_env_file_points_at_it(tmp_path: Path) -> None:
    env_file = tmp_path / "devnet.env"
    with occupied(5001):  # the default store port is busy: --port 0 must not use it
        devnet = Proc(
            "devnet", "--port", "0", "--env-file", str(env_file), "--json", env=clean_env()
        )
        try:
            info = json.loads(_first_json(devnet))
            rpc_port = int(info["rpc_url"].rsplit(":", 1)[1])
            store_port = int(info["store_url"].rsplit(":", 1)[1])
            assert 5001 not in (rpc_port, store_port) and rpc_port != store_port
            values = env_file_values(env_file)
            assert values == {
                "OGPU_CHAIN": "devnet",
                "OGPU_RPC_URL": info["rpc_url"],
                "OGPU_IPFS_BACKEND": "devnet",
                "OGPU_IPFS_API_URL": info["store_url"],
                **ROLE_KEYS,
            }
            assert info["env"] == values and info["env_file"] == str(env_file)
            # the variables are all a command needs: no --chain, --rpc or key
            shown = run_json("vault", "show", "--role", "client", env=clean_env(**values))
            assert shown["address"] == CLIENTS[0].address
        finally:
            took = devnet.interrupt()
    assert devnet.process.returncode == 0
    assert took < ctrl_c_budget(CTRL_C), took


def _first_json(proc: Proc) -> str:
    index = proc.wait_for('"rpc_url"', timeout=60)
    return proc.lines[index]


def test_human_output_has_the_export_block(tmp_path: Path) -> None:
    devnet = Proc("devnet", "--port", "0", env=clean_env())
    try:
        devnet.wait_for("Press Ctrl-C to stop.")
        out = devnet.output()
    finally:
        devnet.interrupt()
    block = [line.strip() for line in out.splitlines() if line.strip().startswith("export ")]
    names = [line.removeprefix("export ").partition("=")[0] for line in block]
    assert names == [
        "OGPU_CHAIN",
        "OGPU_RPC_URL",
        "OGPU_IPFS_BACKEND",
        "OGPU_IPFS_API_URL",
        *ROLE_KEYS,
    ]
    assert f"export CLIENT_PRIVATE_KEY={CLIENTS[0].key_hex}" in block


def test_env_file_never_overwrites_a_file_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / ".env"
    foreign.write_text("CLIENT_PRIVATE_KEY=0xmy-real-key\n")
    assert main(["devnet", "--port", "0", "--env-file", str(foreign)]) == 1
    err = capsys.readouterr().err
    assert "exists and was not written by `ogpu devnet`; not overwriting it" in err
    assert foreign.read_text() == "CLIENT_PRIVATE_KEY=0xmy-real-key\n"
    ours = tmp_path / "ours.env"
    ours.write_text("# Written by `ogpu devnet` for http://old: ...\nexport OGPU_CHAIN=devnet\n")
    with occupied() as busy:  # fail after the file check would have passed: nothing written
        assert main(["devnet", "--port", str(busy), "--env-file", str(ours)]) == 1
    assert "http://old" in ours.read_text()


@pytest.mark.parametrize(("flag", "service"), [("--port", "JSON-RPC"), ("--store-port", "content")])
def test_a_listen_error_names_the_port_and_the_flag(
    flag: str, service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with occupied() as busy:
        argv = ["devnet", flag, str(busy)] + (["--port", "0"] if flag == "--store-port" else [])
        assert main(argv) == 1
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith(f"ogpu: error: cannot listen on 127.0.0.1:{busy} for the {service}")
        assert f"pass {flag} PORT, or {flag} 0 for any free port" in line
        assert main([*argv, "--json"]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        error = json.loads(captured.err.strip())["error"]
        assert error["kind"] == "listen" and f"127.0.0.1:{busy}" in error["message"]


def test_detach_returns_once_ready_and_the_process_serves(tmp_path: Path) -> None:
    log = tmp_path / "devnet.log"
    done = run("devnet", "--port", "0", "--detach", "--log", str(log), "--json", env=clean_env())
    assert done.returncode == 0, done.stderr
    info: dict[str, Any] = last_json(done.stdout)
    assert info["event"] == "detached" and info["log"] == str(log)
    pid = int(info["pid"])
    try:
        env = clean_env(OGPU_CHAIN="devnet", OGPU_RPC_URL=info["rpc_url"])
        shown = run_json("vault", "show", CLIENTS[0].address, env=env)
        assert shown["address"] == CLIENTS[0].address
    finally:
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the detached devnet did not stop on SIGINT")
    assert all(json.loads(line) for line in log.read_text().splitlines())  # --json: JSON only


def test_detach_reports_a_failed_start(tmp_path: Path) -> None:
    with occupied() as busy:
        done = run(
            "devnet", "--port", str(busy), "--detach", "--log", str(tmp_path / "l"), env=clean_env()
        )
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert f"cannot listen on 127.0.0.1:{busy}" in line and "--port" in line
    assert run("devnet", "--log", "x.log", env=clean_env()).returncode == 2


def test_detach_quiet_prints_only_the_pid(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    done = run(
        "devnet", "--detach", "--port", "0", "--env-file", str(env_file), "-q", env=clean_env()
    )
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.strip())
    try:
        shown = run_json(
            "vault", "show", "--role", "client", env=clean_env(**env_file_values(env_file))
        )
        assert shown["address"] == CLIENTS[0].address
    finally:
        os.kill(pid, signal.SIGTERM)
