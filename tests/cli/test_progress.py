"""Progress of slow steps: a spinner on a real terminal (a pty), a line per step otherwise,
nothing under --json; the spinner never outlives its step."""

from __future__ import annotations

import argparse
import io
import os
import pty
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ogpu.cli._progress import note, stage
from ogpu.devnet import CLIENTS

from .conftest import key_file, write
from .test_commands import SOURCE_TOML


def _args(as_json: bool = False) -> argparse.Namespace:
    return argparse.Namespace(json=as_json)


@pytest.mark.slow
def test_spinner_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    master, slave = pty.openpty()
    terminal = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    monkeypatch.setattr(sys, "stderr", terminal)
    before = {t.name for t in threading.enumerate()}
    with stage(_args(), "publishing the source"):
        time.sleep(0.6)
    terminal.flush()
    time.sleep(0.1)
    terminal.close()
    os.close(master)
    reader.join(2)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "publishing the source… 0." in shown  # frames with the elapsed time
    assert shown.count("\r") >= 3  # redrawn in place
    assert shown.endswith("\r\x1b[K")  # erased when the step ends
    assert "ogpu-progress" not in {t.name for t in threading.enumerate()} - before


def test_a_quick_step_on_a_terminal_shows_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    master, slave = pty.openpty()
    terminal = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
    monkeypatch.setattr(sys, "stderr", terminal)
    with stage(_args(), "quick"):
        pass
    os.set_blocking(master, False)
    with pytest.raises(BlockingIOError):
        os.read(master, 100)
    terminal.close()
    os.close(master)


def test_a_line_per_step_otherwise_and_nothing_under_json(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    with stage(_args(), "deploying"):
        pass
    note(_args(), "waiting")
    with stage(_args(as_json=True), "silent"):
        pass
    note(_args(as_json=True), "silent")
    assert captured.getvalue() == "… deploying\n… waiting\n"


def test_publish_shows_its_step_on_stderr_only(ogpu: Any, tmp_path: Path) -> None:
    key = key_file(tmp_path, CLIENTS[0])
    path = write(tmp_path, "s.toml", SOURCE_TOML)
    human = ogpu("source", "publish", path, "--key-file", key)
    assert human.code == 0
    assert human.err == "… publishing the source (metadata upload, transaction)\n"
    assert human.out.startswith("Published source: 0x")
    quiet = ogpu("source", "publish", path, "--key-file", key, "--json")
    assert quiet.code == 0 and quiet.err == ""
