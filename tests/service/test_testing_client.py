"""ServiceTestClient / call_handler: handlers in process, no docker, no port."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import ogpu.service
from ogpu.service import Service, TaskFailure, UnknownHandlerError
from ogpu.service.testing import ServiceTestClient, call_handler


class In(BaseModel):
    text: str


class Out(BaseModel):
    result: str
    length: int


class Other(BaseModel):
    result: str


@pytest.fixture
def svc() -> Service:
    svc = Service()
    loaded: list[str] = []

    @svc.init()
    def setup() -> None:
        loaded.append("model")

    @svc.expose()
    def upper(data: In) -> Out:
        assert loaded == ["model"], "init must run before handlers"
        return Out(result=data.text.upper(), length=len(data.text))

    @svc.expose()
    async def aupper(data: In) -> Out:
        await asyncio.sleep(0)
        return Out(result=data.text.upper(), length=len(data.text))

    @svc.expose()
    def boom(data: In) -> Out:
        raise ValueError(f"cannot handle {data.text!r}")

    @svc.expose()
    def wrong(data: In) -> Out:
        return Other(result="x")  # type: ignore[return-value]

    @svc.expose()
    def as_dict(data: In) -> Out:
        return {"result": data.text, "length": 1}  # type: ignore[return-value]

    @svc.expose()
    def nothing(data: In) -> Out:
        return None  # type: ignore[return-value]

    svc.loaded = loaded  # type: ignore[attr-defined]
    return svc


def test_success_sync_and_async(svc: Service) -> None:
    with ServiceTestClient(svc) as client:
        assert client.call_handler("upper", {"text": "abc"}) == Out(result="ABC", length=3)
        assert client.call_handler("aupper", In(text="xy")) == Out(result="XY", length=2)
        assert client.call_handler("upper", '{"text": "j"}') == Out(result="J", length=1)
        outcome = client.run("upper", {"text": "abc"})
    assert outcome.status == "success"
    assert outcome.callback_body("0x1") == {"result": "ABC", "length": 3}
    assert svc.loaded == ["model"]  # type: ignore[attr-defined]


def test_handler_exception_is_returned_as_failure(svc: Service) -> None:
    with ServiceTestClient(svc) as client:
        failure = client.call_handler("boom", {"text": "q"})
        outcome = client.run("boom", {"text": "q"})
    assert isinstance(failure, TaskFailure)
    assert (failure.status, failure.error_type) == ("failed", "ValueError")
    assert failure.error == "ValueError: cannot handle 'q'"
    assert isinstance(failure.exception, ValueError)
    assert outcome.callback_body("0xabc") == {
        "task_address": "0xabc",
        "function": "boom",
        "status": "failed",
        "error": "ValueError: cannot handle 'q'",
        "error_type": "ValueError",
    }


def test_output_is_checked_against_the_return_model(svc: Service) -> None:
    with ServiceTestClient(svc) as client:
        wrong = client.call_handler("wrong", {"text": "q"})
        none = client.call_handler("nothing", {"text": "q"})
        coerced = client.call_handler("as_dict", {"text": "q"})
    assert isinstance(wrong, TaskFailure) and wrong.error_type == "InvalidOutputError"
    assert "not a valid Out" in wrong.error
    assert isinstance(none, TaskFailure) and "returned None" in none.error
    assert coerced == Out(result="q", length=1)


def test_bad_input_and_unknown_function_raise(svc: Service) -> None:
    with ServiceTestClient(svc) as client:
        with pytest.raises(ValidationError):
            client.call_handler("upper", {"txt": "abc"})
        with pytest.raises(UnknownHandlerError, match="available: as_dict, aupper, boom"):
            client.call_handler("predict", {"text": "abc"})


def test_timeouts_sync_and_async() -> None:
    svc = Service()
    release = threading.Event()

    @svc.expose(timeout=0.05)
    def stuck(data: In) -> Out:
        release.wait(30)
        return Out(result="late", length=0)

    @svc.expose(timeout=0.05)
    async def astuck(data: In) -> Out:
        await asyncio.sleep(30)
        return Out(result="late", length=0)

    try:
        with ServiceTestClient(svc) as client:
            sync = client.call_handler("stuck", {"text": "a"})
            asy = client.run("astuck", {"text": "a"})
    finally:
        release.set()
    assert isinstance(sync, TaskFailure) and sync.status == "timeout" and sync.timeout == 0.05
    assert asy.status == "timeout"
    assert asy.callback_body("0x9")["status"] == "timeout"
    assert asy.callback_body("0x9")["timeout"] == 0.05


def test_handler_raising_its_own_timeout_error_is_a_failure() -> None:
    svc = Service()

    @svc.expose(timeout=30)
    async def inner_timeout(data: In) -> Out:
        await asyncio.wait_for(asyncio.sleep(10), 0.001)
        return Out(result="", length=0)

    with ServiceTestClient(svc) as client:
        result = client.call_handler("inner_timeout", {"text": "a"})
    assert isinstance(result, TaskFailure) and result.status == "failed"


def test_init_runs_once_per_client_and_can_be_skipped() -> None:
    svc = Service()
    calls: list[int] = []

    @svc.init()
    async def setup() -> None:
        calls.append(1)

    @svc.expose()
    def echo(data: In) -> Out:
        return Out(result=data.text, length=len(calls))

    with ServiceTestClient(svc) as client:
        client.call_handler("echo", {"text": "a"})
        assert client.call_handler("echo", {"text": "b"}) == Out(result="b", length=1)
    with ServiceTestClient(svc, run_init=False) as client:
        client.call_handler("echo", {"text": "c"})
    assert calls == [1]


def test_module_level_call_handler_uses_default_service() -> None:
    @ogpu.service.expose()
    def double(data: In) -> Out:
        return Out(result=data.text * 2, length=2 * len(data.text))

    assert call_handler("double", {"text": "ab"}) == Out(result="abab", length=4)


def test_run_inside_an_event_loop_points_to_arun(svc: Service) -> None:
    async def main() -> Any:
        with ServiceTestClient(svc) as client:
            with pytest.raises(RuntimeError, match="arun"):
                client.run("upper", {"text": "a"})
            return await client.arun("upper", {"text": "a"})

    assert asyncio.run(main()).output == Out(result="A", length=1)


def test_system_exit_in_handler_is_a_failure_not_a_crash() -> None:
    svc = Service()

    @svc.expose()
    def quits(data: In) -> Out:
        raise SystemExit(2)

    with ServiceTestClient(svc) as client:
        result = client.call_handler("quits", {"text": "a"})
    assert isinstance(result, TaskFailure) and "SystemExit" in result.error
