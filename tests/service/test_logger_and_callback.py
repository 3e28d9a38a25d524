"""The logger's task levels and the callback client on its own."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import ogpu.service
from ogpu.service.callback import CallbackClient, RetryPolicy
from ogpu.service.logger import FAIL_LEVEL, SUCCESS_LEVEL, TIMEOUT_LEVEL
from ogpu.service.pool import DaemonThreadPool, PoolClosedError
from ogpu.service.testing import CallbackRecorder


def test_task_levels(service_logs: list[logging.LogRecord]) -> None:
    log = ogpu.service.logger
    log.task_success("ok %s", 1)
    log.task_timeout("slow %s", 2)
    log.task_fail("bad %s", 3)
    log.info("plain", extra={"task": "0x1"})
    got = [(r.levelno, r.levelname, r.getMessage()) for r in service_logs]
    assert got == [
        (SUCCESS_LEVEL, "SUCCESS", "ok 1"),
        (TIMEOUT_LEVEL, "TIMEOUT", "slow 2"),
        (FAIL_LEVEL, "FAIL", "bad 3"),
        (logging.INFO, "INFO", "plain"),
    ]
    assert service_logs[-1].task == "0x1"  # type: ignore[attr-defined]
    assert SUCCESS_LEVEL < logging.WARNING < TIMEOUT_LEVEL < logging.ERROR < FAIL_LEVEL


def test_logger_is_the_named_stdlib_logger() -> None:
    assert ogpu.service.logger.logger is logging.getLogger("ogpu.service")
    assert ogpu.service.logger.handlers


def test_retry_delays_double_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_initial=0.5, backoff_max=3.0)
    full = [policy.delay(n, jitter=lambda: 1.0) for n in range(5)]
    assert full == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [policy.delay(n, jitter=lambda: 0.0) for n in range(5)] == [d / 2 for d in full]


def _deliver(client: CallbackClient, task: str, body: dict[str, Any]) -> Any:
    return asyncio.run(client.deliver(task, body, "success"))


def test_client_reports_attempts_and_encodes_the_task(
    service_logs: list[logging.LogRecord],
) -> None:
    pool = DaemonThreadPool(2, "test-callback")
    attempts: list[tuple[int, str | None]] = []
    try:
        with CallbackRecorder(fail_first=1) as rec:
            client = CallbackClient(
                rec.url + "/",
                RetryPolicy(max_attempts=3, backoff_initial=0.01),
                pool,
                on_attempt=lambda n, err: attempts.append((n, err)),
            )
            assert client.url_for("task:1") == rec.url + "/task%3A1"
            result = _deliver(client, "task:1", {"x": 1})
            [record] = rec.delivered()
    finally:
        pool.shutdown()
    assert (result.delivered, result.attempts, result.status_code) == (True, 2, 200)
    assert attempts == [(1, "HTTP 503"), (2, None)]
    assert record.task_address == "task:1" and record.body == {"x": 1}
    assert any("retrying" in r.getMessage() for r in service_logs)


def test_connection_errors_keep_secrets_out_of_logs(
    free_port: Any, service_logs: list[logging.LogRecord]
) -> None:
    pool = DaemonThreadPool(1, "test-callback")
    url = f"http://user:s3cret@127.0.0.1:{free_port()}/cb?token=t0ken"
    try:
        client = CallbackClient(url, RetryPolicy(max_attempts=2, backoff_initial=0.01), pool)
        result = _deliver(client, "0x1", {})
    finally:
        pool.shutdown()
    assert not result.delivered and result.attempts == 2
    assert result.error is not None and result.error.startswith("ConnectFailed")
    text = " ".join(r.getMessage() for r in service_logs) + result.error
    assert "s3cret" not in text and "t0ken" not in text


def test_pool_refuses_work_after_shutdown() -> None:
    pool = DaemonThreadPool(1, "p")
    assert pool.submit(lambda: 41 + 1).result(10) == 42
    pool.shutdown()
    with pytest.raises(PoolClosedError):
        pool.submit(lambda: 1)
    with pytest.raises(ValueError):
        DaemonThreadPool(0, "p")
