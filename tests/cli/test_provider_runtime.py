"""ogpu.provider: the runtime against a real ogpu.service over HTTP and the devnet over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from ogpu.cli import main
from ogpu.client import TaskInfo, TaskInput, publish_task, set_agent
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import Task, nexus
from ogpu.provider import (
    CallbackServer,
    ProviderRuntime,
    ProviderRuntimeError,
    RuntimeEvent,
    RuntimeSettings,
    prepare_provider,
)
from ogpu.service.testing import RunningService
from ogpu.types import InvalidInputError, MissingSignerError, TaskStatus

from ..helpers.wait import free_port, wait_until
from .conftest import (
    Devnet,
    assert_one_line_error,
    publish_source_sdk,
)


class Events:
    """Collects runtime events; waits for a task's final one."""

    def __init__(self) -> None:
        self.items: list[RuntimeEvent] = []
        self.cond = threading.Condition()

    def __call__(self, event: RuntimeEvent) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def final(self, task: str, timeout: float = 30.0) -> RuntimeEvent:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.items:
                    if event.task == task and event.kind in ("submitted", "failed", "skipped"):
                        return event
                left = deadline - time.monotonic()
                assert left > 0, [e.message for e in self.items]
                self.cond.wait(left)

    def kinds(self, task: str) -> list[str]:
        with self.cond:
            return [e.kind for e in self.items if e.task == task]


def publish(source: str, function: str = "echo", text: str = "hello") -> Task:
    return publish_task(
        TaskInfo(
            source=source,
            config=TaskInput(function_name=function, data={"text": text}),
            expiryTime=int(time.time()) + 600,
            payment=10**16,
        ),
        signer=CLIENTS[0].account,
    )


def settings(running: RunningService, port: int, **extra: Any) -> RuntimeSettings:
    return RuntimeSettings(
        service_url=running.base_url, callback_port=port, poll_interval=0.1, **extra
    )


def test_end_to_end_then_clean_stop(world: Any) -> None:
    source, port, running = world
    events = Events()
    runtime = ProviderRuntime(
        PROVIDERS[0].account, settings(running, port), sources=[source.address], on_event=events
    )
    with runtime:
        assert runtime.running
        assert runtime.callback_url == f"http://127.0.0.1:{port}/callback"
        task = publish(source.address, text="great day")
        final = events.final(task.address)
        assert final.kind == "submitted", final.message
        assert events.kinds(task.address) == [
            "task",
            "attempted",
            "dispatched",
            "result",
            "pinned",
            "submitted",
        ]
        assert final.data["result"] == {"echoed": "great day", "length": 9}
        assert task.get_status() == TaskStatus.FINALIZED
        response = task.get_confirmed_response()
        assert response is not None and response.address == final.data["response"]
        assert response.fetch_data() == {"echoed": "great day", "length": 9}
        assert response.get_params().provider == PROVIDERS[0].address
        assert runtime.stats() == {
            "seen": 1,
            "attempted": 1,
            "submitted": 1,
            "failed": 0,
            "skipped": 0,
        }
    assert not runtime.running
    assert [e.kind for e in events.items if e.task is None][-1] == "stopped"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    runtime.stop()


@pytest.mark.slow
def test_failures_are_reported_and_the_runtime_carries_on(world: Any) -> None:
    source, port, running = world
    events = Events()
    with ProviderRuntime(
        PROVIDERS[0].account, settings(running, port), sources=[source.address], on_event=events
    ):
        failing = publish(source.address, function="boom")
        failed = events.final(failing.address)
        assert failed.kind == "failed"
        assert "broken model" in failed.message
        unknown = publish(source.address, function="nope")
        refused = events.final(unknown.address)
        assert refused.kind == "failed"
        assert "refused /run/nope: 404" in refused.message
        good = publish(source.address)
        assert events.final(good.address).kind == "submitted"
    assert failing.get_status() == TaskStatus.ATTEMPTED
    assert failing.get_responses() == []
    assert good.get_status() == TaskStatus.FINALIZED


def test_closed_and_pre_attempted_tasks(world: Any, chain: Devnet) -> None:
    source, port, running = world
    start = int(chain.call("eth_blockNumber", []), 16)
    canceled = publish(source.address)
    canceled.cancel(signer=CLIENTS[0].account)
    attempted = publish(source.address)
    nexus.attempt(attempted.address, PROVIDERS[0].address, 10**16, signer=PROVIDERS[0].account)
    events = Events()
    with ProviderRuntime(
        PROVIDERS[0].account,
        settings(running, port),
        sources=[source.address],
        on_event=events,
        from_block=start,
    ) as runtime:
        skipped = events.final(canceled.address)
        assert skipped.kind == "skipped" and "CANCELED" in skipped.message
        done = events.final(attempted.address)
        assert done.kind == "submitted"
        assert any("already attempted" in e.message for e in events.items)
        assert runtime.stats()["attempted"] == 0
    assert attempted.get_status() == TaskStatus.FINALIZED


