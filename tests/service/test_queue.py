"""Accepted work queues behind the in-flight limit: a real server, a real callback server."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from pydantic import BaseModel

from ogpu.service import Service
from ogpu.service.testing import CallbackRecorder

from .conftest import Start, WaitUntil


class In(BaseModel):
    text: str
    pause: float = 0.0


class Out(BaseModel):
    result: str


@pytest.fixture
def stuck() -> Iterator[threading.Event]:
    event = threading.Event()  # set only at teardown
    yield event
    event.set()


@pytest.fixture
def ran() -> list[str]:
    return []


@pytest.fixture
def svc(gate: threading.Event, stuck: threading.Event, ran: list[str]) -> Service:
    svc = Service()

    @svc.expose()
    def blocked(data: In) -> Out:
        gate.wait(30)
        return Out(result=f"released {data.text}")

    @svc.expose()
    def upper(data: In) -> Out:
        ran.append(data.text)
        return Out(result=data.text.upper())

    @svc.expose(timeout=1.0)
    def timed(data: In) -> Out:
        time.sleep(data.pause)
        return Out(result=f"slept {data.pause}")

    @svc.expose(timeout=1.0)
    async def atimed(data: In) -> Out:
        await asyncio.sleep(data.pause)
        return Out(result=f"slept {data.pause}")

    @svc.expose(timeout=0.3)
    def overrun(data: In) -> Out:
        stuck.wait(30)
        return Out(result="late")

    return svc


def test_tasks_past_the_in_flight_limit_queue_then_429(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    with running(max_in_flight=2, queue_size=2) as rs:
        for task in ("0x1", "0x2"):
            assert rs.post("blocked", task, {"text": task}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 2, what="two running")
        for task in ("0x3", "0x4"):
            queued = rs.post("upper", task, {"text": task})
            assert queued.status_code == 202
            assert queued.json() == {"task_address": task, "status": "accepted"}
        health = requests.get(rs.url("/health"), timeout=10).json()
        assert (health["in_flight"], health["queued"], health["queue_size"]) == (2, 2, 2)
        full = rs.post("upper", "0x5", {"text": "0x5"})
        assert full.status_code == 429
        assert 1 <= int(full.headers["Retry-After"]) <= 60
        assert full.json()["max_in_flight"] == 2 and full.json()["queue_size"] == 2
        assert "queue is full" in full.json()["detail"]
        assert recorder.delivered("0x3") == []  # queued, not started
        gate.set()
        recorder.wait_for(count=4)
        wait_until(lambda: rs.runtime.in_flight == 0 and rs.runtime.queued == 0)
        stats = rs.runtime.stats
        time.sleep(0.2)  # a duplicate would arrive now
    assert sorted(r.task_address for r in recorder.delivered()) == ["0x1", "0x2", "0x3", "0x4"]
    assert recorder.delivered("0x3")[0].body == {"result": "0X3"}
    assert (stats.accepted, stats.queued, stats.rejected_busy) == (4, 2, 1)


def test_queued_tasks_start_in_arrival_order(
    running: Start,
    recorder: CallbackRecorder,
    gate: threading.Event,
    ran: list[str],
    wait_until: WaitUntil,
) -> None:
    with running(max_in_flight=1, worker_threads=4) as rs:
        assert rs.post("blocked", "0xhead", {"text": "head"}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 1)
        order = [f"t{i}" for i in range(12)]
        for name in order:
            assert rs.post("upper", f"0x{name}", {"text": name}).status_code == 202
        assert rs.runtime.queued == 12 and ran == []
        gate.set()
        recorder.wait_for(count=13)
    assert ran == order


def test_queue_size_zero_answers_429_at_the_in_flight_limit(
    running: Start, recorder: CallbackRecorder, gate: threading.Event
) -> None:
    with running(max_in_flight=1, queue_size=0) as rs:
        assert rs.post("blocked", "0x1", {"text": "a"}).status_code == 202
        busy = rs.post("upper", "0x2", {"text": "b"})
        gate.set()
        recorder.wait_for("0x1")
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"


def test_queue_byte_budget_bounds_waiting_bodies(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    config = {"max_in_flight": 1, "queue_size": 100, "queue_max_bytes": 300}
    with running(**config) as rs:
        assert rs.post("blocked", "0x1", {"text": "a"}).status_code == 202
        big = rs.post("upper", "0xbig", {"text": "x" * 500})  # any size fits an empty queue
        small = rs.post("upper", "0xsmall", {"text": "y"})
        assert (big.status_code, small.status_code) == (202, 429)
        gate.set()
        recorder.wait_for("0xbig")
        wait_until(lambda: rs.runtime.queued == 0)
        again = [rs.post("upper", f"0xs{i}", {"text": "z" * 50}) for i in range(3)]
        recorder.wait_for(count=5)
    assert [r.status_code for r in again] == [202, 202, 202]
    assert recorder.delivered("0xsmall") == []


@pytest.mark.slow
def test_timeout_counts_from_when_the_handler_starts(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    # 1.5 s in the queue, then 0.2 s of work: within a 1 s timeout only if the
    # clock starts with the handler
    with running(max_in_flight=1) as rs:
        assert rs.post("blocked", "0xhold", {"text": "a"}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 1)
        for name in ("timed", "atimed"):
            assert rs.post(name, f"0x{name}", {"text": "a", "pause": 0.2}).status_code == 202
        assert rs.post("overrun", "0xover", {"text": "b"}).status_code == 202
        threading.Timer(1.5, gate.set).start()
        [timed] = recorder.wait_for("0xtimed", timeout=20)
        [atimed] = recorder.wait_for("0xatimed", timeout=20)
        [over] = recorder.wait_for("0xover", timeout=20)
    assert timed.body == atimed.body == {"result": "slept 0.2"}
    assert over.body["status"] == "timeout" and over.body["timeout"] == 0.3


@pytest.mark.slow
def test_timeout_does_not_count_the_wait_for_a_worker_thread(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    # one worker thread: "timed" waits 1.5 s for it (past its 1 s timeout) before starting
    with running(max_in_flight=4, worker_threads=1) as rs:
        assert rs.post("blocked", "0xhold", {"text": "a"}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 1)
        assert rs.post("timed", "0xtimed", {"text": "a", "pause": 0.2}).status_code == 202
        threading.Timer(1.5, gate.set).start()
        [timed] = recorder.wait_for("0xtimed", timeout=20)
    assert timed.body == {"result": "slept 0.2"}
    assert timed.headers["X-OGPU-Task-Status"] == "success"


@pytest.mark.slow
def test_abandoned_thread_holds_its_slot_then_the_queue_moves(
    running: Start, recorder: CallbackRecorder, stuck: threading.Event, wait_until: WaitUntil
) -> None:
    with running(max_in_flight=1, worker_threads=2) as rs:
        assert rs.post("overrun", "0xover", {"text": "a"}).status_code == 202
        recorder.wait_for("0xover")  # timed out; its thread still runs
        wait_until(lambda: rs.runtime.running_tasks == 0 and rs.runtime.abandoned == 1)
        assert rs.post("upper", "0xnext", {"text": "b"}).status_code == 202
        time.sleep(0.3)
        assert rs.runtime.queued == 1 and recorder.delivered("0xnext") == []
        stuck.set()  # the abandoned thread returns: its slot goes to the queued task
        [record] = recorder.wait_for("0xnext")
    assert record.body == {"result": "B"}


def test_shutdown_drains_queued_tasks_within_the_grace(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    with running(max_in_flight=1, shutdown_grace=30) as rs:
        assert rs.post("blocked", "0x1", {"text": "a"}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 1)
        for task in ("0x2", "0x3"):
            assert rs.post("upper", task, {"text": task}).status_code == 202
        stopper = threading.Thread(target=rs.stop)
        stopper.start()
        wait_until(lambda: rs.runtime.state == "shutting_down", what="shutdown started")
        gate.set()
        stopper.join(30)
        assert rs.runtime.state == "stopped"
        assert rs.runtime.stats.dropped_at_shutdown == 0
    assert sorted(r.task_address for r in recorder.delivered()) == ["0x1", "0x2", "0x3"]


@pytest.mark.slow
def test_shutdown_reports_queued_tasks_that_never_started(
    running: Start,
    recorder: CallbackRecorder,
    wait_until: WaitUntil,
    service_logs: list[logging.LogRecord],
) -> None:
    with running(max_in_flight=1, shutdown_grace=0.3) as rs:
        assert rs.post("blocked", "0xstuck", {"text": "a"}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 1)
        for task in ("0xq1", "0xq2", "0xq3"):
            assert rs.post("upper", task, {"text": task}).status_code == 202
        rs.stop(30)
        assert rs.runtime.state == "stopped"
        assert rs.runtime.stats.dropped_at_shutdown == 3
    [report] = [r for r in service_logs if "never started" in r.getMessage()]
    assert report.levelno == logging.ERROR
    assert "3 queued task(s)" in report.getMessage()
    assert all(task in report.getMessage() for task in ("0xq1", "0xq2", "0xq3"))
    assert recorder.records == []
