"""Watchers keep going through an ``ogpu devnet`` process restart (same state file and port)."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from web3 import Web3

from ogpu.chain import ChainConfig, ChainId
from ogpu.devnet import Deployment
from ogpu.events import (
    RegisteredEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
    watch_registered,
    watch_task_published,
    watch_task_status_changed,
)
from ogpu.types import TaskStatus

from ..helpers.streams import FAST, expected_events, shared_poller, until
from ..helpers.wait import free_port

pytestmark = pytest.mark.slow

if TYPE_CHECKING:
    from conftest import Driver

STEP_TIMEOUT = 20.0


class DevnetProcess:
    """``python -m ogpu.cli devnet --json`` on a fixed RPC port, stderr to a file."""

    def __init__(self, port: int, state: Path, log: Path) -> None:
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ogpu.cli",
                "devnet",
                "--port",
                str(port),
                "--store-port",
                "0",
                "--state",
                str(state),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._lines.put(raw)
        self._lines.put(b"")

    def ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """The startup JSON line (fails the test if the process dies or stays silent)."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            line = b""
        if not line:
            self.kill()
            raise AssertionError(f"ogpu devnet did not start (rc={self.proc.returncode})")
        info: dict[str, Any] = json.loads(line)
        return info

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._log.close()


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[[int, Path], DevnetProcess]]:
    """Start ``ogpu devnet`` processes; every one is killed at teardown if still running."""
    started: list[DevnetProcess] = []

    def start(port: int, state: Path) -> DevnetProcess:
        process = DevnetProcess(port, state, tmp_path / "devnet.log")
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.kill()


async def _collect(stream: AsyncIterator[Any], into: list[Any]) -> None:
    async for event in stream:
        into.append(event)


def test_watchers_survive_a_devnet_restart_without_loss_or_duplicates(
    launch: Callable[[int, Path], DevnetProcess],
    make_driver: type[Driver],
    fast_backoff: None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="ogpu.events")
    state = tmp_path / "chain.state"
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    first = launch(port, state)
    info = first.ready()
    assert info["loaded_state"] is False and info["rpc_url"] == url
    deployment = Deployment.from_json(json.dumps(info["deployment"]))
    driver = make_driver(Web3(Web3.HTTPProvider(url)), deployment)
    ChainConfig.use_devnet(deployment, rpc=url)
    try:
        p0, p1 = driver.providers[:2]
        start = driver.head() + 1
        source, _ = driver.new_source()
        other, _ = driver.new_source()
        driver.register(source, p0)
        task, _ = driver.publish_task(source)
        driver.publish_task(other)

        async def main() -> int:
            published: list[TaskPublishedEvent] = []
            registered: list[RegisteredEvent] = []
            statuses: list[TaskStatusChangedEvent] = []
            streams: list[tuple[AsyncIterator[Any], list[Any]]] = [
                (watch_task_published(source, from_block=start, poll_interval=FAST), published),
                (watch_registered(source, from_block=start, poll_interval=FAST), registered),
                (watch_task_status_changed(task, from_block=start, poll_interval=FAST), statuses),
            ]
            consumers = [asyncio.ensure_future(_collect(s, into)) for s, into in streams]
            poller = shared_poller()
            try:
                await asyncio.to_thread(driver.publish_task, source)
                await asyncio.to_thread(driver.attempt, task, p0)
                await asyncio.to_thread(driver.publish_task, other)
                await until(lambda: len(published) == 2 and len(statuses) == 1, STEP_TIMEOUT)
                assert len(registered) == 1

                # Blocking calls: the poller (on this loop) cannot fetch these blocks before
                # the node goes down, so they can only be delivered after the restart.
                warnings = len(caplog.records)
                driver.publish_task(source)
                driver.register(source, p1)
                head_at_stop = driver.head()
                assert first.terminate() == 0
                assert (len(published), len(registered)) == (2, 1)
                await until(
                    lambda: len(caplog.records) >= warnings + 2 or any(c.done() for c in consumers),
                    STEP_TIMEOUT,
                )
                assert not any(c.done() for c in consumers), "a watcher ended during the outage"
                assert all("failed" in r.getMessage() for r in caplog.records[warnings:])

                second = launch(port, state)
                info2 = await asyncio.to_thread(second.ready)
                assert info2["loaded_state"] is True
                assert info2["block_number"] == head_at_stop

                response, _ = await asyncio.to_thread(driver.submit, task, p0, "https://o.invalid")
                await asyncio.to_thread(driver.publish_task, source)
                await asyncio.to_thread(driver.confirm, response)
                await asyncio.to_thread(driver.publish_task, other)
                await asyncio.to_thread(driver.register, other, p1)
                last = driver.head()
                assert last > head_at_stop

                await until(
                    lambda: poller.cursor is not None and poller.cursor > last, STEP_TIMEOUT
                )
                await asyncio.sleep(5 * FAST)  # lets the consumers drain what is queued
                assert not any(c.done() for c in consumers)
            finally:
                for consumer in consumers:
                    consumer.cancel()
                await asyncio.gather(*consumers, return_exceptions=True)
                for stream, _ in streams:
                    await stream.aclose()  # type: ignore[attr-defined]
            assert poller.subscriber_count == 0

            def expect(name: str, **where: str) -> list[Any]:
                logs = getattr(driver.nexus.events, name)().get_logs(
                    from_block=start, to_block=last
                )
                return expected_events(logs, name, **where)

            expected_published = expect("TaskPublished", source=source)
            expected_registered = expect("Registered", source=source)
            expected_statuses = expect("TaskStatusChanged", task=task)
            assert len(expected_published) == 4
            assert [e.provider for e in expected_registered] == [p0, p1]
            assert [e.status for e in expected_statuses] == [
                TaskStatus.ATTEMPTED,
                TaskStatus.RESPONDED,
                TaskStatus.FINALIZED,
            ]
            for expected in (expected_published, expected_statuses):
                blocks = [e.block_number for e in expected]
                assert min(blocks) <= head_at_stop < max(blocks), "events on both sides"

            assert published == expected_published
            assert registered == expected_registered
            assert statuses == expected_statuses
            assert await asyncio.to_thread(second.terminate) == 0
            return len(published) + len(registered) + len(statuses)

        started = time.monotonic()
        total = asyncio.run(main())
        print(f"restart test: {total} events in {time.monotonic() - started:.1f}s")
    finally:
        ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)
