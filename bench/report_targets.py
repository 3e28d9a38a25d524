"""The issue's targets, judged from a results file, and why a missed one is missed."""

from __future__ import annotations

import math
from typing import Any

from bench import service_load
from bench.report_fmt import ORDER, finite, fmt, ratio, times

__all__ = ["targets", "why_missed"]


def targets(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    workloads = data.get("workloads", {})
    plan = (data.get("meta") or {}).get("plan", {})
    label = f"{plan.get('latency_ms', 20):g}"
    rows: list[tuple[str, str, str]] = []

    def cells(name: str, lat: str = label) -> dict[str, Any]:
        return _row(workloads, name, lat)

    first = workloads.get("first_result", {})
    for lat in first.get("latencies", {}):
        for other, name in (("official", "official"), ("web3", "plain web3.py")):
            r = ratio(first, cells("first_result", lat), other)
            rows.append(
                (
                    f"time to first result ≤ 0.25× {name} at +{lat} ms",
                    times(1 / r) if finite(r) else "–",
                    _verdict(r >= 4 if finite(r) else None),
                )
            )
    snap = workloads.get("snapshot", {})
    r = ratio(snap, cells("snapshot"), "official")
    rows.append(
        (
            f"snapshot() ≥ 5× faster than official at +{label} ms",
            times(r),
            _verdict(r >= 5 if finite(r) else None),
        )
    )
    rows += _publish_targets(workloads, label)
    rows += _get_tasks_targets(workloads, label)
    watch = workloads.get("watchers", {})
    k = int(watch.get("watchers") or 20)
    c = cells("watchers")
    ours, official = c.get("ours", {}), c.get("official", {})
    if ours.get("status") == "ok" and official.get("status") == "ok":
        share = ours["value"] / official["value"] if official["value"] else math.nan
        text = f"1/{1 / share:.1f} of official" if finite(share) and share else "–"
        floor = c.get("web3", {})
        if floor.get("status") == "ok" and official["value"] and floor.get("value"):
            text += f" (web3.py floor: 1/{official['value'] / floor['value']:.1f})"
        rows.append(
            (
                f"watchers ≤ 1/K (K={k}) of official's requests at +{label} ms",
                text,
                _verdict(share <= 1 / k if finite(share) else None),
            )
        )
    else:
        rows.append((f"watchers ≤ 1/K (K={k}) of official's requests at +{label} ms", "–", "–"))
    slower: list[str] = []
    elsewhere: list[str] = []  # other latencies: reported, not judged (the targets are at +label)
    compared = 0
    for name in ORDER:
        workload = workloads.get(name, {})
        for lat, lat_cells in workload.get("latencies", {}).items():
            worse = _slower_than_official(name, workload, lat_cells)
            if worse is None:
                continue
            if lat == label:
                compared += 1
            if worse:
                what = f"{name} ({lat})"
                if name == "watchers":
                    what = f"watchers event latency (+{lat} ms)"
                (slower if lat == label else elsewhere).append(what)
    measured = f"{compared} compared; slower: {', '.join(slower) or 'none'}"
    if elsewhere:
        measured += f" (not judged, other latency: {', '.join(elsewhere)})"
    rows.append(
        (
            f"no workload slower than official at +{label} ms",
            measured,
            _verdict(not slower if compared else None),
        )
    )
    if "service" in workloads and "skipped" not in workloads["service"]:
        rows.append(service_load.target(workloads["service"]))
    return rows


def _publish_targets(workloads: dict[str, Any], label: str) -> list[tuple[str, str, str]]:
    """Issue 20: pipelined publishing against the floor and official; every 0 ms row."""
    rows: list[tuple[str, str, str]] = []
    pipelined = workloads.get("publish_tasks", {})
    at = _row(workloads, "publish_tasks", label)
    for other, name, need in (
        ("web3", "the pipelined web3.py floor", 1.0),
        ("official", "official", 4.0),
    ):
        r = ratio(pipelined, at, other)
        rows.append(
            (
                f"publish_tasks ≥ {need:g}× {name}'s throughput at +{label} ms",
                times(r),
                _verdict(r >= need if finite(r) else None),
            )
        )
    for name in ("publish_task", "publish_tasks"):
        workload = workloads.get(name, {})
        r = ratio(workload, _row(workloads, name, "0"), "official")
        rows.append(
            (
                f"{name} ≥ 1.0× official's throughput at +0 ms",
                times(r),
                _verdict(r >= 1 if finite(r) else None),
            )
        )
    return rows


def _get_tasks_targets(workloads: dict[str, Any], label: str) -> list[tuple[str, str, str]]:
    """Issue 20: the 3,000-task list in 2 HTTP requests, 1.5× official at +label ms."""
    workload = workloads.get("get_tasks", {})
    at = _row(workloads, "get_tasks", label)
    r = ratio(workload, at, "official")
    requests = at.get("ours", {}).get("requests_per_call")
    return [
        (
            f"Source.get_tasks() over 3,000 tasks: 2 HTTP requests at +{label} ms",
            fmt(requests),
            _verdict(requests == 2 if finite(requests) else None),
        ),
        (
            f"Source.get_tasks() over 3,000 tasks ≥ 1.5× official at +{label} ms",
            times(r),
            _verdict(r >= 1.5 if finite(r) else None),
        ),
    ]


def _row(workloads: dict[str, Any], name: str, lat: str) -> dict[str, Any]:
    """One workload's cells (side -> measurement) at one added latency."""
    return dict(workloads.get(name, {}).get("latencies", {}).get(lat, {}))


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "MISSED")


