"""Acceptance tests: a real uvicorn server on a loopback port, a real callback server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from pydantic import BaseModel, Field

from ogpu.service import Service
from ogpu.service.testing import CallbackRecorder

from .conftest import Start, WaitUntil


class In(BaseModel):
    text: str = Field(min_length=1)
    repeat: int = 1


class Out(BaseModel):
    result: str


@pytest.fixture
def svc(gate: threading.Event) -> Service:
    svc = Service()

    @svc.expose()
    def upper(data: In) -> Out:
        """Upper-case the text."""
        return Out(result=data.text.upper() * data.repeat)

    @svc.expose()
    async def aupper(data: In) -> Out:
        await asyncio.sleep(0)
        return Out(result=data.text.upper())

    @svc.expose()
    def boom(data: In) -> Out:
        raise RuntimeError("model exploded")

    @svc.expose()
    def blocked(data: In) -> Out:
        gate.wait(30)
        return Out(result=f"released {data.text}")

    @svc.expose(timeout=0.1)
    def slow_sync(data: In) -> Out:
        gate.wait(30)
        return Out(result="late")

    @svc.expose(timeout=0.1)
    async def slow_async(data: In) -> Out:
        await asyncio.sleep(30)
        return Out(result="late")

    return svc


def test_success_posts_handler_output_to_callback(
    running: Start, recorder: CallbackRecorder
) -> None:
    with running() as rs:
        response = rs.post("upper", "0xAbC1", {"text": "hi", "repeat": 2})
        assert response.status_code == 202
        assert response.json() == {"task_address": "0xAbC1", "status": "accepted"}
        response = rs.post("aupper", "0xAbC2", {"text": "yo"})
        assert response.status_code == 202
        [first] = recorder.wait_for("0xAbC1")
        [second] = recorder.wait_for("0xAbC2")
    assert first.body == {"result": "HIHI"}
    assert first.headers["X-OGPU-Task-Status"] == "success"
    assert first.headers["Content-Type"] == "application/json"
    assert second.body == {"result": "YO"}


def test_bad_input_is_422_with_pydantic_errors_and_nothing_runs(
    running: Start, recorder: CallbackRecorder
) -> None:
    with running() as rs:
        missing = rs.post("upper", "0x1", {"txt": "hi"})
        wrong_type = rs.post("upper", "0x1", {"text": "hi", "repeat": "many"})
        too_short = rs.post("upper", "0x1", {"text": ""})
        malformed = requests.post(
            rs.url("/run/upper/0x1"),
            data=b'{"text": ',
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        empty = requests.post(rs.url("/run/upper/0x1"), timeout=10)
        bad_address = rs.post("upper", "0x1%3Fq=1", {"text": "hi"})
        stats = rs.runtime.stats
    for response in (missing, wrong_type, too_short, malformed, empty, bad_address):
        assert response.status_code == 422, response.text
        assert isinstance(response.json()["detail"], list)
    assert missing.json()["detail"][0]["type"] == "missing"
    assert missing.json()["detail"][0]["loc"] == ["body", "text"]
    assert wrong_type.json()["detail"][0]["type"] == "int_parsing"
    assert too_short.json()["detail"][0]["type"] == "string_too_short"
    assert malformed.json()["detail"][0]["type"] == "json_invalid"
    assert bad_address.json()["detail"][0]["loc"] == ["path", "task_address"]
    assert stats.accepted == 0
    assert recorder.requests_seen == 0


def test_unknown_function_is_404_listing_available(svc: Service, serve: Any) -> None:
    with serve(svc) as rs:
        rs.wait_ready()
        response = rs.post("predict", "0x1", {"text": "hi"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "unknown function 'predict'",
        "available": ["aupper", "blocked", "boom", "slow_async", "slow_sync", "upper"],
    }


def test_handler_exception_reports_failure(
    running: Start, recorder: CallbackRecorder, service_logs: list[Any]
) -> None:
    with running() as rs:
        assert rs.post("boom", "0xdead", {"text": "x"}).status_code == 202
        [record] = recorder.wait_for("0xdead")
    assert record.body == {
        "task_address": "0xdead",
        "function": "boom",
        "status": "failed",
        "error": "RuntimeError: model exploded",
        "error_type": "RuntimeError",
    }
    assert record.headers["X-OGPU-Task-Status"] == "failed"
    fails = [r for r in service_logs if r.levelname == "FAIL"]
    assert fails and fails[0].exc_info is not None


def test_timeouts_report_and_free_slots(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    with running() as rs:
        assert rs.post("slow_sync", "0xs", {"text": "x"}).status_code == 202
        assert rs.post("slow_async", "0xa", {"text": "x"}).status_code == 202
        [sync] = recorder.wait_for("0xs")
        [asy] = recorder.wait_for("0xa")
        # The sync handler's thread cannot be killed: it keeps its slot until it returns.
        wait_until(lambda: rs.runtime.running_tasks == 0, what="tasks done")
        assert rs.runtime.in_flight == 1 and rs.runtime.abandoned == 1
        gate.set()
        wait_until(lambda: rs.runtime.in_flight == 0, what="abandoned thread finished")
        # Its late result is not delivered.
        assert len(recorder.records) == 2
    for record, name in ((sync, "slow_sync"), (asy, "slow_async")):
        assert record.body["status"] == "timeout"
        assert record.body["function"] == name
        assert record.body["timeout"] == 0.1
        assert record.body["error_type"] == "TimeoutError"
        assert record.headers["X-OGPU-Task-Status"] == "timeout"


def test_callback_5xx_is_retried_with_backoff(svc: Service, serve: Any) -> None:
    with (
        CallbackRecorder(fail_first=2) as recorder,
        serve(svc, callback_url=recorder.url, callback_backoff=0.01) as rs,
    ):
        rs.wait_ready()
        assert rs.post("upper", "0x5", {"text": "a"}).status_code == 202
        [record] = recorder.wait_for("0x5")
        stats = rs.runtime.stats
    assert record.body == {"result": "A"}
    assert [r.answered for r in recorder.records] == [503, 503, 200]
    assert (stats.callback_attempts, stats.callback_retries) == (3, 2)
    assert stats.callbacks_delivered == 1


def test_callback_down_then_back(
    svc: Service, serve: Any, free_port: Callable[[], int], wait_until: WaitUntil
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/callback"
    with serve(
        svc,
        callback_url=url,
        callback_backoff=0.02,
        callback_backoff_max=0.05,
        callback_attempts=500,
    ) as rs:
        rs.wait_ready()
        assert rs.post("upper", "0xback", {"text": "late"}).status_code == 202
        wait_until(lambda: rs.runtime.stats.callback_attempts >= 3, what="3 failed attempts")
        with CallbackRecorder(port=port) as recorder:
            [record] = recorder.wait_for("0xback")
            wait_until(lambda: rs.runtime.stats.callbacks_delivered == 1)
        assert rs.runtime.stats.callback_retries >= 3
    assert record.body == {"result": "LATE"}


def test_callback_4xx_is_not_retried(svc: Service, serve: Any, wait_until: WaitUntil) -> None:
    with (
        CallbackRecorder(status=404) as recorder,
        serve(svc, callback_url=recorder.url, callback_backoff=0.01) as rs,
    ):
        rs.wait_ready()
        rs.post("upper", "0x4", {"text": "a"})
        wait_until(lambda: rs.runtime.stats.callbacks_failed == 1)
        assert recorder.requests_seen == 1


@pytest.mark.slow
def test_callback_retries_are_bounded_by_attempts_and_time(
    svc: Service, serve: Any, wait_until: WaitUntil
) -> None:
    with (
        CallbackRecorder(fail_first=10**6) as recorder,
        serve(svc, callback_url=recorder.url, callback_backoff=0.01, callback_attempts=3) as rs,
    ):
        rs.wait_ready()
        rs.post("upper", "0xa", {"text": "a"})
        wait_until(lambda: rs.runtime.stats.callbacks_failed == 1)
        assert recorder.requests_seen == 3
    with (
        CallbackRecorder(fail_first=10**6) as recorder,
        serve(
            svc,
            callback_url=recorder.url,
            callback_backoff=0.05,
            callback_backoff_max=0.05,
            callback_attempts=10**6,
            callback_max_seconds=0.3,
        ) as rs,
    ):
        rs.wait_ready()
        rs.post("upper", "0xt", {"text": "a"})
        wait_until(lambda: rs.runtime.stats.callbacks_failed == 1)
        # Waits are 0.025-0.05 s (half to all of the 0.05 s backoff): a 0.3 s budget
        # allows at most 1 + 0.3 / 0.025 = 13 attempts, far below the cap.
        assert 1 <= recorder.requests_seen <= 13


def test_sync_handlers_share_a_bounded_thread_pool(
    serve: Any, recorder: CallbackRecorder, wait_until: WaitUntil
) -> None:
    svc = Service()
    release = threading.Event()
    names: set[str] = set()
    lock = threading.Lock()
    running = 0
    peak = 0

    @svc.expose()
    def work(data: In) -> Out:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            names.add(threading.current_thread().name)
        release.wait(30)
        with lock:
            running -= 1
        return Out(result=data.text)

    try:
        with serve(svc, callback_url=recorder.url, worker_threads=2, max_in_flight=10) as rs:
            rs.wait_ready()
            for i in range(5):
                assert rs.post("work", f"0x{i}", {"text": str(i)}).status_code == 202
            wait_until(lambda: running == 2, what="two workers busy")
            release.set()
            recorder.wait_for(count=5)
    finally:
        release.set()
    assert peak == 2
    assert len(names) == 2 and all(n.startswith("ogpu-handler") for n in names)


def test_slow_init_health_not_ready_until_done(
    serve: Any, recorder: CallbackRecorder, wait_until: WaitUntil
) -> None:
    svc = Service()
    release = threading.Event()
    started = threading.Event()

    @svc.init()
    def setup() -> None:
        started.set()
        release.wait(30)

    @svc.expose()
    def echo(data: In) -> Out:
        return Out(result=data.text)

    try:
        with serve(svc, callback_url=recorder.url) as rs:
            assert started.wait(10)
            health = requests.get(rs.url("/health"), timeout=10)
            assert health.status_code == 503
            assert health.json()["status"] == "initializing"
            early = rs.post("echo", "0x1", {"text": "a"})
            assert early.status_code == 503 and early.headers["Retry-After"] == "1"
            release.set()
            rs.wait_ready()
            health = requests.get(rs.url("/health"), timeout=10)
            assert health.status_code == 200
            body = health.json()
            assert body["status"] == "ready" and body["handlers"] == ["echo"]
            assert body["stats"]["rejected_not_ready"] == 1
            assert rs.post("echo", "0x1", {"text": "a"}).status_code == 202
            recorder.wait_for("0x1")
    finally:
        release.set()


def test_failed_init_is_reported(serve: Any, wait_until: WaitUntil) -> None:
    svc = Service()

    @svc.init()
    async def setup() -> None:
        raise OSError("weights not found")

    @svc.expose()
    def echo(data: In) -> Out:
        return Out(result=data.text)

    with serve(svc) as rs:
        wait_until(lambda: rs.runtime.state == "init_failed")
        health = requests.get(rs.url("/health"), timeout=10)
        run = rs.post("echo", "0x1", {"text": "a"})
    assert health.status_code == 503
    assert health.json()["status"] == "init_failed"
    assert health.json()["error"] == "OSError: weights not found"
    assert run.status_code == 503 and run.json()["detail"] == "init function failed"


def test_body_size_cap_413(svc: Service, serve: Any) -> None:
    with serve(svc, max_body_bytes=1024) as rs:
        rs.wait_ready()
        ok = rs.post("upper", "0x1", {"text": "a" * 900})
        big = rs.post("upper", "0x1", {"text": "a" * 5000})

        def chunks() -> Iterator[bytes]:
            yield b'{"text": "'
            for _ in range(20):
                yield b"a" * 200
            yield b'"}'

        chunked = requests.post(
            rs.url("/run/upper/0x1"),
            data=chunks(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        small_chunked = requests.post(
            rs.url("/run/upper/0x2"),
            data=iter([b'{"text": ', b'"abc"}']),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
    assert ok.status_code == 202
    assert big.status_code == 413 and "1024-byte limit" in big.json()["detail"]
    assert chunked.status_code == 413
    assert small_chunked.status_code == 202


def test_openapi_has_per_handler_request_schemas(svc: Service, serve: Any) -> None:
    with serve(svc) as rs:
        spec = requests.get(rs.url("/openapi.json"), timeout=10).json()
        docs = requests.get(rs.url("/docs"), timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    op = spec["paths"]["/run/upper/{task_address}"]["post"]
    assert op["summary"] == "Upper-case the text."
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["required"] == ["text"]
    assert set(schema["properties"]) == {"text", "repeat"}
    assert {"202", "404", "413", "422", "429", "503"} <= set(op["responses"])
    callback = op["callbacks"]["upper_result"]["{$CALLBACK_URL}/{$request.path.task_address}"]
    out_ref = callback["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert spec["components"]["schemas"][out_ref.rsplit("/", 1)[-1]]["required"] == ["result"]
    assert "/health" in spec["paths"]
    assert not any("{function}" in path for path in spec["paths"])


def test_graceful_shutdown_finishes_running_task_and_callback(
    running: Start, recorder: CallbackRecorder, gate: threading.Event, wait_until: WaitUntil
) -> None:
    with running(shutdown_grace=30) as rs:
        assert rs.post("blocked", "0xgrace", {"text": "a"}).status_code == 202
        wait_until(lambda: rs.runtime.running_tasks == 1)
        stopper = threading.Thread(target=rs.stop)
        stopper.start()
        wait_until(lambda: rs.runtime.state == "shutting_down", what="shutdown started")
        assert recorder.records == []
        gate.set()
        stopper.join(30)
        assert not rs.thread.is_alive()
        assert rs.runtime.state == "stopped"
    [record] = recorder.delivered("0xgrace")
    assert record.body == {"result": "released a"}


def test_shutdown_grace_is_bounded(
    running: Start, recorder: CallbackRecorder, wait_until: WaitUntil
) -> None:
    with running(shutdown_grace=0.2) as rs:
        rs.post("blocked", "0xstuck", {"text": "a"})
        wait_until(lambda: rs.runtime.running_tasks == 1)
        rs.stop(30)
        assert not rs.thread.is_alive()
        assert rs.runtime.state == "stopped"
    assert recorder.records == []


def test_without_callback_url_results_are_only_logged(
    svc: Service, serve: Any, wait_until: WaitUntil, service_logs: list[Any]
) -> None:
    with serve(svc) as rs:
        rs.wait_ready()
        assert rs.post("upper", "0xnone", {"text": "a"}).status_code == 202
        wait_until(lambda: rs.runtime.stats.callbacks_skipped == 1)
    assert any(r.levelname == "SUCCESS" and "0xnone" in r.getMessage() for r in service_logs)
    messages = [r.getMessage() for r in service_logs]
    assert '[0xnone] no CALLBACK_URL; result not delivered: {"result": "A"}' in messages


def test_task_address_is_percent_encoded_in_callback_url(
    running: Start, recorder: CallbackRecorder
) -> None:
    with running() as rs:
        rs.post("upper", "task:1", {"text": "a"})
        [record] = recorder.wait_for("task:1")
    assert json.dumps(record.body) == '{"result": "A"}'