def test_agent_signs_the_attempts(world: Any, chain: Devnet) -> None:
    source, port, running = world
    set_agent(AGENTS[0].address, True, signer=MASTERS[0].account)
    events = Events()
    with ProviderRuntime(
        PROVIDERS[0].account,
        settings(running, port),
        scheduler=AGENTS[0].account,
        on_event=events,
    ) as runtime:
        runtime.add_source(source.address)
        runtime.add_source(source.address)
        assert runtime.sources() == [source.address]
        task = publish(source.address)
        assert events.final(task.address).kind == "submitted"
    attempt = next(e for e in events.items if e.kind == "attempted")
    sent = chain.call("eth_getTransactionByHash", [attempt.data["tx_hash"]])
    assert sent["from"].lower() == AGENTS[0].address.lower()


def test_settings_and_lifecycle_errors(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    source, port, running = world
    with pytest.raises(InvalidInputError, match="service_url"):
        RuntimeSettings(service_url="ftp://example.com")
    with pytest.raises(InvalidInputError, match="poll_interval"):
        RuntimeSettings(service_url="http://127.0.0.1:1", poll_interval=0)
    with pytest.raises(InvalidInputError, match="max_concurrent_tasks"):
        RuntimeSettings(service_url="http://127.0.0.1:1", max_concurrent_tasks=1.5)  # type: ignore[arg-type]
    with pytest.raises(MissingSignerError, match="PROVIDER_PRIVATE_KEY"):
        ProviderRuntime(None, settings(running, port))
    runtime = ProviderRuntime(PROVIDERS[0].key_hex, settings(running, port))
    assert PROVIDERS[0].key_hex[2:] not in repr(runtime)
    assert PROVIDERS[0].address in repr(runtime)
    with pytest.raises(ProviderRuntimeError, match="not running"):
        runtime.add_source(source.address)
    with pytest.raises(ProviderRuntimeError, match="not started"):
        _ = runtime.callback_url
    dead = RuntimeSettings(service_url=f"http://127.0.0.1:{free_port()}", service_ready_timeout=0.3)
    with pytest.raises(ProviderRuntimeError, match=r"not ready after 0\.3s"):
        ProviderRuntime(PROVIDERS[0].account, dead).start()


def test_prepare_provider_is_idempotent(chain: Devnet) -> None:
    source = publish_source_sdk()
    with pytest.raises(MissingSignerError, match="MASTER_PRIVATE_KEY"):
        prepare_provider(PROVIDERS[1].account, [source.address])
    steps = prepare_provider(PROVIDERS[1].account, [source.address], master=MASTERS[1].account)
    assert len(steps) == 3
    assert "registered to source" in steps[-1]
    assert prepare_provider(PROVIDERS[1].account, [source.address]) == []
    assert source.get_registrant_id(PROVIDERS[1].address) != 0


def test_callback_server_answers() -> None:
    server = CallbackServer(max_bytes=64)
    server.start()
    task = "0x" + "ab" * 20
    base = server.url
    try:
        assert requests.get(base.replace("/callback", "/health"), timeout=5).status_code == 200
        assert requests.post(f"{base}/{task}", json={"a": 1}, timeout=5).status_code == 404
        waiter = server.expect(task)
        with pytest.raises(InvalidInputError, match="already expected"):
            server.expect(task)
        ticket = server.ticket(task)
        assert ticket.startswith(task + "-") and len(ticket) > len(task) + 30
        assert requests.post(f"{base}/{ticket}", data=b"not json", timeout=5).status_code == 400
        assert requests.post(f"{base}/{ticket}", data=b"x" * 100, timeout=5).status_code == 413
        assert requests.post(f"{base}/not-a-task", json={}, timeout=5).status_code == 404
        # Without the task's secret, or with another one, nobody can deliver its result.
        for forged in (task, f"{task}-", f"{task}-{'0' * 32}", ticket[:-1]):
            assert requests.post(f"{base}/{forged}", json={}, timeout=5).status_code == 403
        answer = requests.post(
            f"{base}/{ticket}",
            json={"error": "x"},
            headers={"X-OGPU-Task-Status": "timeout"},
            timeout=5,
        )
        assert answer.status_code == 200
        result = waiter.result(timeout=5)
        assert (result.task, result.status, result.body) == (task, "timeout", {"error": "x"})
        assert requests.post(f"{base}/{ticket}", json={}, timeout=5).status_code == 409
        server.forget(task)
        assert server.expecting() == 0
        assert requests.post(f"{base}/{ticket}", json={}, timeout=5).status_code == 404
    finally:
        server.stop()


@pytest.mark.slow
def test_provider_run_command(
    world: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, port, running = world
    other = publish_source_sdk()
    key = tmp_path / "provider.key"
    key.write_text(PROVIDERS[0].key_hex)
    argv = [
        "provider",
        "run",
        "--service-url",
        running.base_url,
        "--callback-port",
        str(port),
        "--source",
        source.address,
        "--source",
        other.address,
        "--register",
        "--poll-interval",
        "0.1",
        "--exit-after",
        "1",
        "--key-file",
        str(key),
        "--json",
        "--chain",
        "devnet",
        "--rpc",
        chain_url(),
    ]
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(argv)))
    capsys.readouterr()
    thread.start()
    wait_until(lambda: other.get_registrant_id(PROVIDERS[0].address) != 0, interval=0.05)
    time.sleep(0.3)
    task = publish(other.address, text="via cli")
    thread.join(60)
    assert codes == [0]
    out = capsys.readouterr().out
    assert PROVIDERS[0].key_hex[2:] not in out
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events[:2]] == ["setup", "setup"]
    assert events[0]["message"] == "checking the pairing and the registration to 2 source(s)"
    assert events[1]["message"].startswith("provider registered to source " + other.address)
    assert all(set(e["time"]) == {"unix", "iso"} for e in events)
    submitted = [e for e in events if e["event"] == "submitted"]
    assert submitted and submitted[0]["task"] == task.address
    assert submitted[0]["data"]["result"] == {"echoed": "via cli", "length": 7}
    assert events[-1]["event"] == "stopped"
    assert task.get_status() == TaskStatus.FINALIZED