def _slower_than_official(
    name: str, workload: dict[str, Any], cells: dict[str, Any]
) -> bool | None:
    """Whether ours is slower than official in one row (``None``: not comparable).

    Watchers compare event latency p50; the long watch is judged on memory, not speed.
    """
    if name == "long_watch":
        return None
    if name == "watchers":
        o, f = cells.get("ours", {}), cells.get("official", {})
        if o.get("status") != "ok" or f.get("status") != "ok":
            return None
        return bool(o["latency_p50_ms"] > f["latency_p50_ms"])
    r = ratio(workload, cells, "official")
    return bool(r < 1) if finite(r) else None


def _cell(data: dict[str, Any], name: str, lat: str, side: str) -> dict[str, Any]:
    workload = data.get("workloads", {}).get(name, {})
    return dict(workload.get("latencies", {}).get(lat, {}).get(side, {}))


def _per_op(methods: dict[str, float] | None) -> str:
    return ", ".join(f"{fmt(v)} {m}" for m, v in sorted((methods or {}).items()))


def why_missed(data: dict[str, Any], targets: list[tuple[str, str, str]]) -> list[str]:
    """Data-driven explanations for each missed target (the numbers come from the proxies)."""
    plan = (data.get("meta") or {}).get("plan", {})
    lat = f"{plan.get('latency_ms', 20):g}"
    missed = {t for t, _, v in targets if v == "MISSED"}
    out: list[str] = []
    if any(t.startswith("publish throughput") for t in missed):
        ours = _cell(data, "publish_task", lat, "ours")
        official = _cell(data, "publish_task", lat, "official")
        estimate = (official.get("devnet_ms_by_method") or {}).get("eth_estimateGas")
        text = (
            f"publish_task: ours makes {fmt(ours.get('requests_per_task'))} HTTP requests per "
            f"task, one after the other (JSON-RPC calls: {_per_op(ours.get('rpc_per_task'))}; "
            f"some share a batch; plus the upload), the official SDK "
            f"{fmt(official.get('requests_per_task'))}; at +{lat} ms each is a round trip. "
            f"The devnet is busy {fmt(ours.get('devnet_ms_per_task'), 'ms')} per task for ours "
            f"and {fmt(official.get('devnet_ms_per_task'), 'ms')} for the official SDK"
        )
        if finite(estimate):
            text += (
                f", {fmt(estimate, 'ms')} of it in eth_estimateGas (it executes the Task "
                "deployment at least twice)"
            )
        text += (
            "; that cost is paid per task by both SDKs (the floor estimates once) and caps the "
            "ratio far below 3×. Already done: the chain-time read shares the preflight's "
            "batch, the receipt poll carries its block, and the devnet estimates gas with one "
            "execution plus one check (geth's shortcut). To close the rest: a batch or "
            "concurrent publish path that pipelines nonces (one publish_task must wait for its "
            "receipt to return the Task, so a sequential loop is bounded by receipt latency), "
            "and uploading the config while the preflight runs without breaking the "
            "no-upload-on-bad-input guarantee."
        )
        out.append(text)
    if any(t.startswith("Source.get_tasks() over 3,000 tasks ≥") for t in missed):
        cells = {side: _cell(data, "get_tasks", lat, side) for side in ("ours", "official")}
        busy = {side: c.get("devnet_ms_per_call") for side, c in cells.items()}
        out.append(
            f"get_tasks over 3,000 tasks: every side makes the same one `getTasks(0, 2999)` "
            f"eth_call, and the devnet (py-evm) spends {fmt(busy['ours'], 'ms')} executing "
            f"it for ours and {fmt(busy['official'], 'ms')} for the official SDK, of "
            f"{fmt(cells['ours'].get('value'), 'ms')} and "
            f"{fmt(cells['official'].get('value'), 'ms')} in all. What is left to cut is "
            "the client side (ours: 2 requests; the official SDK adds eth_chainId reads and "
            "web3 decoding), so the ratio is bounded by the node's execution time; a faster "
            "node (geth runs this call in milliseconds) moves it toward the overhead ratio."
        )
    if any(t.startswith("publish_tasks ≥ 1×") for t in missed):
        ours = _cell(data, "publish_tasks", lat, "ours")
        floor = _cell(data, "publish_tasks", lat, "web3")
        out.append(
            f"publish_tasks against the floor: both make {fmt(ours.get('requests_per_task'))} "
            "HTTP requests per task; the devnet is busy "
            f"{fmt(ours.get('devnet_ms_per_task'), 'ms')} per task for ours and "
            f"{fmt(floor.get('devnet_ms_per_task'), 'ms')} for the floor "
            "(one run, one repetition: run-to-run noise on this 2-core machine is of that order); "
            "the devnet's CPU per task (its own process time, not inflated by the machine's load "
            f"or by parallel requests): {fmt(ours.get('devnet_cpu_ms_per_task'), 'ms')} for ours, "
            f"{fmt(floor.get('devnet_cpu_ms_per_task'), 'ms')} for the floor."
        )
    if any(t.startswith("watchers") for t in missed):
        out.append(_why_watchers(data, lat))
    slow = [t for t, m, v in targets if t.startswith("no workload") and v == "MISSED"]
    if slow:
        o = _cell(data, "watchers", lat, "ours")
        f = _cell(data, "watchers", lat, "official")
        if (
            finite(o.get("latency_p50_ms"))
            and finite(f.get("latency_p50_ms"))
            and (o["latency_p50_ms"] > f["latency_p50_ms"])
        ):
            out.append(
                f"watcher event latency: p50 {fmt(o['latency_p50_ms'], 'ms')} (ours) vs "
                f"{fmt(f['latency_p50_ms'], 'ms')} (official) at +{lat} ms (medians of "
                "the rounds' p50). Both sides sleep poll_interval after each poll, so an "
                "event waits about half a poll period on either; ours is one poll schedule "
                "for all K watchers (one phase per round) where the official SDK's K watchers "
                "poll at K independent phases, so ours' p50 swings more from round to round. "
                "Polling more often would lower it, at the cost of the 1/K request target."
            )
        close: list[str] = []
        real: list[str] = []
        for name in ORDER:
            workload = data.get("workloads", {}).get(name, {})
            if name in ("watchers", "long_watch"):
                continue
            for row_lat, cells in workload.get("latencies", {}).items():
                r = ratio(workload, cells, "official")
                if finite(r) and r < 1:
                    (close if r >= 0.95 else real).append(f"{name} ({row_lat}): {times(r)}")
        if close:
            out.append(
                "within 5% of the official SDK (run-to-run noise on this shared 2-core "
                f"machine is of that order): {', '.join(close)}."
            )
        if real:
            hints = {
                "import": "`python -X importtime` shows which modules make the difference; "
                "tests/test_imports.py lists what each import may load",
                "publish_task": "a sequential publish_task waits for each receipt; the devnet's "
                "per-task execution ('devnet busy' below) is paid by both SDKs",
                "publish_tasks": "see publish_task",
                "get_tasks": "the devnet's getTasks execution dominates ('devnet busy' below)",
                "get_tasks_10k": "see get_tasks",
                "snapshot": "see the JSON-RPC calls below",
                "first_result": "`python -X importtime` shows what the process imports",
            }
            names = sorted({r.split(" ")[0] for r in real})
            out.append(
                f"slower than the official SDK by more than 5%: {', '.join(real)}. "
                + "; ".join(f"{n}: {hints[n]}" for n in names if n in hints)
                + "."
            )
    return out


