"""Every script in examples/ runs against a devnet served over HTTP, as a subprocess.

The scripts share one devnet, in the order a reader would run them, so they
also prove they do not depend on a fresh chain. The README's CLI path for a
source developer (service process + ``ogpu provider run`` + client commands)
runs the same way.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ..helpers.wait import free_port
from .conftest import EXAMPLES, KEYS, ROOT, ServedDevnet

SCRIPTS = {
    "client_happy_path.py": [
        r"^published source 0x[0-9a-fA-F]{40} \(ACTIVE\)$",
        r"^  \[provider\] submitted: response 0x",
        r"^confirmed in block \d+: task FINALIZED$",
        r"^RESULT positive$",
    ],
    "cancellation.py": [
        r"CANCELED, refunded 10000000000000000 wei$",
        r"^cancel refused: TaskNotCancelableError: ",
        r"^RESULT cancelled=CANCELED attempted=ATTEMPTED$",
    ],
    "source_update.py": [
        r"^updated: minPayment 50000000000000000 wei, .*'v2: now on GPUs too'$",
        r"^old price refused: payment 10000000000000000 wei is below",
        r"^new task refused: SourceInactiveError$",
        r"^RESULT INACTIVE minPayment=50000000000000000$",
    ],
    "vault_lifecycle.py": [
        r"^claim too early: UnbondingPeriodNotElapsedError \(period \d+ s\)$",
        r"^withdraw +balance 0 +lockup 1 +unbonding 0 OGPU$",
        r"^RESULT lockup \+1 OGPU$",
    ],
    "typed_client.py": [
        r"^manifest sha256:[0-9a-f]{12}… functions: predict, predict_batch$",
        r"^refused: UnknownFunctionError: .*did you mean 'predict'\?",
        r"^refused: TaskDataError: .* at data\.texts\[1\]: Input should be a valid string",
        r"^nothing paid: True$",
        r"^generated sentiment_client\.py: True$",
        r"^result_predict: PredictOutput\(label='positive', score=1\.0\)$",
        r"^RESULT positive$",
    ],
    "agent_flow.py": [
        r"^master authorized agent 0x[0-9a-fA-F]{40}: True$",
        r"^  \[provider\] attempted: attempted \(tx 0x",
        r"^RESULT positive$",
    ],
}


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(SCRIPTS) | {"sentiment_source.py"}


@pytest.mark.slow
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_example(served: ServedDevnet, script: str) -> None:
    done = served.run(str(EXAMPLES / script))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for pattern in SCRIPTS[script]:
        assert re.search(pattern, done.stdout, re.MULTILINE), (pattern, done.stdout)


def _ogpu(served: ServedDevnet, *argv: str) -> subprocess.CompletedProcess[str]:
    done = served.run("-m", "ogpu.cli", *argv, "--chain", "devnet", **KEYS)
    assert done.returncode == 0, done.stderr
    return done


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], needle: str, seen: list[str]) -> None:
    while True:
        line = lines.get(timeout=60)
        seen.append(line)
        if needle in line:
            return


@pytest.mark.slow
def test_source_developer_path(served: ServedDevnet, tmp_path: Path) -> None:
    """The README's source-developer quickstart, command by command."""
    service_port, callback_port = free_port(), free_port()
    service = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "sentiment_source.py")],
        env=served.env(
            PORT=str(service_port),
            OGPU_SERVICE_HOST="127.0.0.1",
            CALLBACK_URL=f"http://127.0.0.1:{callback_port}/callback",
        ),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    provider: subprocess.Popen[str] | None = None
    try:
        published = json.loads(
            _ogpu(served, "source", "publish", "examples/source.toml", "--json").stdout
        )
        source = published["address"]
        assert published["manifest"].startswith("sha256:")  # source.toml names the source file
        client_file = tmp_path / "sentiment_client.py"
        _ogpu(served, "source", "client", source, "-o", str(client_file))
        assert f"# Source:     {source}" in client_file.read_text()
        provider = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ogpu.provider",
                "--chain",
                "devnet",
                "--service-url",
                f"http://127.0.0.1:{service_port}",
                "--callback-port",
                str(callback_port),
                "--source",
                source,
                "--register",
                "--poll-interval",
                "0.2",
                "--exit-after",
                "1",
            ],
            env=served.env(**KEYS),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: list[str] = []
        _wait_for(_lines(provider), "[  watching]", seen)
        assert any("provider registered to source " + source in line for line in seen), seen

        _ogpu(served, "vault", "deposit", "0.1 OGPU", "--role", "client")
        typo = tmp_path / "typo.toml"
        typo.write_text((EXAMPLES / "task.toml").read_text().replace('"predict"', '"predcit"'))
        refused = served.run(
            "-m", "ogpu.cli", "task", "publish", str(typo), "--source", source, "--chain",
            "devnet", **KEYS,
        )  # fmt: skip
        assert refused.returncode == 1
        assert "did you mean 'predict'?" in refused.stderr, refused.stderr
        task_out = _ogpu(
            served, "task", "publish", "examples/task.toml", "--source", source, "--json"
        )
        task = json.loads(task_out.stdout)["address"]
        watched = _ogpu(served, "task", "watch", task, "--interval", "0.2", "--timeout", "60")
        final = watched.stdout.strip().splitlines()[-1]
        assert final.startswith(f"task {task}: FINALIZED, confirmed response 0x"), watched.stdout
        response = final.rsplit(" ", 1)[-1]

        assert provider.wait(timeout=60) == 0, provider.stderr.read() if provider.stderr else ""
        shown = json.loads(_ogpu(served, "response", "show", response, "--data", "--json").stdout)
        assert shown["task"] == task
        assert shown["data"]["label"] == "positive"
        assert shown["confirmed"] is True
    finally:
        if provider is not None and provider.poll() is None:
            provider.send_signal(signal.SIGINT)
            provider.wait(timeout=30)
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=30)
    # uvicorn re-raises the stop signal after its graceful shutdown
    assert service.returncode in (0, -signal.SIGTERM), (
        service.stderr.read() if service.stderr else ""
    )
