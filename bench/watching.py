"""The watcher workloads: K watchers following published tasks, and a long watch's memory."""

from __future__ import annotations

import math
import time
from typing import Any

from bench import report
from bench.context import Context, cell_error, latencies, say
from bench.proxy import ProxyStats
from bench.sides import SIDES, SideError, WorkerProcess, wait_all
from bench.stats import median, percentile


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
            problem = cell_error(configured)
            answer = configured if problem else proc.next_answer(60)
        except SideError as exc:
            answer = {"error": str(exc)}
        problem = cell_error(answer)
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
        problem = cell_error(answer)
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
    for label, delay in latencies(ctx):
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
    for label, delay in latencies(ctx):
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
