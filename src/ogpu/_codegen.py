"""What the project's two generators share: docstring rendering and ``ruff format``.

Used by the build-time binding generator (``codegen/``) and the task-client
generator shipped in the package (:mod:`ogpu.taskclient`). ruff runs with fixed
settings and no config file, so the same input gives the same output wherever it
runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "LINE_LENGTH",
    "TARGET",
    "RuffError",
    "docstring",
    "environment",
    "format_sources",
    "ruff_binary",
]

LINE_LENGTH = 100
TARGET = "py310"


def docstring(lines: list[str], indent: int) -> str:
    """A triple-quoted docstring from pre-wrapped lines, continuation lines indented."""
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    pad = " " * indent
    body = "\n".join((pad + line) if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{pad}"""'


def environment(templates: Path) -> Any:
    """The jinja2 environment every generator renders with: templates from ``templates``,
    block tags trimmed, undefined names an error, no escaping, the ``docstring`` filter.
    Imports jinja2 (an ``ImportError`` when it is missing). No I/O until rendering."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["docstring"] = docstring
    return env


class RuffError(RuntimeError):
    """ruff is missing or refused the generated code (a generator bug)."""


def ruff_binary() -> str:
    """Path of ruff: the one installed next to this interpreter, else on ``PATH``. No I/O
    beyond file checks.

    Raises:
        RuffError: ruff is not installed.
    """
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "ruff", scripts / "ruff.exe", Path(sys.executable).parent / "ruff"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("ruff")
    if found is None:
        raise RuffError("ruff is not installed; pip install ruff (it formats generated code)")
    return found


def format_sources(
    files: dict[str, str], *, line_length: int = LINE_LENGTH, target: str = TARGET
) -> dict[str, str]:
    """``files`` (relative path -> source) as ``ruff format`` writes them. Runs ruff once
    over a temporary folder.

    Raises:
        RuffError: ruff is missing or failed (its message included).
    """
    with tempfile.TemporaryDirectory(prefix="ogpu-format-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        cmd = [
            ruff_binary(),
            "format",
            "--isolated",
            "--quiet",
            f"--line-length={line_length}",
            f"--target-version={target}",
            str(root),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuffError(f"ruff format failed on the generated code:\n{proc.stderr}")
        return {rel: (root / rel).read_text(encoding="utf-8") for rel in files}
