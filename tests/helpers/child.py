"""Child processes that answer with JSON on their last line of output."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

__all__ = ["last_json", "python_json"]


def last_json(output: str) -> Any:
    """The JSON value on the last line of ``output`` (a child's stdout or stderr). No I/O."""
    return json.loads(output.strip().splitlines()[-1])


def python_json(code: str, timeout: float = 120) -> Any:
    """Run ``code`` in a fresh interpreter (this one's executable and environment) and
    return the JSON value on its last line of output; CalledProcessError if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=timeout
    )
    return last_json(done.stdout)
