"""The ``first_result`` workload: time to first result in a fresh process.

Each measurement starts a new worker process (``bench/worker.py --oneshot``) that
imports its side's SDK (the ``configure`` step: ours ``ogpu.chain``, official
``ogpu`` through its shim, the floor ``web3``) and reads one ``Task.snapshot()``
(the floor: one JSON-RPC batch of the eight getters) over HTTP. Two times per
process: ``value`` is the wall time from spawning the interpreter to the answer
(interpreter start-up included, as a user's ``python script.py`` pays it);
``in_process_ms`` is import plus snapshot as measured inside it, ``cpu_ms`` the CPU
time the whole process used (user + system: what a loaded machine inflates least). The sides
alternate in each repetition (rep 0 warms the disk cache and is not timed);
values are medians. ``loaded`` lists the heavy stacks (web3, eth-abi,
eth-account...) the process had imported by the time it answered. Ours' packages are
byte-compiled before any workload runs (``ensure_bytecode``), as an installed package is.
"""

from __future__ import annotations

import subprocess
from typing import Any

from bench import report
from bench.context import Context, fresh_rounds, latencies, one_shot, say
from bench.sides import SIDES
from bench.stats import median

TITLE = "time to first result (new process: import + Task.snapshot())"


def ensure_bytecode(python: str) -> str:
    """Byte-compile the ``ogpu`` and ``ogpu_bindings`` packages ``python`` imports, as
    ``pip install`` does for an installed package (the official SDK's venv has its
    ``.pyc`` files; an editable checkout run with ``PYTHONDONTWRITEBYTECODE``, as the
    workers are, would otherwise compile every module in every fresh process).
    Returns what was done, for the log; never raises."""
    code = (
        "import compileall, pathlib, ogpu, ogpu_bindings\n"
        "dirs = [pathlib.Path(m.__file__).parent for m in (ogpu, ogpu_bindings)]\n"
        "ok = all(compileall.compile_dir(str(d), quiet=1) for d in dirs)\n"
        "print(' '.join(str(d) for d in dirs) if ok else 'failed')\n"
    )
    try:
        done = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"not compiled: {exc}"
    lines = done.stdout.strip().splitlines()
    return f"compiled {lines[-1]}" if done.returncode == 0 and lines else "not compiled"


def _row(ctx: Context, delay: float | None, task: str) -> dict[str, dict[str, Any]]:
    cells: dict[str, dict[str, Any]] = {}
    for side in SIDES:
        reason = ctx.why_not(side, "first_result") or ctx.why_not(side, "snapshot")
        fresh = {"status": "ok", "reps": [], "inner": [], "cpu": []}
        cells[side] = {"status": reason} if reason else fresh

    def run(side: str) -> dict[str, Any]:
        """One fresh process; behind the proxy, also what it sent (``proxy``)."""
        before = ctx.stats(side) if delay is not None else None
        command = {**ctx.configure_command(side, delay), "op": "first_result", "task": task}
        answer = one_shot(ctx, side, [command], 180)
        if before is not None:
            answer["proxy"] = ctx.stats(side) - before
        return answer

    for cell, answer, timed in fresh_rounds(ctx, cells, run):
        if timed:
            cell["reps"].append(answer["wall"] * 1000)
            cell["inner"].append(answer["seconds"] * 1000)
            cell["cpu"].append(answer["cpu_seconds"] * 1000)
        cell["check"] = answer["digest"]
        cell["loaded"] = answer["loaded"]
        if "proxy" in answer:
            cell["requests_per_call"] = answer["proxy"].http_requests
            cell["methods"] = dict(answer["proxy"].methods)
    for cell in cells.values():
        if cell["status"] == "ok":
            cell["value"] = median(cell["reps"])
            cell["in_process_ms"] = median(cell.pop("inner"))
            cell["cpu_ms"] = median(cell.pop("cpu"))
            cell["min"] = min(cell["reps"])
    return cells


def run_first_result(ctx: Context) -> dict[str, Any]:
    """Both latencies (direct and behind the proxy), every side, fresh processes."""
    assert ctx.seed is not None
    out: dict[str, Any] = {
        "title": TITLE,
        "unit": "ms per call",
        "better": "lower",
        "latencies": {},
    }
    for label, delay in latencies(ctx):
        cells = _row(ctx, delay, ctx.seed.snapshot_task)
        out["latencies"][label] = cells
        say(f"first_result +{label} ms: " + report.cells_line(cells, "ms"))
    out["checks"] = report.agreement(out, "check")
    return out
