"""The SDK's logging: loggers under ``ogpu.*``, silent by default, and ``set_verbose``.

The SDK logs through :mod:`logging` under the ``ogpu`` namespace: ``ogpu.ipfs``
(uploads and fetches), ``ogpu.tx`` (transaction stages and retries),
``ogpu.events``, ``ogpu.provider``; the source framework has its own
``ogpu.service`` logger. A ``NullHandler`` on ``ogpu`` keeps the SDK silent
unless the application configures logging (Python's last-resort handler would
otherwise print warnings to stderr). ``set_verbose()`` is the shortcut for
everyone else: a millisecond-timestamped stderr handler, so stage durations can
be read off the log. ``OGPU_VERBOSE=1`` (``true``/``yes``; environment or
``.env``) turns it on when the package is imported.

No message of the SDK contains a private key; URLs are logged with their
credentials and query strings redacted.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

__all__ = ["ENV_VERBOSE", "apply_env_verbose", "set_verbose"]

ENV_VERBOSE = "OGPU_VERBOSE"
_TRUE = ("1", "true", "yes")

_root = logging.getLogger("ogpu")
_root.addHandler(logging.NullHandler())

# Milliseconds: a 0.4 s upload is invisible at whole-second resolution.
_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s — %(message)s"
_DATEFMT = "%H:%M:%S"

_lock = threading.Lock()
_handler: logging.Handler | None = None


def set_verbose(enabled: bool = True, level: int = logging.DEBUG) -> None:
    """Print the SDK's log records (``ogpu.*``) to stderr, or stop. No I/O besides logging.

    ``enabled=True`` attaches one stderr handler to the ``ogpu`` logger (calling
    again does not duplicate output) and sets that logger's ``level``
    (``logging.DEBUG``: every stage and its duration; ``logging.INFO``:
    milestones). ``enabled=False`` removes the handler and resets the level it
    set. Applications that configure :mod:`logging` themselves should set the
    ``"ogpu"`` logger's level instead.

    The stream is the ``sys.stderr`` of the moment ``set_verbose`` is called.
    """
    global _handler
    with _lock:
        if enabled:
            if _handler is None:
                _handler = logging.StreamHandler(sys.stderr)
                _handler.setFormatter(logging.Formatter(_FORMAT, datefmt=_DATEFMT))
                _root.addHandler(_handler)
            _root.setLevel(level)
        elif _handler is not None:
            _root.removeHandler(_handler)
            _handler = None
            # only undo our own level: without set_verbose the user may have set one
            _root.setLevel(logging.NOTSET)


def apply_env_verbose() -> bool:
    """Call ``set_verbose()`` when ``OGPU_VERBOSE`` is ``1``, ``true`` or ``yes``; return
    whether it did. Run once when ``ogpu`` is imported, after ``.env`` files are read."""
    if os.environ.get(ENV_VERBOSE, "").strip().lower() in _TRUE:
        set_verbose()
        return True
    return False