def _why_watchers(data: dict[str, Any], lat: str) -> str:
    """Why the whole-watch request ratio sits at 1/K, from the measured poll counts."""
    k = int(data.get("workloads", {}).get("watchers", {}).get("watchers") or 20)
    ours = _cell(data, "watchers", lat, "ours")
    official = _cell(data, "watchers", lat, "official")
    floor = _cell(data, "watchers", lat, "web3")
    pairs = zip(ours.get("runs") or [], official.get("runs") or [], strict=False)
    shares = sorted(
        f["http_requests"] / o["http_requests"]
        for o, f in pairs
        if o.get("http_requests") and f.get("http_requests")
    )
    spread = (
        f"1/{shares[-1]:.1f} to 1/{shares[0]:.1f} over this run's {len(shares)} rounds"
        if shares
        else "no complete round"
    )
    text = (
        f"watchers: per poll, ours sends 1 HTTP request for all K = {k} watchers (a batch of "
        "eth_getLogs, the head and the block below the range, which ties the logs to the "
        "kept chain) and the official SDK K (one eth_getFilterChanges "
        "per watcher): exactly 1/K. Over the whole watch ours made "
        f"{fmt(ours.get('value'))} requests (1 head read to pin the start, then "
        f"{fmt(ours.get('polls_per_watcher'))} polls), and each official watcher "
        f"{fmt(official.get('value', math.nan) / k)} (2 at start: web3_clientVersion, "
        f"eth_newFilter; then {fmt(official.get('polls_per_watcher'))} polls). Each "
        "official watcher stops at its own last event, on average "
        f"{fmt(official.get('early_finish_s', math.nan) * 1000, 'ms')} before the last "
        "event of all, while one shared stream serves until the last watcher is done; and "
        "both SDKs sleep poll_interval after an answer, which under the driver's load took "
        f"{fmt(official.get('poll_request_ms'), 'ms')} per eth_getFilterChanges at the devnet "
        f"against {fmt(ours.get('poll_request_ms'), 'ms')} per batch of ours, so each "
        "official watcher polls a little less often. The ratio lands on either side of 1/K: "
        f"{spread}."
    )
    if floor.get("status") == "ok" and floor.get("value") and finite(official.get("value")):
        text += (
            f" The hand-written web3.py floor, one eth_getLogs per poll and nothing else, made "
            f"{fmt(floor.get('value'))} requests (1/{official['value'] / floor['value']:.1f} "
            "of official): 1/K of the official SDK's whole-watch count is below even that "
            "plain loop. Closing it would take polling less often than the caller asked "
            "(fewer requests, later events); we keep the caller's interval."
        )
    return text
