"""``--detach``: run a long-running command in the background and return once it is ready.

The parent re-runs the same command line (without ``--detach``/``--log``) as a child
in its own session (the terminal's Ctrl-C does not reach it), with stdout and
stderr appended to ``--log FILE``. The child calls :func:`signal_ready` when it
serves; the parent then prints what the child printed so far and how to stop it,
and exits 0. If the child exits first, the parent shows the end of the log and
exits with the child's code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ogpu.cli.base import CommandError

__all__ = ["ENV_READY", "add_detach_options", "check_detach", "detach", "signal_ready"]

ENV_READY = "OGPU_CLI_READY_FILE"
_STRIP = {"--detach": 0, "--log": 1, "-q": 0, "--quiet": 0}


def add_detach_options(parser: argparse.ArgumentParser, name: str) -> None:
    """Add ``--detach`` and ``--log FILE``. No I/O."""
    parser.add_argument(
        "--detach",
        action="store_true",
        help="run in the background and return once ready (prints the PID to stop it with kill)",
    )
    parser.add_argument(
        "--log",
        metavar="FILE",
        help=f"with --detach: append the output to FILE (default ./ogpu-{name}.log)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="with --detach: print only the PID, e.g. PID=$(ogpu ... --detach -q)",
    )


def check_detach(args: argparse.Namespace) -> None:
    """Refuse ``--log`` or ``--quiet`` without ``--detach``. No I/O."""
    if not getattr(args, "detach", False):
        for name in ("log", "quiet"):
            if getattr(args, name, None):
                raise CommandError(f"--{name} goes with --detach", kind="usage", exit_code=2)


def _child_argv(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = 0
    for token in argv:
        if skip:
            skip -= 1
            continue
        name = token.split("=", 1)[0]
        if name in _STRIP:
            skip = _STRIP[name] if "=" not in token else 0
            continue
        out.append(token)
    return out


def signal_ready(info: dict[str, Any]) -> None:
    """Tell a waiting ``--detach`` parent that this process serves (no-op otherwise)."""
    path = os.environ.pop(ENV_READY, "")
    if not path:
        return
    data = json.dumps({"pid": os.getpid(), **info})
    temp = f"{path}.tmp"
    Path(temp).write_text(data, "utf-8")
    os.replace(temp, path)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def detach(args: argparse.Namespace, name: str, timeout: float = 300.0) -> int:
    """Start the command in the background (see the module doc); return the exit code.

    Raises:
        CommandError: the log cannot be opened, or the child failed to start.
    """
    log = Path(getattr(args, "log", None) or f"ogpu-{name}.log")
    try:
        stream = log.open("a", encoding="utf-8")
    except OSError as exc:
        raise CommandError(
            f"cannot open --log {log}: {exc.strerror or exc}", kind="input"
        ) from None
    handle, ready_name = tempfile.mkstemp(prefix="ogpu-ready-")
    os.close(handle)
    ready = Path(ready_name)
    ready.unlink()
    start = log.stat().st_size
    argv = [sys.executable, "-m", "ogpu.cli", *_child_argv(list(args.argv))]
    env = dict(os.environ, **{ENV_READY: str(ready), "PYTHONUNBUFFERED": "1"})
    with stream:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        info = _wait(child, ready, log, timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT)
        raise
    finally:
        with contextlib.suppress(OSError):
            ready.unlink()
    _report(args, log, start, child.pid, info)
    return 0


def _wait(child: subprocess.Popen[bytes], ready: Path, log: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        if ready.exists():
            data: dict[str, Any] = json.loads(ready.read_text("utf-8"))
            return data
        code = child.poll()
        if code is not None:
            tail = _tail(log)
            last = tail.splitlines()[-1] if tail else "no output"
            raise CommandError(
                f"the background process exited with code {code} before it was ready: "
                f"{last.removeprefix('ogpu: error: ')} (log: {log})",
                exit_code=code or 1,
            )
        if time.monotonic() > deadline:
            child.send_signal(signal.SIGINT)
            raise CommandError(f"not ready after {timeout:g} s (log: {log})", kind="timeout")
        time.sleep(0.05)


def _report(
    args: argparse.Namespace, log: Path, start: int, pid: int, info: dict[str, Any]
) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"event": "detached", "pid": pid, "log": str(log), **info}), flush=True)
        return
    if getattr(args, "quiet", False):
        print(pid, flush=True)
        return
    with contextlib.suppress(OSError), log.open("r", encoding="utf-8", errors="replace") as f:
        f.seek(start)
        sys.stdout.write(f.read())
    print(
        f"Running in the background (pid {pid}); output goes to {log}. Stop it with: kill {pid}",
        flush=True,
    )
