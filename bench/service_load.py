"""Service burst, side by side: ``POST /run`` at ours and at official 0.2.3's framework.

Each side serves the same one-handler source (``square``, a sync ``def``) as its
own process, started the way a container starts it (``PORT``-style settings in
the environment; every other setting at its default). One asyncio client in
this process fires ``count`` requests over ``concurrency`` keep-alive
connections and never retries: an answer other than ``202`` is counted, not
repeated. An asyncio callback receiver in the same loop records every callback.
Reported per side: accepted count, accept rate (accepted requests per second,
first send to last answer), answer latency, callback latency (request sent →
first callback received) p50/p99, and whether every accepted task got exactly
one callback with the right body (none for refused tasks). The sides alternate
in every repetition (ours, official, ours, ...); values are medians.

    python -m bench.service_load [--count 1000] [--concurrency 50] [--reps 3]
                                 [--side ours] [--env OGPU_SERVICE_QUEUE_SIZE=32] [--json]

The official framework (0.2.3) binds ``0.0.0.0:5555`` with no setting to change
it; its process sets ``ogpu.service.server.SERVICE_HOST/PORT`` before
``start()`` (configuration in memory, as ``bench/official_shim.py`` does).
``python -m bench --workload service`` runs the same and adds the row to the
results table. No chain is involved, so the proxy's added latency does not
apply: the row is reported at +0 ms only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # `python bench/service_load.py`
    sys.path.insert(0, str(ROOT))

from bench.service_http import Connection, Receiver, Server  # noqa: E402
from bench.stats import percentile  # noqa: E402

__all__ = ["SIDES", "SideRun", "cell_extra", "main", "notes", "run_side", "run_workload", "target"]

SIDES = ("ours", "official")
WARMUP = 50


# -- one burst --------------------------------------------------------------------------------


@dataclass
class SideRun:
    """One burst against one side."""

    side: str
    count: int
    concurrency: int
    accepted: int
    refused: dict[str, int]
    accept_rate: float
    answer_p50_ms: float
    answer_p99_ms: float
    callback_p50_ms: float
    callback_p99_ms: float
    delivered: int
    duplicates: int
    missing: int
    unexpected: int
    wrong_body: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return (
            self.delivered == self.accepted
            and self.duplicates == self.missing == self.unexpected == self.wrong_body == 0
        )


async def _burst(
    port: int, path: str, tasks: list[str], concurrency: int
) -> tuple[dict[str, tuple[float, float, str]], float]:
    """Fire one POST per task over ``concurrency`` connections; (sent, answered, status)."""
    results: dict[str, tuple[float, float, str]] = {}
    order = iter(enumerate(tasks))

    async def worker() -> None:
        conn: Connection | None = None
        for index, task in order:
            body = json.dumps({"n": index}).encode()
            sent = time.monotonic()
            try:
                if conn is None:
                    conn = await Connection.open(port)
                status, _, close = await conn.request("POST", f"{path}/{task}", body)
                outcome = str(status)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                outcome, close = f"error: {type(exc).__name__}", True
            results[task] = (sent, time.monotonic(), outcome)
            if close and conn is not None:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results, began


async def _wait_callbacks(
    receiver: Receiver, tasks: list[str], timeout: float, settle: float
) -> None:
    deadline = time.monotonic() + timeout
    while not all(t in receiver.calls for t in tasks):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        receiver.changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(receiver.changed.wait(), min(left, 0.5))
    await asyncio.sleep(settle)  # let a duplicate arrive before counting


async def _measure(
    server: Server,
    receiver: Receiver,
    tag: str,
    count: int,
    concurrency: int,
    timeout: float = 120.0,
    settle: float = 0.5,
) -> SideRun:
    tasks = [f"0x{tag}{i:032x}" for i in range(count)]
    results, began = await _burst(server.port, "/run/square", tasks, concurrency)
    accepted = [t for t in tasks if results[t][2] == "202"]
    await _wait_callbacks(receiver, accepted, timeout, settle)
    refused: dict[str, int] = {}
    for _, _, status in results.values():
        if status != "202":
            refused[status] = refused.get(status, 0) + 1
    accepted_set = set(accepted)
    firsts: dict[str, float] = {}
    duplicates = wrong = 0
    for index, task in enumerate(tasks):
        calls = receiver.calls.get(task, [])
        if calls:
            firsts[task] = calls[0].at
            duplicates += len(calls) - 1
            wrong += sum(1 for c in calls if c.body != {"n": index, "square": index * index})
    unexpected = sum(1 for t in firsts if t not in accepted_set)
    last_answer = max(answered for _, answered, _ in results.values())
    answer_ms = [(results[t][1] - results[t][0]) * 1000 for t in tasks]
    callback_ms = [(firsts[t] - results[t][0]) * 1000 for t in accepted if t in firsts]
    last = max([last_answer, *firsts.values()])
    return SideRun(
        side=server.side,
        count=count,
        concurrency=concurrency,
        accepted=len(accepted),
        refused=refused,
        accept_rate=len(accepted) / (last_answer - began),
        answer_p50_ms=percentile(answer_ms, 50),
        answer_p99_ms=percentile(answer_ms, 99),
        callback_p50_ms=percentile(callback_ms, 50),
        callback_p99_ms=percentile(callback_ms, 99),
        delivered=sum(1 for t in accepted if t in firsts),
        duplicates=duplicates,
        missing=sum(1 for t in accepted if t not in firsts),
        unexpected=unexpected,
        wrong_body=wrong,
        seconds=last - began,
    )


async def _run(
    pythons: dict[str, str],
    count: int,
    concurrency: int,
    reps: int,
    env: dict[str, str],
    say: Callable[[str], None],
) -> dict[str, list[SideRun] | str]:
    receiver = Receiver()
    await receiver.start()
    servers: dict[str, Server] = {}
    out: dict[str, list[SideRun] | str] = {}
    try:
        for number, (side, python) in enumerate(pythons.items()):
            url = f"http://127.0.0.1:{receiver.port}/{side}"
            server = Server(side, python, url, env if side == "ours" else {})
            servers[side] = server
            try:
                await server.wait_ready()
                # warm-up: first requests pay imports, connection set-up, thread start
                await _measure(server, receiver, f"{number:02x}ffffff", WARMUP, 10, settle=0)
            except RuntimeError as exc:
                out[side] = f"error: {exc}"
            else:
                out[side] = []
        for rep in range(reps):
            for number, side in enumerate(pythons):
                runs = out[side]
                if isinstance(runs, str):
                    continue
                run = await _measure(
                    servers[side], receiver, f"{number:02x}{rep:06x}", count, concurrency
                )
                runs.append(run)
                say(
                    f"service {side} rep {rep + 1}: {run.accepted}/{count} accepted, "
                    f"{run.accept_rate:.0f} accepted/s, callback p50 {run.callback_p50_ms:.1f} ms "
                    f"p99 {run.callback_p99_ms:.1f} ms, exactly once: {run.exactly_once}"
                )
    finally:
        for server in servers.values():
            server.stop()
        await receiver.stop()
    return out


def run_side(
    side: str, python: str, count: int = 1000, concurrency: int = 50, **env: str
) -> SideRun:
    """One burst against one side (after a warm-up). For tests and experiments."""
    runs = asyncio.run(_run({side: python}, count, concurrency, 1, dict(env), lambda _: None))
    result = runs[side]
    if isinstance(result, str):
        raise RuntimeError(result)
    return result[0]


# -- the harness workload ---------------------------------------------------------------------


def _cell(runs: list[SideRun]) -> dict[str, Any]:
    def med(name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in runs))

    once = all(r.exactly_once for r in runs)
    refused: dict[str, int] = {}
    for run in runs:
        for status, n in run.refused.items():
            refused[status] = refused.get(status, 0) + n
    return {
        "status": "ok",
        "value": med("accept_rate"),
        "reps": [r.accept_rate for r in runs],
        "count": runs[0].count,
        "accepted": min(r.accepted for r in runs),
        "accepted_per_rep": [r.accepted for r in runs],
        "refused": refused,
        "answer_p50_ms": med("answer_p50_ms"),
        "answer_p99_ms": med("answer_p99_ms"),
        "callback_p50_ms": med("callback_p50_ms"),
        "callback_p99_ms": med("callback_p99_ms"),
        "exactly_once": once,
        "callbacks": {
            k: sum(getattr(r, k) for r in runs)
            for k in ("delivered", "duplicates", "missing", "unexpected", "wrong_body")
        },
        "seconds": med("seconds"),
        "tasks_per_s": float(statistics.median(r.count / r.seconds for r in runs)),
    }


def run_workload(
    pythons: dict[str, str],
    unavailable: dict[str, str],
    *,
    count: int = 1000,
    concurrency: int = 50,
    reps: int = 3,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The ``service`` row of ``python -m bench``: one cell per side at +0 ms."""
    runnable = {s: p for s, p in pythons.items() if s in SIDES and s not in unavailable}
    runs = asyncio.run(_run(runnable, count, concurrency, reps, {}, say))
    cells: dict[str, dict[str, Any]] = {}
    for side in ("ours", "official", "web3"):
        if side == "web3":
            cells[side] = {"status": "not applicable (no web3.py service)"}
        elif side in unavailable:
            cells[side] = {"status": unavailable[side]}
        else:
            result = runs[side]
            cells[side] = {"status": result} if isinstance(result, str) else _cell(result)
    return {
        "title": f"service: {count} × POST /run at concurrency {concurrency}, no retries",
        "unit": "accepted/s",
        "better": "higher",
        "count": count,
        "concurrency": concurrency,
        "reps": reps,
        "latencies": {"0": cells},
    }


