"""The ``watch`` op: one watcher per source until each saw its events, RSS sampled meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from worker_base import State, emit, need, norm_hash, rss_kib

# -- watchers -------------------------------------------------------------------------------


class _Sampler:
    """Samples this process's RSS every ``interval`` seconds in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - start, rss_kib()))
            self._stop.wait(self._interval)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)


def _watch_floor(
    state: State,
    sources: list[str],
    from_block: int,
    poll_interval: float,
    expected: int,
    timeout: float,
    settle: float,
    record: Callable[[str, str, str], None],
    done: Callable[[], bool],
) -> None:
    """One ``eth_getLogs`` per poll from a block cursor; logs fanned out to every watcher."""
    w3 = state.w3
    nexus = w3.to_checksum_address(state.contracts["nexus"])
    topic = "0x" + norm_hash(w3.keccak(text="TaskPublished(address,address)"))
    wanted = {s.lower() for s in sources}
    seen: set[tuple[int, int]] = set()
    cursor = from_block
    ready_at = time.monotonic() + settle
    announced = False
    deadline = time.monotonic() + timeout + settle
    while time.monotonic() < deadline and not done():
        logs = w3.provider.make_request(
            "eth_getLogs",
            [{"address": nexus, "topics": [topic], "fromBlock": hex(cursor), "toBlock": "latest"}],
        ).get("result", [])
        for log in logs:
            key = (int(log["blockNumber"], 16), int(log["logIndex"], 16))
            if key in seen:
                continue
            seen.add(key)
            cursor = max(cursor, key[0])
            data = log["data"][2:]
            task, source = "0x" + data[24:64], "0x" + data[88:128]
            if source.lower() in wanted:
                record(norm_hash(log["transactionHash"]), source.lower(), task.lower())
        if not announced and time.monotonic() >= ready_at:
            emit({"ready": True})
            announced = True
        time.sleep(poll_interval)


def op_watch(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """Run one watcher per source until each saw ``expected`` events (or ``timeout``)."""
    sources = [s for s in cmd["sources"]]
    from_block = int(cmd["from_block"])
    poll_interval = float(cmd["poll_interval"])
    expected = int(cmd["expected_per_source"])
    timeout = float(cmd["timeout"])
    settle = float(cmd.get("settle", 1.0))
    events: list[tuple[str, str, str, float]] = []
    counts = {s.lower(): 0 for s in sources}
    lock = threading.Lock()

    def record(tx_hash: str, source: str, task: str) -> None:
        with lock:
            events.append((tx_hash, source, task, time.time()))
            counts[source] = counts.get(source, 0) + 1

    def done() -> bool:
        return all(v >= expected for v in counts.values())

    baseline = rss_kib()
    with _Sampler() as sampler:
        if state.side == "web3":
            _watch_floor(
                state, sources, from_block, poll_interval, expected, timeout, settle, record, done
            )
        else:
            events_mod = need("ogpu.events", "watch_task_published")
            import asyncio

            async def follow(source: str) -> None:
                got = 0
                async for event in events_mod.watch_task_published(
                    source, from_block=from_block, poll_interval=poll_interval
                ):
                    record(
                        norm_hash(event.transaction_hash),
                        str(event.source).lower(),
                        str(event.task).lower(),
                    )
                    got += 1
                    if got >= expected:
                        return

            async def main() -> None:
                tasks = [asyncio.ensure_future(follow(s)) for s in sources]
                await asyncio.sleep(settle)
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                emit({"ready": True})
                finished, pending = await asyncio.wait(tasks, timeout=timeout)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                for task in finished:
                    if task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]

            asyncio.run(main())
    return {
        "events": events,
        "counts": counts,
        "rss_baseline_kib": baseline,
        "rss_peak_kib": rss_kib("VmHWM"),
        "rss_samples": sampler.samples,
    }
