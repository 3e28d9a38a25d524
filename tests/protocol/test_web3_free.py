"""The read path without web3: in a fresh interpreter, ``Task.snapshot()``,
``Source.get_tasks()`` and ``ogpu task show`` against the devnet over HTTP load no web3,
eth-abi or eth-account (nor requests or eth-hash): the SDK's transport, ABI codec and
keccak do the work. A reverting read (no contract at the address) stays web3-free too."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..helpers.child import last_json

pytestmark = pytest.mark.slow

FreshPython = Callable[..., subprocess.CompletedProcess[str]]  # the root conftest's fixture

#: Modules the read path must not load.
HEAVY = ("web3", "eth_abi", "eth_account", "eth_utils", "eth_hash", "requests")


def _addresses(world: Any) -> dict[str, str]:
    deployment = world.devnet.deployment
    names = ("nexus", "controller", "terminal", "vault")
    return {name: getattr(deployment, name) for name in names}


def test_snapshot_and_task_list_load_no_web3(
    http_world: Any, proxy: Any, fresh_python: FreshPython
) -> None:
    world = http_world
    world.fund(world.client)
    source = world.source()
    tasks = [world.task(source, payment=10**15 + i) for i in range(3)]
    code = f"""
        import json, sys
        from ogpu.chain import ChainConfig
        from ogpu.protocol import Source, Task
        from ogpu.types import TaskNotFoundError
        ChainConfig.use_devnet({_addresses(world)!r}, rpc={proxy.url!r})
        snap = Task({tasks[1].address!r}).snapshot()
        listed = [t.address for t in Source({source.address!r}).get_tasks()]
        # read without validation (no schema build), equal to the validated model
        from ogpu.types import TaskParams
        same = snap.params == TaskParams(**snap.params.model_dump())
        try:
            Task({world.client.address!r}).snapshot()
        except TaskNotFoundError:
            missing = True
        print(json.dumps({{
            "payment": snap.payment, "source": snap.source, "config": snap.params.config,
            "listed": listed, "missing": missing, "same": same,
            "loaded": [m for m in {HEAVY!r} if m in sys.modules],
        }}))
    """
    out = last_json(fresh_python(code).stdout)
    assert out["loaded"] == []
    assert out["payment"] == 10**15 + 1 and out["source"] == source.address
    assert out["config"] == tasks[1].get_params().config
    assert out["listed"] == [t.address for t in tasks]
    assert out["missing"] is True and out["same"] is True


def test_task_show_loads_no_web3(
    http_world: Any, proxy: Any, fresh_python: FreshPython, tmp_path: Path
) -> None:
    world = http_world
    world.fund(world.client)
    task = world.task(world.source(), payment=10**16 + 12345)
    deployment = tmp_path / "deployment.json"
    deployment.write_text(json.dumps(_addresses(world)))
    argv = ["task", "show", task.address, "--chain", "devnet", "--rpc", proxy.url]
    argv += ["--deployment", str(deployment), "--json"]
    code = f"""
        import json, sys
        from ogpu.cli import main
        status = main({argv!r})
        loaded = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps({{"status": status, "loaded": loaded}}))
    """
    lines = fresh_python(code).stdout.strip().splitlines()
    out = json.loads(lines[-1])
    assert out == {"status": 0, "loaded": []}
    shown = json.loads("\n".join(lines[:-1]))
    assert shown["address"] == task.address and shown["payment"]["wei"] == str(10**16 + 12345)
