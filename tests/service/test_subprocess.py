"""Sources written for the official framework, run as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from ogpu.service.testing import CallbackRecorder

pytestmark = pytest.mark.slow

WaitUntil = Callable[..., None]
Launch = Callable[..., tuple[subprocess.Popen[bytes], str]]

# Verbatim from the seed's "Minimal example".
OFFICIAL_SOURCE = """\
import ogpu.service
from pydantic import BaseModel

class Input(BaseModel):
    text: str

class Output(BaseModel):
    result: str
    confidence: float

@ogpu.service.init()
def setup():
    ogpu.service.logger.info("Loading model...")

@ogpu.service.expose()
def predict(data: Input) -> Output:
    return Output(result="positive", confidence=0.97)

ogpu.service.start()
"""

SLOW_SOURCE = """\
import pathlib, time
import ogpu.service
from pydantic import BaseModel

class Input(BaseModel):
    marker: str

class Output(BaseModel):
    done: bool

@ogpu.service.expose()
def slow(data: Input) -> Output:
    pathlib.Path(data.marker).write_text("started")
    time.sleep(1.0)
    return Output(done=True)

ogpu.service.start()
"""


@pytest.fixture
def launch(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[Launch]:
    procs: list[subprocess.Popen[bytes]] = []

    def run(source: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
        path = tmp_path / f"source_{len(procs)}.py"
        path.write_text(source)
        port = str(free_port())
        full_env = {**os.environ, "PORT": port, "PYTHONUNBUFFERED": "1", **env}
        for var in ("OGPU_SERVICE_PORT", "OGPU_SERVICE_HOST"):
            full_env.pop(var, None)
        proc = subprocess.Popen(
            [sys.executable, str(path)],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        return proc, f"http://127.0.0.1:{port}"

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def wait_healthy(proc: subprocess.Popen[bytes], base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"source exited with {proc.returncode}:\n{out}")
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError("source never became healthy")


def test_official_minimal_example_runs_unchanged(
    launch: Launch, recorder: CallbackRecorder
) -> None:
    proc, base = launch(OFFICIAL_SOURCE, CALLBACK_URL=recorder.url)
    wait_healthy(proc, base)
    response = requests.post(f"{base}/run/predict/0xTASK", json={"text": "great"}, timeout=10)
    assert response.status_code == 202
    assert response.json() == {"task_address": "0xTASK", "status": "accepted"}
    [record] = recorder.wait_for("0xTASK", timeout=20)
    assert record.body == {"result": "positive", "confidence": 0.97}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) in (0, -signal.SIGTERM)
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "Loading model..." in output
    assert "Traceback" not in output


def test_sigterm_lets_the_running_task_deliver_its_callback(
    launch: Launch, recorder: CallbackRecorder, tmp_path: Path, wait_until: WaitUntil
) -> None:
    marker = tmp_path / "started"
    proc, base = launch(SLOW_SOURCE, CALLBACK_URL=recorder.url)
    wait_healthy(proc, base)
    response = requests.post(f"{base}/run/slow/0xSLOW", json={"marker": str(marker)}, timeout=10)
    assert response.status_code == 202
    wait_until(marker.exists, timeout=20, what="handler started")
    signalled_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) in (0, -signal.SIGTERM)
    [record] = recorder.delivered("0xSLOW")
    assert record.body == {"done": True}
    assert record.received_at > signalled_at


def test_failing_init_exits_nonzero(launch: Launch) -> None:
    source = textwrap.dedent(
        """\
        import ogpu.service
        from pydantic import BaseModel

        class M(BaseModel):
            x: int

        @ogpu.service.init()
        def setup():
            raise RuntimeError("no GPU")

        @ogpu.service.expose()
        def f(data: M) -> M:
            return data

        ogpu.service.start()
        """
    )
    proc, _ = launch(source)
    assert proc.wait(30) == 3
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "init function `setup` failed: no GPU" in output


def test_bad_environment_is_a_clear_error(launch: Launch) -> None:
    proc, _ = launch(OFFICIAL_SOURCE, OGPU_SERVICE_MAX_IN_FLIGHT="lots")
    assert proc.wait(30) == 1
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "ServiceConfigError: environment variable OGPU_SERVICE_MAX_IN_FLIGHT" in output


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn"])
def test_import_without_service_extra_says_what_to_install(missing: str) -> None:
    code = f"import sys; sys.modules[{missing!r}] = None; import ogpu.service"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "ServiceDependencyError" in result.stderr
    assert "pip install 'ogpu[service]'" in result.stderr
    assert f"{missing} is missing" in result.stderr
