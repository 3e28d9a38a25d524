"""Long-running commands as real processes: they say what they wait for, stop within a
second of Ctrl-C (measured), and ``provider run`` rides through devnet restarts."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS

from ..helpers.child import last_json
from ..helpers.wait import free_port
from .conftest import Devnet
from .echo import served
from .processes import Proc, clean_env, ctrl_c_budget, run, run_json
from .test_errors import silent_node

pytestmark = pytest.mark.slow

CTRL_C = 1.0
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ECHO_TASK = """payment = "0.01 OGPU"
expiresIn = 600
[config]
function_name = "echo"
[config.data]
text = "hello"
"""


ECHO_SOURCE = """name = "echo"
maxExpiryDuration = 3600
minPayment = "0.001 OGPU"
deliveryMethod = "FIRST_RESPONSE"
[imageEnvs]
cpu = "https://example.com/docker-compose.yml"
"""


@pytest.fixture
def echo_source(tmp_path: Path) -> str:
    path = tmp_path / "echo-source.toml"
    path.write_text(ECHO_SOURCE)
    return str(path)


@pytest.fixture
def echo_task(tmp_path: Path) -> str:
    path = tmp_path / "echo.toml"
    path.write_text(ECHO_TASK)
    return str(path)


def devnet_env(url: str, store: str, **extra: str) -> dict[str, str]:
    return clean_env(
        OGPU_CHAIN="devnet",
        OGPU_RPC_URL=url,
        OGPU_IPFS_BACKEND="devnet",
        OGPU_IPFS_API_URL=store,
        CLIENT_PRIVATE_KEY=CLIENTS[0].key_hex,
        PROVIDER_PRIVATE_KEY=PROVIDERS[0].key_hex,
        MASTER_PRIVATE_KEY=MASTERS[0].key_hex,
        **extra,
    )


def test_provider_run_says_it_waits_for_the_service_and_stops_at_once(
    chain: Devnet, world: Any
) -> None:
    source = world[0].address
    env = devnet_env(chain.rpc_url, chain.store_url)
    nobody = f"http://127.0.0.1:{free_port()}"
    proc = Proc(
        "provider",
        "run",
        "--service-url",
        nobody,
        "--callback-port",
        "0",
        "--source",
        source,
        env=env,
    )
    try:
        line = proc.lines[proc.wait_for("waiting for the source service")]
        assert nobody in line and "CALLBACK_URL=http://127.0.0.1:" in line
    finally:
        took = proc.interrupt()
    assert took < ctrl_c_budget(CTRL_C), took
    assert proc.process.returncode == 0


def test_provider_run_serving_stops_at_once(chain: Devnet, world: Any, echo_task: str) -> None:
    source, port, running = world
    env = devnet_env(chain.rpc_url, chain.store_url)
    proc = Proc(
        "provider", "run", "--service-url", running.base_url, "--callback-port", str(port),
        "--source", source.address, "--poll-interval", "0.2", env=env,
    )  # fmt: skip
    try:
        proc.wait_for("watching TaskPublished")
        task = run_json("task", "publish", echo_task, "--source", source.address, env=env)
        proc.wait_for(f"{task['address'][:10]}… response", timeout=60)
    finally:
        took = proc.interrupt()
    assert took < ctrl_c_budget(CTRL_C), took
    assert "provider runtime stopped: seen 1, attempted 1, submitted 1" in proc.output()


def test_task_watch_stops_at_once(chain: Devnet, world: Any) -> None:
    source = world[0].address
    env = devnet_env(chain.rpc_url, chain.store_url)
    task = run_json("task", "publish", str(EXAMPLES / "task.toml"), "--source", source, env=env)
    proc = Proc("task", "watch", task["address"], env=env)
    try:
        proc.wait_for("watching...")
    finally:
        took = proc.interrupt()
    assert took < ctrl_c_budget(CTRL_C), took
    assert proc.process.returncode == 130


def test_a_command_waiting_on_a_silent_node_stops_at_once() -> None:
    with silent_node() as url:
        proc = Proc(
            "vault", "show", CLIENTS[0].address, "--chain", "devnet", "--rpc", url, env=clean_env()
        )
        time.sleep(1.5)  # started, and blocked on the node's answer
        took = proc.interrupt()
    assert took < ctrl_c_budget(CTRL_C), took
    assert proc.process.returncode == 130


# -- provider run through devnet restarts ----------------------------------------------------------


class DevnetProcess:
    """``ogpu devnet`` on fixed ports (so it can be restarted at the same URL)."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.store_port = free_port(), free_port()
        self.state = tmp / "chain.gz"
        self.proc: Proc | None = None

    @property
    def env(self) -> dict[str, str]:
        base = "http://127.0.0.1:"
        return devnet_env(f"{base}{self.port}", f"{base}{self.store_port}")

    def start(self, keep_state: bool = True) -> None:
        if not keep_state and self.state.exists():
            self.state.unlink()
        argv = ["devnet", "--port", str(self.port), "--store-port", str(self.store_port)]
        self.proc = Proc(*argv, "--state", str(self.state), env=clean_env())
        self.proc.wait_for("Press Ctrl-C to stop.", timeout=90)

    def stop(self) -> None:
        assert self.proc is not None
        assert self.proc.interrupt() < 10
        self.proc = None


