"""Progress of steps that can take more than a second, on stderr.

On a terminal a spinner with the elapsed time (shown after 0.2 s, erased when the
step ends); otherwise one ``… step`` line per step (for usually quick steps, only
once they took a second); nothing under ``--json`` or ``--quiet``.
Ctrl-C stops a step at once: the spinner is a daemon thread that never blocks.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["note", "stage"]

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_DELAY = 0.2
_TICK = 0.1
_SLOW = 1.0


def _quiet(args: Any) -> bool:
    return bool(getattr(args, "json", False) or getattr(args, "quiet", False))


def _tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _write(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
        sys.stderr.flush()


def note(args: Any, text: str) -> None:
    """One status line on stderr (``… text``), unless ``--json``."""
    if not _quiet(args):
        _write(f"… {text}\n")


class _Spinner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.started = time.monotonic()
        self._done = threading.Event()
        self._shown = False
        self._thread = threading.Thread(target=self._spin, name="ogpu-progress", daemon=True)

    def _spin(self) -> None:
        if self._done.wait(_DELAY):
            return
        frame = 0
        while not self._done.is_set():
            elapsed = time.monotonic() - self.started
            self._shown = True
            _write(f"\r{_FRAMES[frame % len(_FRAMES)]} {self.text}… {elapsed:.1f}s\033[K")
            frame += 1
            self._done.wait(_TICK)

    def __enter__(self) -> _Spinner:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join(0.5)
        if self._shown:
            _write("\r\033[K")


@contextlib.contextmanager
def stage(args: Any, text: str, *, slow_only: bool = False) -> Iterator[None]:
    """Show ``text`` as the current step while the block runs (see the module doc).

    ``slow_only``: a step that is usually quick (a read, a connection): off a
    terminal, its line is printed only once it has run for a second.
    """
    if _quiet(args):
        yield
        return
    if _tty():
        with _Spinner(text):
            yield
        return
    if not slow_only:
        _write(f"… {text}\n")
        yield
        return
    timer = threading.Timer(_SLOW, _write, (f"… {text}\n",))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
