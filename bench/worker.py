"""Benchmark worker: runs workloads with one SDK side, driven by JSON lines on stdin.

    python bench/worker.py --side ours|official|web3            # command loop
    python bench/worker.py --side S --oneshot < commands.jsonl   # run the commands, exit

Runs as a plain script under either interpreter: the main venv (``ours`` = this
repository's ``ogpu``; ``web3`` = hand-written web3.py calls, the floor) or the
official SDK's venv (``official`` = ``ogpu==0.2.3``, pointed at the devnet by
``official_shim``). It imports only the standard library (and ``worker_base``, next to it) at
start-up; the SDK, and the publish and watch code (``worker_publish``,
``worker_watch``), are imported by the first command that needs them, so
``import`` and ``first_result`` timings are clean.

Protocol: each command is one JSON object per line; each answer is one line
``@@bench@@ {json}`` on stdout (other output is ignored by the harness). A
workload that is not available in this side answers ``{"unavailable": reason}``.
Keys arrive on stdin only and are never echoed.

``ours`` and ``official`` run the *same* workload code: both packages expose the
official public API (``ogpu.protocol.Task``, ``ogpu.client.publish_task``,
``ogpu.events.watch_task_published``...); only ``configure`` differs.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from worker_base import State, Unavailable, emit, load_abi, need, plain

Op = Callable[[State, dict[str, Any]], dict[str, Any]]


# -- configure ------------------------------------------------------------------------------


def op_configure(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    state.rpc, state.store = cmd["rpc"], cmd["store"]
    state.contracts = dict(cmd["contracts"])
    state.chain_id = int(cmd["chain_id"])
    if state.side == "official":
        import importlib

        official_shim = importlib.import_module("official_shim")  # next to this script
        official_shim.configure(state.rpc, state.store, state.contracts)
        return {"overrides": official_shim.overrides()}
    if state.side == "ours":
        chain = need("ogpu.chain", "ChainConfig")
        if not hasattr(chain.ChainConfig, "use_devnet"):
            raise Unavailable("ogpu.chain.ChainConfig.use_devnet does not exist")
        chain.ChainConfig.use_devnet(
            {k.lower(): v for k, v in state.contracts.items()}, rpc=state.rpc
        )
        os.environ["OGPU_IPFS_BACKEND"] = "ogpu"
        os.environ["OGPU_IPFS_API_URL"] = state.store
        os.environ["OGPU_IPFS_GATEWAY"] = state.store
        return {"chain": str(chain.ChainConfig.get_current_chain())}
    import requests
    from requests.adapters import HTTPAdapter
    from web3 import Web3

    state.session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
    state.session.mount("http://", adapter)
    # cache_allowed_requests: eth_chainId once, not before every call (web3's default)
    provider = Web3.HTTPProvider(state.rpc, session=state.session, cache_allowed_requests=True)
    state.w3 = Web3(provider)
    return {"web3": True}


# -- snapshot -------------------------------------------------------------------------------

_SNAPSHOT_FIELDS = (
    ("source", "getSource"),
    ("status", "getStatus"),
    ("params", "taskParams"),
    ("payment", "getPayment"),
    ("expiry_time", "getExpiryTime"),
    ("delivery_method", "getDeliveryMethod"),
    ("attempt_count", "getAttemptCount"),
    ("winning_provider", "winningProvider"),
)


def _snapshot_fn(state: State, task: str) -> Callable[[], dict[str, Any]]:
    if state.side == "web3":
        contract = state.w3.eth.contract(
            state.w3.to_checksum_address(task), abi=load_abi(state, "Task")
        )
        zero = "0x" + "00" * 20

        def floor() -> dict[str, Any]:
            with state.w3.batch_requests() as batch:
                for _, fn in _SNAPSHOT_FIELDS:
                    batch.add(getattr(contract.functions, fn)())
                values = batch.execute()
            out = dict(zip([f for f, _ in _SNAPSHOT_FIELDS], values, strict=True))
            if str(out["winning_provider"]).lower() == zero:
                out["winning_provider"] = None
            return out

        return floor
    protocol = need("ogpu.protocol", "Task")
    if not hasattr(protocol.Task, "snapshot"):
        raise Unavailable("ogpu.protocol.Task.snapshot does not exist")
    instance = protocol.Task(task)

    def sdk() -> dict[str, Any]:
        snap = instance.snapshot()
        return {f: getattr(snap, f) for f, _ in _SNAPSHOT_FIELDS}

    return sdk


def _digest(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in snapshot.items() if k != "params"}


def op_snapshot(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    fn = _snapshot_fn(state, cmd["task"])
    times: list[float] = []
    last: dict[str, Any] = {}
    for _ in range(int(cmd["n"])):
        t0 = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - t0)
    return {"times": times, "digest": _digest(last) if last else {}}


# -- first result ---------------------------------------------------------------------------

#: Stacks the time-to-first-result path of ours should not load (reported, not asserted).
_HEAVY = ("web3", "eth_abi", "eth_account", "eth_utils", "eth_hash", "requests", "pydantic")


def op_first_result(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """In a fresh worker: import the side's SDK (``configure``), then one snapshot."""
    t0 = time.perf_counter()
    op_configure(state, cmd)
    snapshot = _snapshot_fn(state, cmd["task"])()
    seconds = time.perf_counter() - t0
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)  # the whole process, start-up included
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "digest": _digest(snapshot),
        "loaded": [m for m in _HEAVY if m in sys.modules],
    }