def _finalized(task: str, env: dict[str, str]) -> None:
    done = run("task", "watch", task, "--timeout", "60", "--interval", "0.2", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert last_json(done.stdout)["status"] == "FINALIZED"


def test_provider_run_rides_through_devnet_restarts(
    tmp_path: Path, echo_source: str, echo_task: str
) -> None:
    devnet = DevnetProcess(tmp_path)
    devnet.start()
    env = devnet.env
    provider: Proc | None = None
    callback = free_port()
    try:
        source = run_json("source", "publish", echo_source, env=env)["address"]
        run_json("vault", "deposit", "1 OGPU", "--role", "client", env=env)
        with served(callback) as service:
            provider = Proc(
                "provider", "run", "--service-url", service.base_url,
                "--callback-port", str(callback), "--source", source, "--register",
                "--poll-interval", "0.2", env=env,
            )  # fmt: skip
            provider.wait_for("watching TaskPublished")
            publish = ("task", "publish", echo_task, "--source", source)
            _finalized(run_json(*publish, env=env)["address"], env)

            # 1. restarted with its state: the provider says it lost the chain, then serves on
            devnet.stop()
            lost = provider.wait_for("lost the chain")
            devnet.start()
            back = provider.wait_for("is back at block", start=lost)
            _finalized(run_json(*publish, env=env)["address"], env)

            # 2. restarted without its state: a fresh chain; the provider watches it from its
            # head and, with --register, registers again once the source is published again
            devnet.stop()
            devnet.start(keep_state=False)
            provider.wait_for("was reset", start=back)
            again = run_json("source", "publish", echo_source, env=env)
            assert again["address"] == source  # the devnet is deterministic
            run_json("vault", "deposit", "1 OGPU", "--role", "client", env=env)
            provider.wait_for(f"provider registered to source {source}", start=back)
            _finalized(run_json(*publish, env=env)["address"], env)
            took = provider.interrupt()
            assert took < ctrl_c_budget(CTRL_C), took
    finally:
        if provider is not None:
            provider.kill()
        if devnet.proc is not None:
            devnet.proc.kill()
        shutil.rmtree(tmp_path, ignore_errors=True)
    out = provider.output()
    assert "Traceback" not in out
    assert out.count("submitted (tx") == 3


def test_a_taken_callback_port_is_named_with_its_flag(
    ogpu: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_devnet_command import occupied

    source, _, running = world
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", PROVIDERS[0].key_hex)
    with occupied() as busy:
        argv = ["provider", "run", "--service-url", running.base_url, "--source", source.address]
        result = ogpu(*argv, "--callback-port", str(busy))
        line = result.err.strip().splitlines()[-1]
        assert f"127.0.0.1:{busy}" in line, line
        assert "pass --callback-port PORT, or --callback-port 0 for any free port" in line
        as_json = ogpu(*argv, "--callback-port", str(busy), "--json")
        assert last_json(as_json.err)["error"]["kind"] == "listen"
