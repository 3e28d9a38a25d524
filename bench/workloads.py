"""The timed workloads: snapshot, get_tasks, publishing, import time and the service burst."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import report, service_load
from bench.context import (
    CLIENT_LABELS,
    Context,
    call,
    cell_error,
    fresh_rounds,
    latencies,
    one_shot,
    say,
    worker_for,
)
from bench.devnet import PAYMENT
from bench.sides import SIDES, WorkerProcess
from bench.stats import median


def _warm_sides(
    ctx: Context,
    workload: str,
    delay: float | None,
    warm: Callable[[str, WorkerProcess], str | None],
    fresh_cell: Callable[[], dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[str, WorkerProcess]]:
    """Each side's worker for ``workload`` at ``delay``, warmed by one ``warm`` call (its
    problem, or None): the cells (``fresh_cell()`` for a side that can run, its status
    otherwise) and the runnable workers by side."""
    cells: dict[str, dict[str, Any]] = {}
    runnable: dict[str, WorkerProcess] = {}
    for side in SIDES:
        worker = worker_for(ctx, side, workload, delay)
        if worker is None:
            cells[side] = {"status": ctx.why_not(side, workload) or "not available"}
            continue
        problem = warm(side, worker)
        if problem:
            cells[side] = {"status": problem}
            continue
        runnable[side] = worker
        cells[side] = fresh_cell()
    return cells, runnable


def _timed_workload(
    ctx: Context,
    workload: str,
    command: Callable[[int], dict[str, Any]],
    calls: int,
    check: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    """Snapshot-style workload: per-call times; median per repetition, median over reps."""
    out: dict[str, Any] = {"unit": "ms per call", "better": "lower", "latencies": {}}
    for label, delay in latencies(ctx):
        cells, runnable = _warm_sides(
            ctx,
            workload,
            delay,
            lambda side, worker: cell_error(call(ctx, side, worker, command(2))),
            lambda: {"status": "ok", "reps": [], "requests_per_call": [], "rpc_calls": []},
        )
        for _ in range(ctx.plan.reps):
            for side, worker in runnable.items():
                cell = cells[side]
                if cell["status"] != "ok":
                    continue
                before = ctx.stats(side) if delay is not None else None
                answer = call(ctx, side, worker, command(calls))
                problem = cell_error(answer)
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

    def warm(side: str, worker: WorkerProcess) -> str | None:
        answer = call(ctx, side, worker, command(side, 1))
        return cell_error(answer) or (
            f"error: {answer['errors'][0]}" if answer.get("n_errors") else None
        )

    for label, delay in latencies(ctx):
        cells, runnable = _warm_sides(
            ctx,
            workload,
            delay,
            warm,
            lambda: {"status": "ok", "reps": [], "requests_per_task": [], "seconds": []},
        )
        for _ in range(plan.publish_reps):
            for side, worker in runnable.items():
                cell = cells[side]
                if cell["status"] != "ok":
                    continue
                before_count = ctx.chain.task_count(source)
                before = ctx.stats(side) if delay is not None else None
                store_before = ctx.store_stats(side) if delay is not None else None
                cpu_before = ctx.devnet.cpu_seconds()
                answer = call(ctx, side, worker, command(side, plan.publish_count))
                cpu_after = ctx.devnet.cpu_seconds()
                problem = cell_error(answer)
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
                if cpu_before is not None and cpu_after is not None:
                    spent = (cpu_after - cpu_before) / plan.publish_count * 1000
                    cell.setdefault("devnet_cpu_ms_per_task", []).append(spent)
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
                if cell.get("devnet_cpu_ms_per_task"):
                    cell["devnet_cpu_ms_per_task"] = median(cell["devnet_cpu_ms_per_task"])
                if cell["requests_per_task"]:
                    cell["requests_per_task"] = median(cell["requests_per_task"])
                else:
                    cell.pop("requests_per_task")
        out["latencies"][label] = cells
        say(f"{workload} +{label} ms: " + report.cells_line(cells, "tasks/s"))
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

        def run(side: str, modules: dict[str, list[str]] = per_side) -> dict[str, Any]:
            return one_shot(ctx, side, [{"op": "import", "modules": modules[side]}], 120)

        for cell, answer, timed in fresh_rounds(ctx, cells, run):
            if timed:
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
