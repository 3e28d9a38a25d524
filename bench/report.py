"""Results: merging into ``bench/results/<plan>.json``, the Markdown table, ``bench/README.md``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench import report_targets, service_load
from bench.report_fmt import ORDER, finite, fmt, ratio, times

__all__ = ["ORDER", "agreement", "cells_line", "json_default", "merge", "render", "write_readme"]

SIDE_NAMES = {"ours": "ours", "official": "official 0.2.3", "web3": "web3.py floor"}
BEGIN = "<!-- bench:generated:begin -->"
END = "<!-- bench:generated:end -->"


def json_default(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def cells_line(cells: dict[str, dict[str, Any]], unit: str) -> str:
    parts = []
    for side, cell in cells.items():
        if cell.get("status") == "ok":
            parts.append(f"{side} {fmt(cell.get('value'), unit)}")
        else:
            parts.append(f"{side} [{str(cell.get('status'))[:90]}]")
    return "; ".join(parts)


def agreement(result: dict[str, Any], key: str) -> dict[str, Any]:
    """Whether every side returned the same ``key`` value (e.g. the snapshot's fields)."""
    seen: dict[str, Any] = {}
    for cells in result.get("latencies", {}).values():
        for side, cell in cells.items():
            if cell.get("status") == "ok" and key in cell:
                seen[side] = cell[key]
    values = [json.dumps(v, sort_keys=True, default=str) for v in seen.values()]
    return {"sides": sorted(seen), "agree": len(set(values)) <= 1, "values": seen}


def merge(path: Path, meta: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """The results file's content with this run's workloads replacing older ones."""
    old: dict[str, Any] = {}
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = {}
    workloads = dict(old.get("workloads", {}))
    workloads.update(results)
    runs = dict(old.get("runs", {}))
    for name in results:
        runs[name] = meta
    return {"meta": meta, "runs": runs, "workloads": workloads}


def _cell_text(workload: dict[str, Any], cell: dict[str, Any]) -> str:
    if cell.get("status") != "ok":
        status = str(cell.get("status", "not run"))
        return status if len(status) <= 70 else status[:67] + "..."
    unit = {"ms per call": "ms", "MB peak RSS": "MB", "HTTP requests": "req"}.get(
        workload.get("unit", ""), workload.get("unit", "")
    )
    text = fmt(cell.get("value"), unit)
    if "in_process_ms" in cell:
        text += f" (in-process {fmt(cell['in_process_ms'], 'ms')}"
        if "cpu_ms" in cell:
            text += f", CPU {fmt(cell['cpu_ms'], 'ms')}"
        text += ")"
    if "requests_per_call" in cell and finite(cell["requests_per_call"]):
        text += f" ({fmt(cell['requests_per_call'])} req)"
    if "requests_per_task" in cell and finite(cell["requests_per_task"]):
        text += f" ({fmt(cell['requests_per_task'])} req/task)"
    if "latency_p50_ms" in cell and workload.get("unit") == "HTTP requests":
        text += f", p50 {fmt(cell['latency_p50_ms'], 'ms')}"
    if "callback_p99_ms" in cell:
        text += service_load.cell_extra(cell)
    return text


def _workload_label(name: str, workload: dict[str, Any], lat: str) -> str:
    if name == "import":
        return f"{workload.get('title', name)}: {lat}"
    return f"{workload.get('title', name)} @ +{lat} ms"


def render(data: dict[str, Any]) -> str:
    """The Markdown results section: main table, targets, request breakdown, checks."""
    workloads = data.get("workloads", {})
    meta = data.get("meta", {})
    lines = [
        "| workload | ours | official 0.2.3 | web3.py floor | ours vs official | ours / floor |",
        "|---|---|---|---|---|---|",
    ]
    for name in ORDER:
        workload = workloads.get(name)
        if workload is None:
            continue
        if "skipped" in workload:
            lines.append(f"| {name} | {workload['skipped']} | | | | |")
            continue
        for lat, cells in workload.get("latencies", {}).items():
            row = [_workload_label(name, workload, lat)]
            row += [_cell_text(workload, cells.get(side, {})) for side in SIDE_NAMES]
            better = ratio(workload, cells, "official")
            floor = ratio(workload, cells, "web3")
            row.append(
                f"{times(better)} {'better' if better >= 1 else 'worse'}" if finite(better) else "–"
            )
            row.append(times(1 / floor) if finite(floor) else "–")
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Targets (from the issue):", ""]
    lines += ["| target | measured | verdict |", "|---|---|---|"]
    targets = report_targets.targets(data)
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets]
    misses = report_targets.why_missed(data, targets)
    if misses:
        lines += ["", "Why targets are missed, and what would close them:", ""]
        lines += [f"- {m}" for m in misses]
    lines += ["", "JSON-RPC calls per operation at the proxy (ours / official / floor):", ""]
    for name, per in (
        ("snapshot", "methods"),
        ("get_tasks", "methods"),
        ("get_tasks_10k", "methods"),
        ("publish_task", "rpc_per_task"),
        ("publish_tasks", "rpc_per_task"),
    ):
        workload = workloads.get(name, {})
        for lat, cells in workload.get("latencies", {}).items():
            parts = []
            for side in SIDE_NAMES:
                methods = cells.get(side, {}).get(per)
                if methods:
                    inner = ", ".join(f"{m} {fmt(v)}" for m, v in sorted(methods.items()))
                    extra = cells[side].get("store_per_task")
                    if extra:
                        inner += f", content store {fmt(extra)}"
                    devnet = cells[side].get(
                        "devnet_ms_per_task", cells[side].get("devnet_ms_per_call")
                    )
                    if finite(devnet):
                        inner += f" (devnet busy {fmt(devnet, 'ms')}/op)"
                    parts.append(f"{side}: {inner}")
            if parts:
                lines.append(f"- {name} @ +{lat} ms: " + "; ".join(parts))
    for lat, cells in workloads.get("watchers", {}).get("latencies", {}).items():
        parts = []
        for side in SIDE_NAMES:
            runs = cells.get(side, {}).get("runs") or []
            if runs and runs[0].get("methods"):
                inner = ", ".join(f"{m} {v}" for m, v in sorted(runs[0]["methods"].items()))
                parts.append(f"{side}: {inner}")
        if parts:
            lines.append(f"- watchers @ +{lat} ms (first run, whole watch): " + "; ".join(parts))
    lines += [
        "",
        '"ours vs official": how many times better ours is (time, 1/throughput, requests '
        'or memory; > 1 is better). "ours / floor": ours\' cost relative to the '
        "hand-written web3.py floor (< 1: ours beats it, e.g. by aggregating calls into one "
        '`eth_call`). "devnet busy": time the devnet spent serving the side\'s requests '
        "(measured at the proxy, without the added delay).",
    ]
    notes = _notes(data)
    if notes:
        lines += ["", "Checks:", ""] + [f"- {n}" for n in notes]
    plan = meta.get("plan", {})
    lines += ["", *_run_lines(data)]
    lines[-1] += (
        f" Repetitions: {plan.get('reps')} (snapshot, get_tasks), "
        f"{plan.get('publish_reps')} (publish_task), {plan.get('watch_reps')} (watchers), "
        f"{plan.get('import_reps')} (import), {plan.get('service_reps')} (service); values "
        "are medians."
    )
    return "\n".join(lines)


def _run_lines(data: dict[str, Any]) -> list[str]:
    """One line per run the table's workloads come from (``--workload`` runs merge)."""
    runs: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for name in ORDER:
        if name in data.get("workloads", {}):
            meta = (data.get("runs") or {}).get(name) or data.get("meta", {})
            key = json.dumps(meta, sort_keys=True, default=str)
            runs.setdefault(key, (meta, []))[1].append(name)
    if not runs:
        runs[""] = (data.get("meta", {}), [])
    lines = []
    for meta, names in runs.values():
        plan = meta.get("plan", {})
        which = f" ({', '.join(names)})" if len(runs) > 1 else ""
        seeding = meta.get("seed_seconds")
        lines.append(
            f"Run{which}: plan `{plan.get('name')}`, Python {meta.get('python')}, "
            f"{meta.get('cpus')} CPUs, {meta.get('platform')}; total "
            f"{meta.get('total_seconds')} s"
            + (f" (seeding {seeding} s)." if seeding is not None else ".")
        )
    return lines


def _notes(data: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    workloads = data.get("workloads", {})
    snap = workloads.get("snapshot", {}).get("checks")
    if snap:
        if snap.get("agree"):
            notes.append(f"snapshot fields agree across {', '.join(snap['sides'])}.")
        else:
            notes.append(f"snapshot fields DIFFER between sides: {snap.get('values')}")
    for name in ("get_tasks", "get_tasks_10k"):
        for lat, cells in workloads.get(name, {}).get("latencies", {}).items():
            for side, cell in cells.items():
                check = cell.get("check")
                if check and not check.get("correct"):
                    notes.append(
                        f"{name} @ +{lat} ms: {side} returned {check['count']} of "
                        f"{check['expected']} tasks (result differs from the chain)."
                    )
    for name in ("watchers", "long_watch"):
        for lat, cells in workloads.get(name, {}).get("latencies", {}).items():
            for side, cell in cells.items():
                runs = cell.get("runs") or [cell]
                for run in runs:
                    if run.get("unexpected"):
                        notes.append(
                            f"{name} @ +{lat} ms: {side} yielded "
                            f"{run['unexpected']} unexpected events."
                        )
    notes += service_load.notes(workloads.get("service", {}))
    unavailable = (data.get("meta") or {}).get("unavailable") or {}
    for side, reasons in unavailable.items():
        for workload, reason in reasons.items():
            notes.append(f"{side} / {workload}: {reason}")
    return notes


_PREFACE = """# Benchmarks: this SDK vs the official `ogpu==0.2.3` vs plain web3.py

`make bench` (= `python -m bench`) runs every workload against a local
`ogpu devnet` over HTTP, three ways, interleaved in every repetition:

- **ours**: this repository's `ogpu` (the main venv);
- **official**: the published `ogpu==0.2.3`, installed by the harness into
  `bench/.venvs/official` (gitignored, reused when present) and pointed at the
  devnet at run time by `bench/official_shim.py`;
- **web3.py floor**: hand-written web3.py calls doing the minimum number of round
  trips (JSON-RPC batches, pipelined sends); the floor, not a competitor.

Each workload runs directly against the devnet (+0 ms) and again behind
`bench/proxy.py`, a loopback HTTP proxy that adds 20 ms to every HTTP request
(RPC and content store alike) and counts requests and JSON-RPC methods (a batch is
one HTTP request). Request counts in the table come from the proxied runs.

```
python -m bench                       # full run (~6 min): results/results.json + this README
python -m bench --quick               # smoke run (~1.5 min): results/quick.json
python -m bench --workload snapshot   # one workload (repeatable); merged into the results file
python -m bench --publish-concurrency 8 --output publish-concurrency-8   # a side experiment
python -m bench --reps 5 --latency-ms 50
python -m bench --render              # rewrite this README from results/results.json
python -m bench --ours-python PATH    # run the "ours" side with another interpreter
```

Our side is skipped, workload by workload, with a "not available yet" line when
the SDK lacks what a workload needs (e.g. `ogpu.client.publish_task`); the other
sides still run. The harness needs network access only to create the official
SDK's venv (`pip install ogpu==0.2.3`, about 25 s, once).

## Workloads

- `import`: `import ogpu` in a fresh interpreter (floor: `import web3`), and the
  same plus `ogpu.protocol`, `ogpu.client`, `ogpu.events` (floor: `eth_account`).
  Ours loads web3 and eth-account with the first write only; reads load neither
  (`first_result` below measures the first read; `tests/test_imports.py` guards
  which modules an import may load).
- `first_result`: time to first result: a new worker process per measurement
  imports its side's SDK and reads one `Task.snapshot()` (the floor: web3.py
  and one JSON-RPC batch of the eight getters); the value is the wall time from
  spawning the interpreter to the answer, "in-process" is import plus snapshot
  measured inside it (`bench/first_result.py`). Ours reads through its own
  JSON-RPC transport, ABI codec (`ogpu.abi`) and keccak, and loads no web3,
  eth-abi or eth-account on that path (`tests/protocol/test_web3_free.py`).
- `snapshot`: `Task(addr).snapshot()` on a seeded task; median per call.
- `get_tasks`: `Source(addr).get_tasks()` on a source with 3,000 tasks (the
  issue's size); median per call; every side's result is checked against the
  chain. The list is seeded on first use by the `ListBuilder` test fixture (a real
  Source contract, 1,000 synthetic task addresses per transaction).
- `get_tasks_10k`: the same on a source with 10,000 tasks. `Source.getTasks`
  cannot be paged on mainnet (docs/MAINNET.md), so one call under the devnet's
  50,000,000 `eth_call` gas cap returns the whole list (about 22.6M gas); one call
  per repetition.
- `publish_task`: 100 × `ogpu.client.publish_task(TaskInfo(...), private_key=...)`
  from one key (each side its own funded client), sequential by default
  (`--publish-concurrency N` for N threads); the config is uploaded to the
  content store; tasks/s; the landed task count is checked on chain. The floor
  uploads in parallel, estimates gas once, sends all transactions in one JSON-RPC
  batch and reads the receipts in another.
- `publish_tasks`: the same 100 tasks from one key, each SDK's fastest safe way
  (the issue's "pipelined nonces"): ours calls `ogpu.client.publish_tasks(infos)`
  (every check first, then the uploads, one batch of gas estimates, one per
  source, payment and config-URL length, like the floor's one estimate, one of
  broadcasts, and receipt polls: 4 sequential RPC round trips); the official SDK
  has no batch call, and its concurrent `publish_task` calls collide on nonces
  (`--publish-concurrency 8`: 47–52 of 100 failed with "nonce too high"), so its
  side runs the sequential loop again, interleaved with ours.
  The throughput target is judged on this row.
- `watchers`: 20 `watch_task_published` watchers (one per source,
  `poll_interval` 0.5 s) following 100 tasks that a driver publishes round-robin;
  the HTTP requests of the whole watch, and the event latency (the moment the
  watcher yields the event minus the moment the devnet answered the
  transaction's send; it mines before answering).
- `long_watch`: one watcher (`poll_interval` 0.05 s) following a stream of tasks;
  peak RSS (VmHWM) of the process.
- `service`: a burst of 1,000 `POST /run/square/{task}` at concurrency 50 against
  each framework serving the same one-handler source (a sync `def`) as its own
  process, every setting at its default (`bench/service_load.py`). The client (50
  keep-alive connections, asyncio) never retries: an answer other than 202
  counts as refused. Reported per side: accepted count, accept rate (accepted
  requests per second, first send to last answer), and callback latency (request
  sent to its callback received, p50/p99) over every accepted task; and whether
  each accepted task got exactly one callback with the right body (none for a
  refused task). The sides alternate over 5 repetitions after a warm-up; values
  are medians. No chain is involved, so the proxy's added latency has nothing to
  delay: the row is reported at +0 ms only. It runs before the devnet starts.
  The official framework binds 0.0.0.0:5555 with no setting to change it; its
  process sets `ogpu.service.server.SERVICE_HOST`/`SERVICE_PORT` before `start()`.

The three sides of the `watchers` / `long_watch` workloads run at the same time,
on the same event stream, each through its own proxy (the +0 ms round uses the
proxies with no delay, to count requests). The watchers start at a freshly mined
empty block; the driver starts once the official SDK's 20 `eth_newFilter` calls
have been answered, because its watchers poll `eth_getFilterChanges`, which only
returns logs mined after the filter exists, whatever `from_block` says.

The devnet (py-evm) is slow per transaction: `publishTask` deploys a Task
contract, and `eth_estimateGas` re-executes it several times. Both SDKs pay that
per task, so `publish_task` throughput is bounded by the devnet on every side;
"devnet busy" below shows how much of each operation it accounts for.

## The command line (`python -m bench.cli`)

A separate script, on real processes: `ogpu --help` and `ogpu --version` against
`python -c pass` (median of interleaved runs), seconds from Ctrl-C (SIGINT) to exit
of `ogpu provider run` (waiting for its service, and serving), `ogpu task watch`
and `ogpu devnet`, and the length of the error line for a refused port, a host
that does not resolve, a node that never answers and a node of another chain.
Results in `bench/results/cli.json` (before the issue-18 work:
`bench/results/cli-before.json`).

## Pointing the official SDK at the devnet

`ogpu==0.2.3` has no devnet and no setting for its pinning endpoint.
`bench/official_shim.py` (imported only in the official venv's worker) overrides,
in memory:

- `ChainConfig.CHAIN_CONTRACTS[ChainId.OGPU_MAINNET]` → the devnet's NEXUS,
  CONTROLLER, TERMINAL and VAULT (the devnet has exactly the mainnet ABI set; the
  package's ABI files are byte-identical to `abis/mainnet`). No chain-id override
  is needed: the package never hard-codes it; web3 asks the node.
- `CHAIN_RPC_URLS[OGPU_MAINNET]` through the package's own
  `Web3Manager.update_rpc_url`, and the async watchers' `AsyncWeb3` cache.
- `ogpu.ipfs.publish._IPFS_PUBLISH_URL` → `<devnet store>/file/create` (same
  multipart request, same `{"link": ...}` answer as `capi.ogpuscan.io`).
- a web3 compatibility patch (the one change that is not configuration): the
  package's watchers call `create_filter(fromBlock=...)`, a keyword web3 7
  renamed to `from_block`, so with the web3 7.x the package requires, every
  official watcher raises `TypeError` on its first iteration. The shim maps the
  keyword so the watchers can be measured at all.
"""


def write_readme(path: Path, data: dict[str, Any], results_path: Path) -> None:
    """Rewrite ``bench/README.md``: the fixed preface plus the generated results section."""
    body = render(data)
    text = (
        _PREFACE
        + "\n## Results\n\n"
        + BEGIN
        + "\n\nGenerated by `python -m bench` from "
        + f"`bench/results/{results_path.name}`; do not edit by hand.\n\n"
        + body
        + "\n\n"
        + END
        + "\n"
    )
    path.write_text(text)
