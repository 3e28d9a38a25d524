"""Real ``ogpu`` processes for the CLI tests: start, read their output as it comes, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..helpers.child import last_json
from .conftest import ROLE_VARS, SDK_VARS


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without keys or SDK variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ROLE_VARS + SDK_VARS}
    env.update(extra)
    return env


def env_file_values(path: Path) -> dict[str, str]:
    """``NAME=value`` of the ``export NAME=value`` lines of an ``--env-file``."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = value
    return values


_FLOOR: list[float] = []


def ctrl_c_budget(limit: float = 1.0) -> float:
    """``limit`` plus what Ctrl-C costs a bare Python process right now (measured once): the
    machine's load slows every exit alike, and the promise is about our own latency."""
    if not _FLOOR:
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        child.stdout.readline()
        begin = time.perf_counter()
        child.send_signal(signal.SIGINT)
        child.wait(30)
        _FLOOR.append(time.perf_counter() - begin)
    return limit + _FLOOR[0]


def run(*argv: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``ogpu ARGV`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "ogpu.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def run_json(*argv: str, env: dict[str, str]) -> Any:
    done = run(*argv, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return last_json(done.stdout)


class Proc:
    """A running ``ogpu`` process whose stdout and stderr lines are collected as they come."""

    def __init__(self, *argv: str, env: dict[str, str], cwd: Path | None = None) -> None:
        self.argv = argv
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ogpu.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, fragment: str, timeout: float = 60.0, start: int = 0) -> int:
        """Index of the first line from ``start`` holding ``fragment`` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index in range(start, len(self.lines)):
                    if fragment in self.lines[index]:
                        return index
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"{self.argv[:2]} never printed {fragment!r}:\n" + "\n".join(self.lines)
                    )
                self._cond.wait(min(left, 0.2))

    def interrupt(self) -> float:
        """Send SIGINT; seconds until the process exited (fails after 30 s)."""
        begin = time.perf_counter()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.argv[:2]} ignored Ctrl-C for 30 s") from None
        took = time.perf_counter() - begin
        self._reader.join(5)
        return took

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
