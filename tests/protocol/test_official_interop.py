"""The published ``ogpu==0.2.3`` and ours read the same lists, item for item, on the devnet.

The official SDK is the only client ever run against mainnet, so it is the oracle of
how the deployed list getters page (docs/MAINNET.md). It runs in its own virtual
environment (``bench/official_env.py``: created with pip from PyPI if missing, about
25 s), pointed at this devnet over HTTP by ``bench/official_shim.py``, and reads every
paginated list of a scenario with several tasks, attempts and responses, some lists
longer than one chunk of 100.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import Source, Task, nexus
from ogpu.types import Environment

from ..helpers.child import last_json
from .lists import ListBuilder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
READER = Path(__file__).resolve().parent / "official_reader.py"
LISTS = (
    "get_tasks",
    "get_registrants",
    "get_attempters",
    "get_attempt_timestamps",
    "get_responses",
)


def _official_python() -> Path:
    """The official SDK's interpreter, created if needed; skip loudly when impossible."""
    path = ROOT / "bench" / "official_env.py"
    spec = importlib.util.spec_from_file_location("_bench_official_env", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    try:
        env = module.ensure_official_venv(log=False)
    except module.OfficialEnvError as exc:
        reason = (
            f"INTEROPERABILITY NOT TESTED: cannot create the official ogpu==0.2.3 venv "
            f"(PyPI unreachable?): {exc}"
        )
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    return Path(env.python)


@pytest.fixture(scope="module")
def official_python() -> Path:
    return _official_python()


def official_reads(python: Path, rpc: str, net: Any, reads: list[dict[str, Any]], tmp: Path) -> Any:
    deployment = net.deployment
    request = {
        "rpc": rpc,
        "store": "http://127.0.0.1:9",  # no upload happens
        "contracts": {
            name: getattr(deployment, name) for name in ("nexus", "controller", "terminal", "vault")
        },
        "reads": reads,
    }
    # As the bench's workers: no PYTHONPATH (each interpreter its own ogpu), no OGPU_ or key
    # variables, HOME and cwd in a scratch folder (the package loads .env files from there).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OGPU_"))}
    env = {k: v for k, v in env.items() if not k.endswith("_PRIVATE_KEY")}
    env["HOME"] = str(tmp)
    done = subprocess.run(
        [str(python), str(READER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return last_json(done.stdout)


def ours(kind: str, address: str, lower: int, upper: int | None) -> list[Any]:
    target: Any = Source(address) if kind in ("get_tasks", "get_registrants") else Task(address)
    items = getattr(target, kind)(lower, upper)
    return [
        item if isinstance(item, int) else str(getattr(item, "address", item)) for item in items
    ]


def test_official_sdk_and_ours_read_identical_lists(
    official_python: Path, http_world: Any, proxy: Any, rpc_server: Any, tmp_path: Path
) -> None:
    world = http_world
    world.fund(world.client)
    # Several tasks, attempts and responses through the protocol itself.
    sources = [world.source(), world.source()]
    for index, provider in enumerate(PROVIDERS):
        world.register(sources[0], provider, MASTERS[index])
    nexus.register(
        sources[1].address, PROVIDERS[1].address, Environment.CPU, signer=PROVIDERS[1].account
    )
    tasks = [world.task(sources[0]) for _ in range(4)] + [world.task(sources[1])]
    for provider in PROVIDERS:
        nexus.attempt(tasks[0].address, provider.address, 1, signer=provider.account)
    world.respond(tasks[0], PROVIDERS[0], "https://example.invalid/a.json")
    world.respond(tasks[0], PROVIDERS[2], "https://example.invalid/c.json")
    for provider in PROVIDERS[:2]:
        nexus.attempt(tasks[1].address, provider.address, 1, signer=provider.account)
    nexus.attempt(tasks[2].address, PROVIDERS[1].address, 1, signer=PROVIDERS[1].account)
    world.respond(tasks[2], PROVIDERS[1], "https://example.invalid/b.json")
    nexus.unregister(sources[0].address, PROVIDERS[0].address, signer=PROVIDERS[0].account)
    # Lists past one chunk of 100, on the real contracts.
    builder = ListBuilder(world.devnet.w3, CLIENTS[2].address, world.devnet)
    long_source = builder.source(230, 130)
    long_task = builder.task(sources[0].address, 205, respond_every=9)

    reads: list[dict[str, Any]] = []
    for kind in LISTS:
        if kind in ("get_tasks", "get_registrants"):
            addresses = [s.address for s in sources] + [long_source.address]
            counts = [len(ours(kind, a, 0, None)) for a in addresses]
        else:
            addresses = [t.address for t in tasks] + [long_task.address]
            counts = [Task(a).get_attempt_count() for a in addresses]
        for address, count in zip(addresses, counts, strict=True):
            # Windows the official SDK can read (it asks past the end when upper > count).
            windows = {(0, None), (0, count), (count, None), (0, 0), (1, max(count, 1))}
            windows |= {(1, min(count, 3)), (count // 2, count), (99, min(count, 150))}
            windows = {(lo, hi) for lo, hi in windows if hi is None or lo <= hi <= count}
            for lower, upper in sorted(windows, key=str):
                reads.append({"kind": kind, "address": address, "lower": lower, "upper": upper})

    # A window past the end: the official SDK asks for index count and gets the panic;
    # ours reads up to the count (docs/COMPATIBILITY.md, deliberate difference 16).
    past = {"kind": "get_attempters", "address": long_task.address, "lower": 0, "upper": 210}
    answers = official_reads(
        official_python, rpc_server.url, world.devnet, [*reads, past], tmp_path
    )
    official_past = answers.pop()
    assert "error" in official_past and "Panic" in official_past["error"], official_past
    assert ours("get_attempters", long_task.address, 0, 210) == long_task.attempters
    assert len(answers) == len(reads)
    compared = 0
    for read, answer in zip(reads, answers, strict=True):
        mine = ours(read["kind"], read["address"], read["lower"], read["upper"])
        assert "error" not in answer, (read, answer)
        theirs = [item if isinstance(item, int) else str(item) for item in answer["items"]]
        assert mine == theirs, read
        compared += len(mine)
    # The comparison covered real content: the long lists and the scenario's responses.
    assert compared > 1000
    full = {
        (r["kind"], r["address"]): a["items"]
        for r, a in zip(reads, answers, strict=True)
        if r["lower"] == 0 and r["upper"] is None
    }
    assert len(full[("get_tasks", long_source.address)]) == 230
    assert len(full[("get_responses", tasks[0].address)]) == 2
    assert len(full[("get_registrants", sources[0].address)]) == 2
    assert full[("get_responses", long_task.address)] == long_task.responded()
