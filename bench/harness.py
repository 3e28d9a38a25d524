"""Run every workload with our SDK, the official SDK and plain web3.py; write the results.

Order of a run: import times (fresh interpreters, before the chain exists), then
one ``ogpu devnet`` subprocess is started and seeded, and each chain workload
runs at +0 ms (direct) and at +N ms (through ``LatencyProxy``), interleaving the
sides in every repetition (ours, official, web3, ours, official, web3, ...).
Timed code runs inside the worker processes; request counts come from the
proxies (one RPC proxy and one content-store proxy per side).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report, service_load
from bench.devnet import PAYMENT, BenchChain, DevnetProcess, DevnetUnavailable, Seed, start_devnet
from bench.first_result import ensure_bytecode, run_first_result
from bench.official_env import OFFICIAL_REQUIREMENT, OfficialEnvError, ensure_official_venv
from bench.proxy import LatencyProxy, ProxyStats
from bench.sides import SIDES, SideError, WorkerProcess, wait_all
from bench.stats import median, percentile

RESULTS_DIR = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent / "README.md"
WORKLOADS = report.ORDER
CLIENT_LABELS = {"ours": "CLIENT[0]", "official": "CLIENT[1]", "web3": "CLIENT[2]"}


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one run."""

    name: str
    latency_ms: float
    import_reps: int
    reps: int
    snapshot_calls: int
    get_tasks_calls: int
    main_tasks: int
    list_tasks: int
    big_tasks: int
    publish_count: int
    publish_reps: int
    publish_concurrency: int
    watchers: int
    watch_tasks: int
    watch_reps: int
    poll_interval: float
    long_watch_tasks: int
    long_poll_interval: float
    service_count: int
    service_concurrency: int
    service_reps: int


FULL = Plan(
    name="results",
    latency_ms=20.0,
    import_reps=5,
    reps=3,
    snapshot_calls=10,
    get_tasks_calls=3,
    main_tasks=10,
    list_tasks=3_000,
    big_tasks=10_000,
    publish_count=100,
    publish_reps=1,
    publish_concurrency=1,
    watchers=20,
    watch_tasks=100,
    watch_reps=5,  # one shared poll phase per round: event latency needs several rounds
    poll_interval=0.5,
    long_watch_tasks=100,
    long_poll_interval=0.05,
    service_count=1000,
    service_concurrency=50,
    service_reps=5,
)
QUICK = Plan(
    name="quick",
    latency_ms=20.0,
    import_reps=1,
    reps=1,
    snapshot_calls=5,
    get_tasks_calls=2,
    main_tasks=10,
    list_tasks=300,
    big_tasks=10_000,
    publish_count=10,
    publish_reps=1,
    publish_concurrency=1,
    watchers=20,
    watch_tasks=40,
    watch_reps=1,
    poll_interval=0.5,
    long_watch_tasks=30,
    long_poll_interval=0.05,
    service_count=300,
    service_concurrency=50,
    service_reps=1,
)


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


@dataclass
class Context:
    plan: Plan
    selected: tuple[str, ...]
    pythons: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, dict[str, str]] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    devnet: DevnetProcess | None = None
    chain: BenchChain | None = None
    seed: Seed | None = None
    rpc_proxies: dict[str, LatencyProxy] = field(default_factory=dict)
    store_proxies: dict[str, LatencyProxy] = field(default_factory=dict)
    workers: dict[str, WorkerProcess] = field(default_factory=dict)
    configured: dict[str, float | None] = field(default_factory=dict)

    def python(self, side: str) -> str:
        found = self.pythons.get(side)
        if found is None:
            raise SideError(f"no interpreter for the {side} side")
        return found

    def why_not(self, side: str, workload: str) -> str | None:
        return self.unavailable.get(side, {}).get(workload) or self.unavailable.get(side, {}).get(
            "*"
        )

    def mark(self, side: str, workload: str, reason: str) -> None:
        self.unavailable.setdefault(side, {})[workload] = reason

    def urls(self, side: str, delay_ms: float | None) -> tuple[str, str]:
        assert self.devnet is not None
        if delay_ms is None:
            return self.devnet.rpc_url, self.devnet.store_url
        self.rpc_proxies[side].delay = delay_ms / 1000
        self.store_proxies[side].delay = delay_ms / 1000
        return self.rpc_proxies[side].url, self.store_proxies[side].url

    def configure_command(self, side: str, delay_ms: float | None) -> dict[str, Any]:
        assert self.devnet is not None
        rpc, store = self.urls(side, delay_ms)
        return {
            "op": "configure",
            "rpc": rpc,
            "store": store,
            "contracts": self.devnet.contracts,
            "chain_id": self.devnet.chain_id,
        }

    def stats(self, side: str) -> ProxyStats:
        return self.rpc_proxies[side].stats()

    def store_stats(self, side: str) -> ProxyStats:
        return self.store_proxies[side].stats()