# -- get_tasks ------------------------------------------------------------------------------


def op_get_tasks(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    source = cmd["source"]
    if state.side == "web3":
        contract = state.w3.eth.contract(
            state.w3.to_checksum_address(source), abi=load_abi(state, "Source")
        )

        def fn() -> list[str]:
            count = contract.functions.getTaskCount().call()
            if count == 0:
                return []
            # Both bounds inclusive, from index 0 only (docs/MAINNET.md).
            return [str(a) for a in contract.functions.getTasks(0, count - 1).call()]

    else:
        protocol = need("ogpu.protocol", "Source")
        if not hasattr(protocol.Source, "get_tasks"):
            raise Unavailable("ogpu.protocol.Source.get_tasks does not exist")
        instance = protocol.Source(source)

        def fn() -> list[str]:
            return [str(t.address) for t in instance.get_tasks()]

    times: list[float] = []
    found: list[str] = []
    for _ in range(int(cmd["n"])):
        t0 = time.perf_counter()
        found = fn()
        times.append(time.perf_counter() - t0)
    return {
        "times": times,
        "count": len(found),
        "unique": len({a.lower() for a in found}),
        "first": found[0].lower() if found else None,
        "last": found[-1].lower() if found else None,
    }


# -- import time ----------------------------------------------------------------------------


def op_import(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    import importlib

    modules = list(cmd["modules"])
    before = len(sys.modules)
    t0 = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "modules_loaded": len(sys.modules) - before}


# -- probe ----------------------------------------------------------------------------------


def op_probe(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """Which workloads this side can run (imports, no RPC)."""
    if state.side == "web3":
        need("web3", "Web3")
        return {
            "snapshot": True,
            "get_tasks": True,
            "publish_task": True,
            "publish_tasks": True,
            "watchers": True,
            "long_watch": True,
            "import": True,
        }
    checks: dict[str, tuple[str, tuple[str, ...]]] = {
        "configure": ("ogpu.chain", ("ChainConfig",)),
        "snapshot": ("ogpu.protocol", ("Task",)),
        "get_tasks": ("ogpu.protocol", ("Source",)),
        "publish_task": ("ogpu.client", ("publish_task", "TaskInfo", "TaskInput")),
        "watchers": ("ogpu.events", ("watch_task_published",)),
        "import": ("ogpu", ()),
        "service": ("ogpu.service", ("expose", "start")),
    }
    out: dict[str, Any] = {}
    for name, (module, attrs) in checks.items():
        try:
            need(module, *attrs)
            out[name] = True
        except Unavailable as exc:
            out[name] = str(exc)
    if out.get("snapshot") is True:
        task_cls = need("ogpu.protocol").Task
        if not hasattr(task_cls, "snapshot"):
            out["snapshot"] = "ogpu.protocol.Task.snapshot does not exist"
    if out.get("get_tasks") is True and not hasattr(need("ogpu.protocol").Source, "get_tasks"):
        out["get_tasks"] = "ogpu.protocol.Source.get_tasks does not exist"
    if (
        state.side == "ours"
        and out.get("configure") is True
        and not hasattr(need("ogpu.chain").ChainConfig, "use_devnet")
    ):
        out["configure"] = "ogpu.chain.ChainConfig.use_devnet does not exist"
    out["long_watch"] = out["watchers"]
    # ours pipelines with publish_tasks; the official SDK's fastest safe way is its loop
    out["publish_tasks"] = out["publish_task"]
    if state.side == "ours" and out["publish_task"] is True:
        try:
            need("ogpu.client", "publish_tasks")
        except Unavailable as exc:
            out["publish_tasks"] = str(exc)
    try:
        from importlib.metadata import version

        out["version"] = version("ogpu")
    except Exception:
        out["version"] = None
    return out


def _later(module: str, name: str) -> Op:
    """``module.name``, imported on first use (see the module docstring)."""

    def op(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
        import importlib

        found: Op = getattr(importlib.import_module(module), name)
        return found(state, cmd)

    return op


OPS: dict[str, Op] = {
    "configure": op_configure,
    "snapshot": op_snapshot,
    "get_tasks": op_get_tasks,
    "publish": _later("worker_publish", "op_publish"),
    "watch": _later("worker_watch", "op_watch"),
    "import": op_import,
    "first_result": op_first_result,
    "probe": op_probe,
}


def run(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    op = OPS.get(str(cmd.get("op")))
    if op is None:
        return {"error": f"unknown op {cmd.get('op')!r}"}
    try:
        return op(state, cmd)
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    except Exception as exc:
        return {
            "error": f"{type(exc).__name__}: {exc}"[:500],
            "traceback": traceback.format_exc(limit=8)[-3000:],
        }


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--side", choices=("ours", "official", "web3"), required=True)
    parser.add_argument(
        "--oneshot", action="store_true", help="read every command until EOF first, run, exit"
    )
    args = parser.parse_args(argv)
    state = State(args.side)
    if args.oneshot:
        commands = [json.loads(line) for line in sys.stdin.read().splitlines() if line.strip()]
        for cmd in commands:
            answer = run(state, cmd)
            emit(answer)
            if "error" in answer or "unavailable" in answer:
                return 1
        return 0
    emit({"hello": args.side, "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "exit":
            break
        emit(run(state, cmd))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
