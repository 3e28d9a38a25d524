"""A run's shared state (``Context``) and the persistent worker each side keeps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.devnet import BenchChain, DevnetProcess, Seed
from bench.plan import Plan
from bench.proxy import LatencyProxy, ProxyStats
from bench.sides import SideError, WorkerProcess

CLIENT_LABELS = {"ours": "CLIENT[0]", "official": "CLIENT[1]", "web3": "CLIENT[2]"}


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


def latencies(ctx: Context) -> list[tuple[str, float | None]]:
    return [("0", None), (f"{ctx.plan.latency_ms:g}", ctx.plan.latency_ms)]


def cell_error(answer: dict[str, Any]) -> str | None:
    if "unavailable" in answer:
        return f"not available yet: {answer['unavailable']}"
    if "error" in answer:
        return f"error: {answer['error']}"
    return None


# -- persistent workers -----------------------------------------------------------------------


def worker_for(
    ctx: Context, side: str, workload: str, delay_ms: float | None
) -> WorkerProcess | None:
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
        problem = cell_error(answer)
        if problem:
            ctx.mark(side, "*", problem)
            return None
        ctx.configured[side] = key
    return worker


def one_shot(
    ctx: Context, side: str, commands: list[dict[str, Any]], timeout: float
) -> dict[str, Any]:
    """A fresh worker process of ``side`` runs ``commands`` and exits: its first answer
    plus ``wall`` (seconds from spawning to that answer, closing not counted), or
    ``{"error": ...}`` when it fails to start or answer."""
    started = time.perf_counter()
    try:
        proc = WorkerProcess(side, ctx.python(side), oneshot=commands)
    except SideError as exc:
        return {"error": str(exc)}
    try:
        try:
            answer = proc.next_answer(timeout)
        except SideError as exc:
            answer = {"error": str(exc)}
        answer["wall"] = time.perf_counter() - started
    finally:
        proc.close()
    return answer


def fresh_rounds(
    ctx: Context, cells: dict[str, dict[str, Any]], run: Callable[[str], dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], dict[str, Any], bool]]:
    """``run(side)`` for every side whose cell is still ``ok``, in an untimed first round
    (it warms the disk cache) and then ``import_reps`` timed ones: an answer with a problem
    ends its side's cell, the others are yielded as (cell, answer, timed)."""
    for rep in range(ctx.plan.import_reps + 1):
        for side, cell in cells.items():
            if cell["status"] != "ok":
                continue
            answer = run(side)
            problem = cell_error(answer)
            if problem:
                cell["status"] = problem
                continue
            yield cell, answer, rep > 0


def call(
    ctx: Context, side: str, worker: WorkerProcess, command: dict[str, Any], timeout: float = 900
) -> dict[str, Any]:
    try:
        return worker.call(command, timeout)
    except SideError as exc:
        ctx.workers.pop(side, None)
        worker.close()
        return {"error": str(exc)}