def _latencies(ctx: Context) -> list[tuple[str, float | None]]:
    return [("0", None), (f"{ctx.plan.latency_ms:g}", ctx.plan.latency_ms)]


def _cell_error(answer: dict[str, Any]) -> str | None:
    if "unavailable" in answer:
        return f"not available yet: {answer['unavailable']}"
    if "error" in answer:
        return f"error: {answer['error']}"
    return None


# -- persistent workers -----------------------------------------------------------------------


def _worker(ctx: Context, side: str, workload: str, delay_ms: float | None) -> WorkerProcess | None:
    """The side's persistent worker, configured for ``delay_ms``; None if it cannot run."""
    if ctx.why_not(side, workload):
        return None
    worker = ctx.workers.get(side)
    if worker is None:
        try:
            worker = WorkerProcess(side, ctx.python(side))
        except SideError as exc:
            ctx.mark(side, "*", f"worker failed to start: {exc}")
            return None
        ctx.workers[side] = worker
        ctx.configured.pop(side, None)
    key = -1.0 if delay_ms is None else delay_ms
    if ctx.configured.get(side) != key:
        answer = worker.call(ctx.configure_command(side, delay_ms), 120)
        problem = _cell_error(answer)
        if problem:
            ctx.mark(side, "*", problem)
            return None
        ctx.configured[side] = key
    return worker


def _call(
    ctx: Context, side: str, worker: WorkerProcess, command: dict[str, Any], timeout: float = 900
) -> dict[str, Any]:
    try:
        return worker.call(command, timeout)
    except SideError as exc:
        ctx.workers.pop(side, None)
        worker.close()
        return {"error": str(exc)}


# -- workloads --------------------------------------------------------------------------------