# -- describing the row (used by bench/report.py) ----------------------------------------------


def cell_extra(cell: dict[str, Any]) -> str:
    """What follows the accept rate in a table cell."""
    once = "exactly once" if cell.get("exactly_once") else "NOT exactly once"
    return (
        f" ({cell['accepted']}/{cell['count']} accepted, callback p50 "
        f"{cell['callback_p50_ms']:.0f} ms, p99 {cell['callback_p99_ms']:.0f} ms, all "
        f"done in {cell['seconds']:.2f} s, {once})"
    )


def target(workload: dict[str, Any]) -> tuple[str, str, str]:
    """The issue's service target as a (target, measured, verdict) row."""
    cells = workload.get("latencies", {}).get("0", {})
    ours, official = cells.get("ours", {}), cells.get("official", {})
    count = int(workload.get("count") or 1000)
    what = (
        f"service: {count:,} of {count:,} accepted at concurrency "
        f"{workload.get('concurrency', 50)}, accept rate ≥ 1.0× official, every callback "
        "exactly once"
    )
    if ours.get("status") != "ok" or official.get("status") != "ok":
        return what, "–", "–"
    rate = ours["value"] / official["value"]
    p99 = official["callback_p99_ms"] / ours["callback_p99_ms"]
    measured = (
        f"{ours['accepted']}/{count} accepted (official {official['accepted']}/{count}); "
        f"{rate:.2f}× official's accept rate; exactly once: ours "
        f"{'yes' if ours['exactly_once'] else 'NO'}, official "
        f"{'yes' if official['exactly_once'] else 'NO'}; callback p99 {p99:.2f}× lower"
    )
    ok = ours["accepted"] == count and rate >= 1.0 and bool(ours["exactly_once"])
    return what, measured, "met" if ok else "MISSED"


