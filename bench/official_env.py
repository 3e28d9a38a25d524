"""The published SDK (``ogpu==0.2.3`` from PyPI) in its own virtual environment.

``ensure_official_venv()`` creates ``bench/.venvs/official`` (gitignored) with the
running interpreter's ``venv`` module and pip-installs the pinned package into it.
It is idempotent: a marker file records the requirement, and a venv whose marker
matches and whose interpreter still imports ``ogpu`` at that version is reused
without touching the network.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OFFICIAL_REQUIREMENT", "OfficialEnv", "OfficialEnvError", "ensure_official_venv"]

OFFICIAL_VERSION = "0.2.3"
# The service extra too: the compatibility test and the service benchmark import
# ogpu.service from it.
OFFICIAL_REQUIREMENT = f"ogpu[service]=={OFFICIAL_VERSION}"
VENV_DIR = Path(__file__).resolve().parent / ".venvs" / "official"
_MARKER = "bench-official.json"
_PIP_TIMEOUT = 540


class OfficialEnvError(RuntimeError):
    """The official SDK's virtual environment could not be created or verified."""


@dataclass(frozen=True)
class OfficialEnv:
    python: Path
    version: str
    site_packages: Path
    created: bool
    seconds: float


def _python(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _probe(python: Path) -> tuple[str, Path] | None:
    """(ogpu version, site-packages dir) of ``python``'s ogpu, or None if it cannot import it."""
    code = (
        "import json, importlib.metadata as m, pathlib, ogpu;"
        "print(json.dumps([m.version('ogpu'), str(pathlib.Path(ogpu.__file__).parent.parent)]))"
    )
    try:
        done = subprocess.run(
            [str(python), "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=str(python.parent),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        version, site = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return str(version), Path(site)


@contextlib.contextmanager
def _exclusive(venv: Path) -> Iterator[None]:
    """Hold a lock beside ``venv``: parallel test workers (pytest-xdist) and bench runs
    would otherwise create or delete the same venv at once."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_official_venv(venv: Path = VENV_DIR, *, log: bool = True) -> OfficialEnv:
    """Return the official SDK's venv, creating it if needed (one process at a time).

    Cost and errors: as ``_ensure_official_venv``.
    """
    with _exclusive(venv):
        return _ensure_official_venv(venv, log=log)


def _ensure_official_venv(venv: Path, *, log: bool) -> OfficialEnv:
    """Return the official SDK's venv, creating it (``venv`` + ``pip install``) if needed.

    Cost: none when cached (one interpreter start to verify); otherwise a venv
    creation and a PyPI install (about 30 s). Raises ``OfficialEnvError`` when
    the venv cannot be created or the install fails.
    """
    started = time.perf_counter()
    python = _python(venv)
    marker = venv / _MARKER
    wanted = {"requirement": OFFICIAL_REQUIREMENT, "python": sys.version.split()[0]}
    if python.exists() and marker.exists():
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            recorded = None
        probed = _probe(python)
        if recorded == wanted and probed is not None and probed[0] == OFFICIAL_VERSION:
            return OfficialEnv(python, probed[0], probed[1], False, time.perf_counter() - started)
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    if log:
        print(f"bench: creating {venv} and installing {OFFICIAL_REQUIREMENT} ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            OFFICIAL_REQUIREMENT,
        ],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=_PIP_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OfficialEnvError(f"{step[0]} {' '.join(step[1:3])} failed: {exc}") from None
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            command = " ".join(step[1:4])
            raise OfficialEnvError(f"{command} failed (exit {done.returncode}):\n{tail}")
    probed = _probe(python)
    if probed is None or probed[0] != OFFICIAL_VERSION:
        raise OfficialEnvError(f"{venv} does not import ogpu {OFFICIAL_VERSION} after install")
    marker.write_text(json.dumps(wanted))
    return OfficialEnv(python, probed[0], probed[1], True, time.perf_counter() - started)