def _timed_workload(
    ctx: Context,
    workload: str,
    command: Callable[[int], dict[str, Any]],
    calls: int,
    check: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    """Snapshot-style workload: per-call times; median per repetition, median over reps."""
    out: dict[str, Any] = {"unit": "ms per call", "better": "lower", "latencies": {}}
    for label, delay in _latencies(ctx):
        cells: dict[str, dict[str, Any]] = {}
        runnable: dict[str, WorkerProcess] = {}
        for side in SIDES:
            worker = _worker(ctx, side, workload, delay)
            if worker is None:
                cells[side] = {"status": ctx.why_not(side, workload) or "not available"}
                continue
            warm = _call(ctx, side, worker, command(2))
            problem = _cell_error(warm)
            if problem:
                cells[side] = {"status": problem}
                continue
            runnable[side] = worker
            cells[side] = {"status": "ok", "reps": [], "requests_per_call": [], "rpc_calls": []}
        for _ in range(ctx.plan.reps):
            for side, worker in runnable.items():
                cell = cells[side]
                if cell["status"] != "ok":
                    continue
                before = ctx.stats(side) if delay is not None else None
                answer = _call(ctx, side, worker, command(calls))
                problem = _cell_error(answer)
                if problem:
                    cell["status"] = problem
                    continue
                cell["reps"].append(median(answer["times"]) * 1000)
                if before is not None:
                    diff = ctx.stats(side) - before
                    cell["requests_per_call"].append(diff.http_requests / calls)
                    cell["rpc_calls"].append(diff.rpc_calls / calls)
                    cell["methods"] = {k: v / calls for k, v in diff.methods.items()}
                    cell["devnet_ms_per_call"] = sum(diff.upstream_seconds.values()) / calls * 1000
                cell["check"] = check(answer)
        for cell in cells.values():
            if cell.get("status") == "ok":
                cell["value"] = median(cell["reps"])
                if cell.get("requests_per_call"):
                    cell["requests_per_call"] = median(cell["requests_per_call"])
                    cell["rpc_calls"] = median(cell["rpc_calls"])
                else:
                    cell.pop("requests_per_call", None)
                    cell.pop("rpc_calls", None)
        out["latencies"][label] = cells
        say(f"{workload} +{label} ms: " + report.cells_line(cells, "ms"))
    return out


def run_snapshot(ctx: Context) -> dict[str, Any]:
    assert ctx.seed is not None
    task = ctx.seed.snapshot_task

    def command(n: int) -> dict[str, Any]:
        return {"op": "snapshot", "task": task, "n": n}

    result = _timed_workload(
        ctx, "snapshot", command, ctx.plan.snapshot_calls, lambda a: a.get("digest")
    )
    result["title"] = "Task.snapshot()"
    result["checks"] = report.agreement(result, "check")
    return result


def run_get_tasks(ctx: Context, big: bool = False) -> dict[str, Any]:
    """A source with ``plan.list_tasks`` tasks (the issue's 3,000) or, ``big``,
    ``plan.big_tasks`` (one ``getTasks`` call must hold them all, docs/MAINNET.md; one
    call per repetition); each seeded on first use by the ``ListBuilder`` fixture."""
    assert ctx.seed is not None and ctx.chain is not None
    key, size = ("big_source", ctx.plan.big_tasks) if big else ("list_source", ctx.plan.list_tasks)
    source = ctx.seed.extra.get(key)
    if source is None:
        say(f"seeding a source with {size:,} tasks ...")
        source = ctx.seed.extra[key] = ctx.chain.seed_big_source(size)
    expected = ctx.chain.task_addresses(source)

    def command(n: int) -> dict[str, Any]:
        return {"op": "get_tasks", "source": source, "n": n}

    def check(answer: dict[str, Any]) -> dict[str, Any]:
        return {
            "count": answer["count"],
            "expected": len(expected),
            "correct": answer["count"] == len(expected)
            and answer["first"] == expected[0]
            and answer["last"] == expected[-1]
            and answer["unique"] == len(expected),
        }

    workload = "get_tasks_10k" if big else "get_tasks"
    calls = 1 if big else ctx.plan.get_tasks_calls
    result = _timed_workload(ctx, workload, command, calls, check)
    result["title"] = f"Source.get_tasks() over {len(expected):,} tasks"
    return result


def run_publish(ctx: Context, mode: str = "loop") -> dict[str, Any]:
    """``mode`` "loop": every SDK calls publish_task N times; "many": each SDK's fastest safe
    way to publish N tasks from one key (ours: publish_tasks; the official SDK has no batch
    call and its concurrent calls collide on nonces, so its loop again)."""
    assert ctx.seed is not None and ctx.chain is not None and ctx.devnet is not None
    plan, source = ctx.plan, ctx.seed.publish_source
    workload = "publish_task" if mode == "loop" else "publish_tasks"
    title = (
        f"publish_task × {plan.publish_count} from one key"
        if mode == "loop"
        else f"{plan.publish_count} tasks from one key, pipelined (ours: publish_tasks)"
    )
    out: dict[str, Any] = {
        "title": title,
        "unit": "tasks/s",
        "better": "higher",
        "concurrency": plan.publish_concurrency if mode == "loop" else 1,
        "mode": mode,
        "latencies": {},
    }
    tag = 0

    def command(side: str, count: int) -> dict[str, Any]:
        nonlocal tag
        tag += 1
        return {
            "op": "publish",
            "mode": mode,
            "source": source,
            "count": count,
            "payment": PAYMENT,
            "concurrency": plan.publish_concurrency if mode == "loop" else 1,
            "key": ctx.devnet.key(CLIENT_LABELS[side]) if ctx.devnet else "",
            "tag": f"{side}-{tag}",
        }

    for label, delay in _latencies(ctx):
        cells: dict[str, dict[str, Any]] = {}
        runnable: dict[str, WorkerProcess] = {}
        for side in SIDES:
            worker = _worker(ctx, side, workload, delay)
            if worker is None:
                cells[side] = {"status": ctx.why_not(side, workload) or "not available"}
                continue
            warm = _call(ctx, side, worker, command(side, 1))
            problem = _cell_error(warm) or (
                f"error: {warm['errors'][0]}" if warm.get("n_errors") else None
            )
            if problem:
                cells[side] = {"status": problem}
                continue
            runnable[side] = worker
            cells[side] = {"status": "ok", "reps": [], "requests_per_task": [], "seconds": []}
        for _ in range(plan.publish_reps):
            for side, worker in runnable.items():
                cell = cells[side]
                if cell["status"] != "ok":
                    continue
                before_count = ctx.chain.task_count(source)
                before = ctx.stats(side) if delay is not None else None
                store_before = ctx.store_stats(side) if delay is not None else None
                answer = _call(ctx, side, worker, command(side, plan.publish_count))
                problem = _cell_error(answer)
                landed = ctx.chain.task_count(source) - before_count
                if problem:
                    cell["status"] = problem
                    continue
                if answer["n_errors"] or landed != plan.publish_count:
                    cell["status"] = (
                        f"error: {answer['n_errors']} failed, {landed}/{plan.publish_count} "
                        f"on chain; first: {(answer['errors'] or ['-'])[0]}"
                    )
                    continue
                cell["reps"].append(answer["published"] / answer["seconds"])
                cell["seconds"].append(answer["seconds"])
                if before is not None and store_before is not None:
                    diff = ctx.stats(side) - before
                    store = ctx.store_stats(side) - store_before
                    n = plan.publish_count
                    cell["requests_per_task"].append((diff.http_requests + store.http_requests) / n)
                    cell["rpc_per_task"] = {k: v / n for k, v in diff.methods.items()}
                    cell["store_per_task"] = store.http_requests / n
                    served = sum(diff.upstream_seconds.values()) + sum(
                        store.upstream_seconds.values()
                    )
                    cell["devnet_ms_per_task"] = served / n * 1000
                    cell["devnet_ms_by_method"] = {
                        k: v / n * 1000 for k, v in diff.upstream_seconds.items()
                    }
        for cell in cells.values():
            if cell.get("status") == "ok":
                cell["value"] = median(cell["reps"])
                cell["seconds"] = median(cell["seconds"])
                if cell["requests_per_task"]:
                    cell["requests_per_task"] = median(cell["requests_per_task"])
                else:
                    cell.pop("requests_per_task")
        out["latencies"][label] = cells
        say(f"{workload} +{label} ms: " + report.cells_line(cells, "tasks/s"))
    return out


def _watch_round(
    ctx: Context,
    workload: str,
    delay_ms: float,
    sources: list[str],
    tasks: int,
    poll_interval: float,
) -> dict[str, dict[str, Any]]:
    """One round: every side watches ``sources`` concurrently while the driver publishes."""
    assert ctx.chain is not None
    cells: dict[str, dict[str, Any]] = {}
    head = ctx.chain.mine_empty_block()
    per_source = tasks // len(sources)
    watch: dict[str, Any] = {
        "op": "watch",
        "sources": sources,
        "from_block": head,
        "poll_interval": poll_interval,
        "expected_per_source": per_source,
        "timeout": 15 + tasks * 0.25,  # from "ready"; the driver needs ~0.05-0.1 s per task
        "settle": 1.0,
    }
    procs: dict[str, WorkerProcess] = {}
    before: dict[str, ProxyStats] = {}
    for side in SIDES:
        reason = ctx.why_not(side, workload)
        if reason:
            cells[side] = {"status": reason}
            continue
        before[side] = ctx.stats(side)
        try:
            procs[side] = WorkerProcess(
                side, ctx.python(side), oneshot=[ctx.configure_command(side, delay_ms), watch]
            )
        except SideError as exc:
            cells[side] = {"status": f"error: {exc}"}
    ready: dict[str, bool] = {}
    for side, proc in procs.items():
        try:
            configured = proc.next_answer(120)
            problem = _cell_error(configured)
            answer = configured if problem else proc.next_answer(60)
        except SideError as exc:
            answer = {"error": str(exc)}
        problem = _cell_error(answer)
        if problem or not answer.get("ready"):
            cells[side] = {"status": problem or f"error: unexpected answer {answer}"}
        else:
            ready[side] = True
    if "official" in ready:
        # Its watchers poll eth_getFilterChanges, which returns only logs mined after the
        # filter was created (whatever from_block says): drive once every filter exists.
        _wait_for_calls(ctx, "official", before["official"], "eth_newFilter", len(sources))
    at_ready = {side: ctx.stats(side) for side in ready}
    mined = ctx.chain.drive(sources, per_source * len(sources)) if ready else {}
    at_drive_end = {side: ctx.stats(side) for side in ready}
    for side in ready:
        proc = procs[side]
        try:
            answer = proc.next_answer(watch["timeout"] + 30)
        except SideError as exc:
            answer = {"error": str(exc)}
        problem = _cell_error(answer)
        if problem:
            cells[side] = {"status": problem}
            continue
        total = ctx.stats(side) - before[side]
        window = at_drive_end[side] - at_ready[side]
        latencies = [
            (stamp - mined[tx]) * 1000 for tx, _, _, stamp in answer["events"] if tx in mined
        ]
        received = len(latencies)
        samples = answer["rss_samples"]
        settled = [kib for t, kib in samples if t >= 2.0] or [kib for _, kib in samples]
        polls, poll_ms = _poll_cost(side, total, len(sources))
        cells[side] = {
            "status": "ok" if received == len(mined) else f"error: {received}/{len(mined)} events",
            "events": received,
            "expected": len(mined),
            "unexpected": len(answer["events"]) - received,
            "latency_p50_ms": percentile(latencies, 50),
            "latency_p95_ms": percentile(latencies, 95),
            "latency_max_ms": max(latencies) if latencies else math.nan,
            "http_requests": total.http_requests,
            "rpc_calls": total.rpc_calls,
            "methods": dict(total.methods),
            "http_requests_while_driving": window.http_requests,
            "polls_per_watcher": polls,
            "poll_request_ms": poll_ms,
            "early_finish_s": _early_finish(answer["events"]),
            "rss_baseline_mb": answer["rss_baseline_kib"] / 1024,
            "rss_peak_mb": answer["rss_peak_kib"] / 1024,
            "rss_growth_mb": (settled[-1] - settled[0]) / 1024,
        }
    wait_all(list(procs.values()), 30)
    for proc in procs.values():
        proc.close()
    return cells


def _poll_cost(side: str, stats: ProxyStats, watchers: int) -> tuple[float, float]:
    """Polls each watcher made, and the devnet time of one poll request (proxy delay excluded).

    Ours and the floor serve every watcher from one ``eth_getLogs`` per poll (ours in a
    batch with ``eth_blockNumber``); the official SDK's watchers poll one
    ``eth_getFilterChanges`` each.
    """
    if side == "official":
        count = stats.methods.get("eth_getFilterChanges", 0)
        seconds = stats.upstream_seconds.get("eth_getFilterChanges", 0.0)
        return count / watchers, seconds / count * 1000 if count else math.nan
    count = stats.methods.get("eth_getLogs", 0)
    key = "batch" if stats.batches else "eth_getLogs"
    requests = stats.batches or count
    seconds = stats.upstream_seconds.get(key, 0.0)
    return float(count), seconds / requests * 1000 if requests else math.nan


def _early_finish(events: list[list[Any]]) -> float:
    """Mean time between a source's last event and the last event of all, in seconds.

    A per-watcher poller stops that early; a shared one serves until the last watcher.
    """
    last: dict[str, float] = {}
    for _, source, _, stamp in events:
        last[source] = max(last.get(source, stamp), stamp)
    if not last:
        return math.nan
    end = max(last.values())
    return sum(end - t for t in last.values()) / len(last)


def _wait_for_calls(
    ctx: Context, side: str, since: ProxyStats, method: str, count: int, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (ctx.stats(side) - since).methods.get(method, 0) >= count:
            time.sleep(0.3 + ctx.rpc_proxies[side].delay)  # let the answers arrive
            return
        time.sleep(0.05)
    say(f"{side}: only saw {(ctx.stats(side) - since).methods.get(method, 0)} {method}")


def run_watchers(ctx: Context) -> dict[str, Any]:
    assert ctx.seed is not None
    plan = ctx.plan
    sources = ctx.seed.watch_sources[: plan.watchers]
    out: dict[str, Any] = {
        "title": f"{len(sources)} watchers following {plan.watch_tasks} tasks",
        "unit": "HTTP requests",
        "better": "lower",
        "poll_interval": plan.poll_interval,
        "watchers": len(sources),
        "latencies": {},
    }
    for label, delay in _latencies(ctx):
        rounds = [
            _watch_round(
                ctx, "watchers", delay or 0.0, sources, plan.watch_tasks, plan.poll_interval
            )
            for _ in range(plan.watch_reps)
        ]
        cells: dict[str, dict[str, Any]] = {}
        for side in SIDES:
            runs = [r[side] for r in rounds]
            bad = [r["status"] for r in runs if r["status"] != "ok"]
            if bad:
                cells[side] = {"status": bad[0], "runs": runs}
                continue
            cells[side] = {
                "status": "ok",
                "value": median([r["http_requests"] for r in runs]),
                "rpc_calls": median([r["rpc_calls"] for r in runs]),
                "latency_p50_ms": median([r["latency_p50_ms"] for r in runs]),
                "latency_p95_ms": median([r["latency_p95_ms"] for r in runs]),
                "latency_max_ms": max(r["latency_max_ms"] for r in runs),
                "polls_per_watcher": median([r["polls_per_watcher"] for r in runs]),
                "poll_request_ms": median([r["poll_request_ms"] for r in runs]),
                "early_finish_s": median([r["early_finish_s"] for r in runs]),
                "events": runs[0]["events"],
                "runs": runs,
            }
        out["latencies"][label] = cells
        say(f"watchers +{label} ms: " + report.cells_line(cells, "requests"))
    return out


def run_long_watch(ctx: Context) -> dict[str, Any]:
    assert ctx.seed is not None
    plan = ctx.plan
    out: dict[str, Any] = {
        "title": f"peak memory of a long watch ({plan.long_watch_tasks} events)",
        "unit": "MB peak RSS",
        "better": "lower",
        "poll_interval": plan.long_poll_interval,
        "latencies": {},
    }
    for label, delay in _latencies(ctx):
        run = _watch_round(
            ctx,
            "long_watch",
            delay or 0.0,
            [ctx.seed.long_source],
            plan.long_watch_tasks,
            plan.long_poll_interval,
        )
        cells: dict[str, dict[str, Any]] = {}
        for side, cell in run.items():
            if cell["status"] == "ok":
                cell["value"] = cell["rss_peak_mb"]
            cells[side] = cell
        out["latencies"][label] = cells
        say(f"long_watch +{label} ms: " + report.cells_line(cells, "MB"))
    return out


def run_import(ctx: Context) -> dict[str, Any]:
    modules = {
        "import ogpu": {"ours": ["ogpu"], "official": ["ogpu"], "web3": ["web3"]},
        "import ogpu + protocol, client, events": {
            "ours": ["ogpu", "ogpu.protocol", "ogpu.client", "ogpu.events"],
            "official": ["ogpu", "ogpu.protocol", "ogpu.client", "ogpu.events"],
            "web3": ["web3", "eth_account"],
        },
    }
    out: dict[str, Any] = {
        "title": "import time (fresh interpreter)",
        "unit": "ms",
        "better": "lower",
        "latencies": {},
    }
    for label, per_side in modules.items():
        cells: dict[str, dict[str, Any]] = {}
        for side in SIDES:
            reason = ctx.why_not(side, "import")
            cells[side] = {"status": reason} if reason else {"status": "ok", "reps": []}
        for rep in range(ctx.plan.import_reps + 1):  # rep 0 warms the disk cache, untimed
            for side in SIDES:
                cell = cells[side]
                if cell["status"] != "ok":
                    continue
                try:
                    proc = WorkerProcess(
                        side,
                        ctx.python(side),
                        oneshot=[{"op": "import", "modules": per_side[side]}],
                    )
                except SideError as exc:
                    cell["status"] = f"error: {exc}"
                    continue
                try:
                    answer = proc.next_answer(120)
                except SideError as exc:
                    answer = {"error": str(exc)}
                proc.close()
                problem = _cell_error(answer)
                if problem:
                    cell["status"] = problem
                    continue
                if rep:
                    cell["reps"].append(answer["seconds"] * 1000)
                cell["modules_loaded"] = answer["modules_loaded"]
        for cell in cells.values():
            if cell["status"] == "ok":
                cell["value"] = median(cell["reps"])
                cell["min"] = min(cell["reps"])
        out["latencies"][label] = cells
        say(f"{label}: " + report.cells_line(cells, "ms"))
    return out


def run_service(ctx: Context) -> dict[str, Any]:
    """The service burst (no chain): see ``bench/service_load.py``."""
    pythons: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    for side in service_load.SIDES:
        reason = ctx.why_not(side, "service")
        if reason:
            unavailable[side] = reason
        else:
            pythons[side] = ctx.python(side)
    plan = ctx.plan
    result = service_load.run_workload(
        pythons,
        unavailable,
        count=plan.service_count,
        concurrency=plan.service_concurrency,
        reps=plan.service_reps,
        say=say,
    )
    say("service +0 ms: " + report.cells_line(result["latencies"]["0"], "accepted/s"))
    return result


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
        try:
            proc = WorkerProcess(side, ctx.python(side), oneshot=[{"op": "probe"}])
            try:
                answer = proc.next_answer(120)
            finally:
                proc.close()
        except SideError as exc:
            answer = {"error": str(exc)}
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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark this SDK against ogpu==0.2.3 and plain web3.py on a local devnet.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument(
        "--workload",
        action="append",
        choices=WORKLOADS,
        metavar="NAME",
        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--reps", type=int, help="repetitions of the timed workloads")
    parser.add_argument("--latency-ms", type=float, help="delay added by the proxy (default 20)")
    parser.add_argument(
        "--publish-concurrency",
        type=int,
        help="threads calling publish_task in ours/official (default 1: sequential)",
    )
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    parser.add_argument(
        "--render",
        action="store_true",
        help="only regenerate bench/README.md from bench/results/results.json (no run)",
    )
    parser.add_argument(
        "--ours-python",
        metavar="PATH",
        help="interpreter for the 'ours' side (default: this one), e.g. a venv with a built wheel",
    )
    parser.add_argument(
        "--output",
        metavar="NAME",
        help="write bench/results/NAME.json instead (README untouched); letters, digits, - _",
    )
    args = parser.parse_args(argv)
    for name in ("reps", "publish_concurrency"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.output is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", args.output):
        parser.error("--output must be 1-64 letters, digits, '-' or '_'")
    if args.latency_ms is not None and not 0 < args.latency_ms < 10_000:
        parser.error("--latency-ms must be between 0 and 10000")
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    changes: dict[str, Any] = {}
    if args.reps is not None:
        changes.update(
            reps=args.reps,
            publish_reps=args.reps,
            watch_reps=args.reps,
            import_reps=args.reps,
            service_reps=args.reps,
        )
    if args.latency_ms is not None:
        changes["latency_ms"] = args.latency_ms
    if args.publish_concurrency is not None:
        changes["publish_concurrency"] = args.publish_concurrency
    return Plan(**{**plan.__dict__, **changes})


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
