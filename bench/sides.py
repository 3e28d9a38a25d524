"""The three sides of every comparison, each a ``bench/worker.py`` child process.

- ``ours``: this repository's SDK, in the harness's interpreter (the main venv).
- ``official``: ``ogpu==0.2.3`` in ``bench/.venvs/official`` (see ``official_env``).
- ``web3``: hand-written web3.py calls, the floor, in the harness's interpreter.

Workers run in a scratch directory with ``HOME`` pointed there, so the official
package's ``.env`` loading (cwd, home) finds nothing, and without ``PYTHONPATH``,
so each interpreter imports its own ``ogpu``.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["SIDES", "SideError", "WorkerProcess", "wait_all", "worker_env"]

SIDES = ("ours", "official", "web3")
WORKER = Path(__file__).resolve().parent / "worker.py"
MARK = "@@bench@@"
SCRATCH = Path(tempfile.gettempdir()) / "ogpu-bench-home"


class SideError(RuntimeError):
    """A worker died, timed out or answered garbage."""


def worker_env() -> dict[str, str]:
    SCRATCH.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OGPU_"))}
    for name in ("CLIENT_PRIVATE_KEY", "PROVIDER_PRIVATE_KEY", "MASTER_PRIVATE_KEY"):
        env.pop(name, None)
    env["HOME"] = str(SCRATCH)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _reader(stream: IO[str], sink: queue.Queue[dict[str, Any] | None]) -> None:
    for line in stream:
        if line.startswith(MARK):
            try:
                sink.put(json.loads(line[len(MARK) :]))
            except ValueError:
                sink.put({"error": f"unparseable worker answer: {line[:200]!r}"})
    sink.put(None)


class WorkerProcess:
    """One worker child. ``call`` sends a command and waits for its answer.

    With ``oneshot=True`` the commands are given up front (stdin is then closed)
    and answers are read with ``next_answer``.
    """

    def __init__(
        self,
        side: str,
        python: str | os.PathLike[str],
        *,
        oneshot: list[dict[str, Any]] | None = None,
    ) -> None:
        self.side = side
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by close()
        args = [str(python), str(WORKER), "--side", side]
        if oneshot is not None:
            args.append("--oneshot")
        try:
            self.process = self._spawn(args)
        except OSError as exc:
            self.log.close()
            raise SideError(f"cannot start the {side} worker ({python}): {exc}") from None
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        assert self.process.stdout is not None and self.process.stdin is not None
        threading.Thread(
            target=_reader, args=(self.process.stdout, self._answers), daemon=True
        ).start()
        if oneshot is not None:
            self.process.stdin.write("".join(json.dumps(c) + "\n" for c in oneshot))
            self.process.stdin.close()
        else:
            hello = self.next_answer(120)
            if "hello" not in hello:
                raise SideError(f"{side} worker did not start: {hello}")

    def _spawn(self, args: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=str(SCRATCH) if SCRATCH.exists() else None,
            env=worker_env(),
            bufsize=1,
        )

    def stderr_tail(self, limit: int = 1500) -> str:
        try:
            self.log.seek(0)
            return self.log.read()[-limit:]
        except (OSError, ValueError):
            return ""

    def next_answer(self, timeout: float) -> dict[str, Any]:
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise SideError(f"{self.side} worker gave no answer in {timeout:.0f} s") from None
        if answer is None:
            self.process.wait(5)
            raise SideError(
                f"{self.side} worker exited ({self.process.returncode}): {self.stderr_tail()}"
            )
        return answer

    def call(self, command: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise SideError(f"{self.side} worker is gone: {self.stderr_tail()}") from None
        return self.next_answer(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                if self.process.stdin is not None and not self.process.stdin.closed:
                    self.process.stdin.write('{"op": "exit"}\n')
                    self.process.stdin.close()
                self.process.wait(10)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
        self.log.close()


def wait_all(workers: list[WorkerProcess], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for worker in workers:
        try:
            worker.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(5)