def notes(workload: dict[str, Any]) -> list[str]:
    """Checks worth a line under the table: refusals and callbacks not exactly once."""
    out: list[str] = []
    for side, cell in workload.get("latencies", {}).get("0", {}).items():
        if cell.get("status") != "ok":
            continue
        if cell.get("refused"):
            out.append(f"service: {side} refused {cell['refused']} over {workload['reps']} reps.")
        if not cell.get("exactly_once"):
            out.append(f"service: {side} callbacks not exactly once: {cell['callbacks']}.")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--side", action="append", choices=SIDES, help="default: both")
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="ours' environment"
    )
    parser.add_argument("--json", action="store_true", help="print every run as JSON")
    args = parser.parse_args(argv)
    pythons = {"ours": os.path.abspath(args.ours_python)}
    if "official" in (args.side or SIDES):
        from bench.official_env import ensure_official_venv

        pythons["official"] = str(ensure_official_venv().python)
    pythons = {s: p for s, p in pythons.items() if s in (args.side or SIDES)}
    env = dict(item.split("=", 1) for item in args.env)
    runs = asyncio.run(_run(pythons, args.count, args.concurrency, args.reps, env, print))
    ok = True
    for side, result in runs.items():
        if isinstance(result, str):
            print(f"{side}: {result}")
            ok = False
            continue
        cell = _cell(result)
        ok = ok and cell["exactly_once"]
        print(
            f"{side}: accepted {cell['accepted_per_rep']} of {args.count}, refused "
            f"{cell['refused'] or 'none'}; {cell['value']:.0f} accepted/s; answer p50 "
            f"{cell['answer_p50_ms']:.1f} ms p99 {cell['answer_p99_ms']:.1f} ms; callback p50 "
            f"{cell['callback_p50_ms']:.1f} ms p99 {cell['callback_p99_ms']:.1f} ms; "
            f"first send to last callback {cell['seconds']:.2f} s "
            f"({cell['tasks_per_s']:.0f} tasks/s); "
            f"exactly once: {cell['exactly_once']} {cell['callbacks']}"
        )
        if args.json:
            print(json.dumps([r.__dict__ for r in result], indent=1))
    rates = {s: r for s, r in runs.items() if not isinstance(r, str)}
    if len(rates) == 2:
        ours, official = (_cell(rates[s]) for s in SIDES)
        print(
            f"ours / official: accept rate {ours['value'] / official['value']:.2f}×, "
            f"callback p99 {official['callback_p99_ms'] / ours['callback_p99_ms']:.2f}× better"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
