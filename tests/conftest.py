from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import schedule

# Suite-wide session servers: the devnet over HTTP, the proxy, the content store.
from .helpers.served import proxy, rpc_server, store_server  # noqa: F401

# Suite-wide: no role key from the developer's shell reaches a test (tests/helpers/state.py).
from .helpers.state import no_role_keys  # noqa: F401

# Opt-in, for the watcher tests: the shared poller's retry backoff cut to 0.05-0.2 s.
from .helpers.streams import fast_backoff  # noqa: F401

# Suite-wide secrets guard: fail any test during which a private key in use appears in a
# log record, an SDK exception or a warning (see tests/reliability/secrets_guard.py).
from .reliability.secrets_guard import (  # noqa: F401
    ogpu_secrets_guard,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
    pytest_warning_recorded,
)

# The devnet fixtures (``devnet``, ``devnet_session``) are opt-in, as for any project.
pytest_plugins = ["ogpu.devnet.pytest_plugin"]


FreshPython = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def fresh_python(tmp_path: Path) -> FreshPython:
    """``fresh_python(code, cwd=tmp_path, **env)``: run ``code`` in a new interpreter whose
    working directory and home are ``cwd`` (so no real ``.env`` is read) and whose
    environment has no ``OGPU_*``, role key or service variable but ``env``."""

    def run(code: str, cwd: Path = tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
        drop = ("OGPU_", "CLIENT_", "CALLBACK_", "SOURCE_ADDRESS", "PROVIDER_ADDRESS")
        clean = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            env={**clean, "HOME": str(cwd), **env},
            check=True,
        )

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first (tests/helpers/schedule.py): ``make test`` ends sooner."""
    schedule.order(items)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (``make test``): two workers per core. Much of a worker's time is waiting
    (timeouts and wall-clock bounds under test, servers, subprocesses), and with one worker
    per core that core sat idle; the second worker's CPU fills it. Without the slow tests
    (``make test-fast``) little waiting is left and the extra workers only contend: one
    worker more than the cores (on 2 cores: 51 s against 68 s with four)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    if "not slow" in (config.getoption("markexpr", "") or ""):
        return cores + 1
    return 2 * cores
