"""The sizes and repetitions of a run (``FULL``, ``QUICK``) and the command line that picks one."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bench import report

WORKLOADS = report.ORDER


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
#: One repetition of smaller sizes: proves every workload runs, measures nothing.
QUICK = replace(
    FULL,
    name="quick",
    import_reps=1,
    reps=1,
    snapshot_calls=5,
    get_tasks_calls=2,
    list_tasks=300,
    publish_count=10,
    watch_tasks=40,
    watch_reps=1,
    long_watch_tasks=30,
    service_count=300,
    service_reps=1,
)


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
