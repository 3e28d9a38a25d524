"""Load benchmark of ogpu.service: N concurrent requests to a trivial handler.

Serves a one-handler service with uvicorn on 127.0.0.1 (in a thread of this
process), fires ``--count`` requests from ``--concurrency`` client threads,
records every callback with a stdlib HTTP server, and checks that each task's
callback arrived exactly once. Prints throughput and latency percentiles.

    python bench/service_load.py --count 1000 --concurrency 32 [--async-handler] [--json]

By default client, server and callback receiver share this process and its
GIL; ``--subprocess`` runs the service as its own process (``python -c`` on a
generated source, configured through PORT/CALLBACK_URL like a container).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import requests
from pydantic import BaseModel

from ogpu.service import Service, ServiceConfig, logger
from ogpu.service.testing import CallbackRecorder, serve_in_thread

_CHILD_SOURCE = """
import ogpu.service
from pydantic import BaseModel

class Job(BaseModel):
    n: int

class Result(BaseModel):
    n: int
    square: int

@ogpu.service.expose()
{prefix}def square(data: Job) -> Result:
    return Result(n=data.n, square=data.n * data.n)

ogpu.service.start()
"""


class Job(BaseModel):
    n: int


class Result(BaseModel):
    n: int
    square: int


@dataclass(frozen=True)
class LoadReport:
    count: int
    concurrency: int
    handler: str
    server: str
    delivered: int
    duplicates: int
    missing: int
    unexpected: int
    retried_429: int
    callback_retries: int
    seconds: float
    requests_per_s: float
    tasks_per_s: float
    accept_p50_ms: float
    accept_p99_ms: float
    callback_p50_ms: float
    callback_p99_ms: float

    @property
    def ok(self) -> bool:
        return self.delivered == self.count and self.duplicates == 0 and self.missing == 0


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def _sync_service() -> Service:
    svc = Service()

    @svc.expose()
    def square(data: Job) -> Result:
        return Result(n=data.n, square=data.n * data.n)

    return svc


def _async_service() -> Service:
    svc = Service()

    @svc.expose()
    async def square(data: Job) -> Result:
        return Result(n=data.n, square=data.n * data.n)

    return svc


Stats = Callable[[], dict[str, int]]


@contextmanager
def _in_thread(
    callback_url: str, async_handler: bool, max_in_flight: int
) -> Iterator[tuple[str, Stats]]:
    config = ServiceConfig(
        host="127.0.0.1", port=0, callback_url=callback_url, max_in_flight=max_in_flight
    )
    with serve_in_thread(_async_service() if async_handler else _sync_service(), config) as running:
        running.wait_ready()
        yield running.base_url, running.runtime.stats.as_dict


@contextmanager
def _in_subprocess(
    callback_url: str, async_handler: bool, max_in_flight: int
) -> Iterator[tuple[str, Stats]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "OGPU_SERVICE_HOST": "127.0.0.1",
        "OGPU_SERVICE_PORT": str(port),
        "CALLBACK_URL": callback_url,
        "OGPU_SERVICE_MAX_IN_FLIGHT": str(max_in_flight),
        "OGPU_SERVICE_LOG_LEVEL": "WARNING",
    }
    source = _CHILD_SOURCE.format(prefix="async " if async_handler else "")
    child = subprocess.Popen([sys.executable, "-c", source], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the service process did not become healthy")
            time.sleep(0.05)

        def stats() -> dict[str, int]:
            body = requests.get(f"{base}/health", timeout=10).json()
            return dict(body["stats"])

        yield base, stats
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(60)


def run_load(
    count: int = 1000,
    concurrency: int = 32,
    *,
    async_handler: bool = False,
    max_in_flight: int = 256,
    subprocess_server: bool = False,
    settle_seconds: float = 0.3,
    timeout: float = 120.0,
) -> LoadReport:
    """Run the benchmark and return its report (raises ``TimeoutError`` if callbacks stall)."""
    tasks = [f"0x{i:040x}" for i in range(count)]
    sent: dict[str, float] = {}
    accepted: dict[str, float] = {}
    retried = 0
    lock = threading.Lock()
    local = threading.local()
    previous_level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with CallbackRecorder() as recorder:
            serving = _in_subprocess if subprocess_server else _in_thread
            with serving(recorder.url, async_handler, max_in_flight) as (base, stats):
                url = f"{base}/run/square/"

                def fire(index: int) -> None:
                    nonlocal retried
                    session: requests.Session | None = getattr(local, "session", None)
                    if session is None:
                        session = local.session = requests.Session()
                    task = tasks[index]
                    start = time.monotonic()
                    while True:
                        response = session.post(url + task, json={"n": index}, timeout=30)
                        if response.status_code != 429:
                            break
                        with lock:
                            retried += 1
                        time.sleep(0.01)
                    if response.status_code != 202:
                        raise RuntimeError(f"{task}: HTTP {response.status_code} {response.text}")
                    done = time.monotonic()
                    with lock:
                        sent[task] = start
                        accepted[task] = done

                began = time.monotonic()
                with ThreadPoolExecutor(concurrency) as pool:
                    list(pool.map(fire, range(count)))
                recorder.wait_for(count=count, timeout=timeout)
                time.sleep(settle_seconds)  # let any duplicate arrive before counting
                callback_retries = stats()["callback_retries"]
            records = recorder.delivered()
    finally:
        logger.setLevel(previous_level)

    per_task = Counter(r.task_address for r in records)
    first_seen: dict[str, float] = {}
    unexpected = 0
    for record in records:
        if record.task_address not in sent:
            unexpected += 1
            continue
        first_seen.setdefault(record.task_address, record.received_at)
        expected = {"n": int(record.task_address, 16)}
        expected["square"] = expected["n"] ** 2
        if record.body != expected:
            unexpected += 1
    last_accept = max(accepted.values())
    last_callback = max(first_seen.values()) if first_seen else math.nan
    accept_ms = [(accepted[t] - sent[t]) * 1000 for t in tasks]
    callback_ms = [(first_seen[t] - sent[t]) * 1000 for t in tasks if t in first_seen]
    return LoadReport(
        count=count,
        concurrency=concurrency,
        handler="async" if async_handler else "sync",
        server="subprocess" if subprocess_server else "thread",
        delivered=len(first_seen),
        duplicates=sum(n - 1 for n in per_task.values() if n > 1),
        missing=sum(1 for t in tasks if t not in first_seen),
        unexpected=unexpected,
        retried_429=retried,
        callback_retries=callback_retries,
        seconds=round(last_callback - began, 3),
        requests_per_s=round(count / (last_accept - began), 1),
        tasks_per_s=round(count / (last_callback - began), 1),
        accept_p50_ms=round(_percentile(accept_ms, 50), 2),
        accept_p99_ms=round(_percentile(accept_ms, 99), 2),
        callback_p50_ms=round(_percentile(callback_ms, 50), 2),
        callback_p99_ms=round(_percentile(callback_ms, 99), 2),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--async-handler", action="store_true")
    parser.add_argument("--subprocess", action="store_true", help="serve from a child process")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = run_load(
        args.count,
        args.concurrency,
        async_handler=args.async_handler,
        subprocess_server=args.subprocess,
    )
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print(
            f"{report.count} requests, {report.concurrency} client threads, "
            f"{report.handler} handler, server in a {report.server}\n"
            f"  delivered {report.delivered}, duplicates {report.duplicates}, "
            f"missing {report.missing}, 429 retries {report.retried_429}\n"
            f"  requests: {report.requests_per_s} req/s, accept p50 {report.accept_p50_ms} ms, "
            f"p99 {report.accept_p99_ms} ms\n"
            f"  end to end: {report.tasks_per_s} tasks/s, callback p50 "
            f"{report.callback_p50_ms} ms, p99 {report.callback_p99_ms} ms"
        )
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
