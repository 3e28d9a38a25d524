"""Run every workload with our SDK, the official SDK and plain web3.py; write the results.

Order of a run: import times (fresh interpreters, before the chain exists), then
one ``ogpu devnet`` subprocess is started and seeded, and each chain workload
runs at +0 ms (direct) and at +N ms (through ``LatencyProxy``), interleaving the
sides in every repetition (ours, official, web3, ours, official, web3, ...).
Timed code runs inside the worker processes; request counts come from the
proxies (one RPC proxy and one content-store proxy per side).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import report
from bench.context import CLIENT_LABELS, Context, one_shot, say
from bench.devnet import BenchChain, DevnetUnavailable, start_devnet
from bench.first_result import ensure_bytecode, run_first_result
from bench.official_env import OFFICIAL_REQUIREMENT, OfficialEnvError, ensure_official_venv
from bench.plan import FULL, QUICK, WORKLOADS, Plan, make_plan, parse_args
from bench.proxy import LatencyProxy
from bench.sides import SIDES
from bench.watching import run_long_watch, run_watchers
from bench.workloads import run_get_tasks, run_import, run_publish, run_service, run_snapshot

__all__ = ["FULL", "QUICK", "RUNNERS", "Context", "Plan", "main", "make_plan", "parse_args"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent / "README.md"


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "first_result": run_first_result,
    "snapshot": run_snapshot,
    "get_tasks": run_get_tasks,
    "get_tasks_10k": lambda ctx: run_get_tasks(ctx, big=True),
    "publish_task": run_publish,
    "publish_tasks": lambda ctx: run_publish(ctx, "many"),
    "watchers": run_watchers,
    "long_watch": run_long_watch,
}


# -- setup and main ---------------------------------------------------------------------------


def _probe(ctx: Context) -> None:
    for side in SIDES:
        if ctx.why_not(side, "*"):
            continue
        answer = one_shot(ctx, side, [{"op": "probe"}], 120)
        if "error" in answer:
            ctx.mark(side, "*", f"error: {answer['error']}")
            continue
        ctx.versions[side] = answer.get("version")
        if answer.get("configure", True) is not True:
            for workload in RUNNERS:
                ctx.mark(side, workload, f"not available yet: {answer['configure']}")
            say(f"{side}: chain workloads not available yet ({answer['configure']})")
        for workload in WORKLOADS:
            value = answer.get(workload, True)
            if value is not True:
                ctx.mark(side, workload, f"not available yet: {value}")
                say(f"{side}: {workload} not available yet ({value})")


def _start_chain(ctx: Context) -> None:
    say("starting `ogpu devnet` ...")
    ctx.devnet = start_devnet()
    ctx.chain = BenchChain(ctx.devnet)
    labels = set(CLIENT_LABELS.values())
    clients = [a["address"] for a in ctx.devnet.info["accounts"] if a["label"] in labels]
    say(
        f"seeding: {ctx.plan.main_tasks} tasks on one source, "
        f"{ctx.plan.watchers + 3} sources, vault deposits ..."
    )
    ctx.seed = ctx.chain.seed(
        main_tasks=ctx.plan.main_tasks, watch_sources=ctx.plan.watchers, clients=clients
    )
    say(f"seeded in {ctx.seed.seconds:.1f} s")
    for side in SIDES:
        ctx.rpc_proxies[side] = LatencyProxy(ctx.devnet.rpc_url)
        ctx.store_proxies[side] = LatencyProxy(ctx.devnet.store_url)


def _close(ctx: Context) -> None:
    for worker in ctx.workers.values():
        worker.close()
    for proxy in [*ctx.rpc_proxies.values(), *ctx.store_proxies.values()]:
        proxy.close()
    if ctx.devnet is not None:
        ctx.devnet.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        path = RESULTS_DIR / f"{FULL.name}.json"
        if not path.exists():
            say(f"{path} does not exist; run the benchmarks first")
            return 1
        report.write_readme(README, json.loads(path.read_text()), path)
        say("rewrote bench/README.md")
        return 0
    plan = make_plan(args)
    selected = tuple(args.workload) if args.workload else WORKLOADS
    ctx = Context(plan=plan, selected=selected)
    ours = (
        os.path.abspath(args.ours_python) if args.ours_python else sys.executable
    )  # keep venv links
    ctx.pythons.update(ours=ours, web3=sys.executable)
    started = time.perf_counter()
    say(f"plan {plan.name}: workloads {', '.join(selected)}; +{plan.latency_ms:g} ms proxy")
    try:
        env = ensure_official_venv()
        ctx.pythons["official"] = str(env.python)
        state = "created" if env.created else "cached"
        say(f"official SDK venv {state} ({OFFICIAL_REQUIREMENT}, {env.seconds:.1f} s)")
    except OfficialEnvError as exc:
        ctx.mark("official", "*", f"official SDK unavailable: {exc}")
        say(f"official: not available ({exc})")
    _probe(ctx)
    say("ours' bytecode: " + ensure_bytecode(ctx.python("ours")))  # as pip install does
    results: dict[str, Any] = {}
    try:
        if "import" in selected:
            results["import"] = run_import(ctx)
        if "service" in selected:  # before the devnet starts: no chain, the CPU to itself
            phase = time.perf_counter()
            results["service"] = run_service(ctx)
            results["service"]["seconds"] = round(time.perf_counter() - phase, 1)
        chain_work = [w for w in selected if w in RUNNERS]
        if chain_work:
            try:
                _start_chain(ctx)
            except (DevnetUnavailable, RuntimeError) as exc:
                say(f"devnet unavailable, skipping {', '.join(chain_work)}: {exc}")
                for workload in chain_work:
                    results[workload] = {"skipped": f"devnet unavailable: {exc}"}
                chain_work = []
            for workload in chain_work:
                phase = time.perf_counter()
                results[workload] = RUNNERS[workload](ctx)
                results[workload]["seconds"] = round(time.perf_counter() - phase, 1)
    finally:
        _close(ctx)
    meta = {
        "plan": plan.__dict__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "official": OFFICIAL_REQUIREMENT,
        "versions": ctx.versions,
        "seed_seconds": round(ctx.seed.seconds, 1) if ctx.seed else None,
        "total_seconds": round(time.perf_counter() - started, 1),
        "unavailable": ctx.unavailable,
    }
    path = RESULTS_DIR / f"{args.output or plan.name}.json"
    merged = report.merge(path, meta, results)
    RESULTS_DIR.mkdir(exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(merged, indent=1, sort_keys=True, default=report.json_default) + "\n")
    tmp.replace(path)
    table = report.render(merged)
    print(table)
    if not args.quick and not args.no_readme and args.output is None:
        report.write_readme(README, merged, path)
        say(f"wrote {path.relative_to(README.parent.parent)} and bench/README.md")
    else:
        say(f"wrote {path.relative_to(README.parent.parent)}")
    say(f"total {time.perf_counter() - started:.0f} s")
    return 0