def chain_url() -> str:
    from ogpu.chain import ChainConfig

    return ChainConfig.get_rpc()


def test_provider_run_needs_a_source(
    ogpu: Callable[..., Any], world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, running = world
    url = running.base_url
    no_file = ogpu("provider", "run", "--service-url", url, "--key-file", "/nonexistent")
    assert_one_line_error(no_file, "cannot read key file /nonexistent")
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", PROVIDERS[2].key_hex)
    lonely = ogpu("provider", "run", "--service-url", url)
    assert_one_line_error(lonely, "registered to no source")
    assert_one_line_error(ogpu("provider", "run", "--register"), "needs at least one --source")


def test_provider_run_refuses_bad_keys_and_stake_before_anything_starts(
    ogpu: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The node is a closed port: had the run connected (or paired) first, the error
    # would be about the node, not the option.
    dead = ["--chain", "devnet", "--rpc", f"http://127.0.0.1:{free_port()}"]
    argv = ["provider", "run", "--source", MASTERS[0].address, "--register", *dead]
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", PROVIDERS[2].key_hex)
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    bad.chmod(0o600)  # no exposed-key warning line
    for option in ("--scheduler-key-file", "--master-key-file"):
        missing = ogpu(*argv, option, str(tmp_path / "none.key"), net=False)
        assert_one_line_error(missing, f"cannot read key file {tmp_path / 'none.key'}")
        malformed = ogpu(*argv, option, str(bad), net=False)
        assert_one_line_error(malformed, f"key file {bad} does not hold a 32-byte hex")
    stake = ogpu(*argv, "--stake", "lots", net=False)
    assert_one_line_error(stake, "--stake: cannot read 'lots' as an amount")


def test_provider_run_seconds_options_set_their_settings(
    ogpu: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ogpu.cli import build_parser
    from ogpu.cli._provider_run import _settings

    waits = ["--poll-interval", "2", "--result-timeout", "3", "--fetch-timeout", "4"]
    argv = ["provider", "run", *waits, "--service-timeout", "5"]
    chosen = _settings(build_parser(argv).parse_args(argv))
    assert (chosen.poll_interval, chosen.result_timeout) == (2, 3)
    assert (chosen.fetch_timeout, chosen.service_ready_timeout) == (4, 5)
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", PROVIDERS[2].key_hex)
    for flag in ("--poll-interval", "--result-timeout", "--fetch-timeout", "--service-timeout"):
        refused = ogpu("provider", "run", flag, "0", net=False)
        assert_one_line_error(refused, f"{flag} must be a positive number of seconds")
