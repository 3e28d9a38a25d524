"""ogpu.service names and behaviours of the official framework (ogpu 0.2.3), on real servers.

Also the documented differences (docs/COMPATIBILITY.md): failure callbacks, the
uncoloured log format, the stdlib Logger left unpatched, and Sentry.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi import FastAPI
from pydantic import BaseModel

import ogpu.service
from ogpu.service import (
    DuplicateInitError,
    HandlerSignatureError,
    ServiceConfig,
    decorators,
    handler,
    server,
)
from ogpu.service import config as service_config
from ogpu.service.logger import (
    FAIL_LEVEL,
    SUCCESS_LEVEL,
    TIMEOUT_LEVEL,
    PartyFormatter,
    task_fail,
    task_success,
    task_timeout,
)
from ogpu.service.testing import CallbackRecorder

from ..helpers.child import last_json

REPO = Path(__file__).resolve().parents[2]


class In(BaseModel):
    text: str


class Out(BaseModel):
    result: str


def shout(data: In) -> Out:
    return Out(result=data.text.upper())


def explode(data: In) -> Out:
    raise RuntimeError("model exploded")


def test_registry_functions_drive_the_default_service(
    serve: Any, recorder: CallbackRecorder
) -> None:
    assert decorators.add_handler is handler.add_handler
    assert decorators.get_handlers is handler.get_handlers is server.get_handlers
    assert server.get_init_handler is handler.get_init_handler
    assert handler.get_handlers() == [] and handler.get_init_handler() is None

    def untyped(data):  # type: ignore[no-untyped-def]  # models come from add_handler
        return Out(result=data.text[::-1])

    handler.add_handler(untyped, In, Out)
    ready: list[bool] = []

    def warm_up() -> None:
        ready.append(True)

    handler.add_init_handler(warm_up)
    assert handler.get_handlers() == [(untyped, In, Out)]
    assert handler.get_init_handler() is not None
    with serve(ogpu.service.get_default_service(), callback_url=recorder.url) as rs:
        rs.wait_ready()
        answer = requests.post(rs.url("/run/untyped/0xa1"), json={"text": "abc"}, timeout=10)
        assert answer.status_code == 202
        [record] = recorder.wait_for("0xa1")
    assert record.body == {"result": "cba"} and ready == [True]


def test_registry_functions_check_like_the_decorators() -> None:
    with pytest.raises(HandlerSignatureError):  # a TypeError, as the official check raises
        handler.add_handler(shout, In, dict)  # type: ignore[arg-type]

    def first() -> None: ...

    def second() -> None: ...

    handler.add_init_handler(first)
    with pytest.raises(DuplicateInitError) as caught:
        handler.add_init_handler(second)
    assert isinstance(caught.value, ValueError)  # the official error type


def test_lifespan_runs_the_init_function_before_serving() -> None:
    calls: list[str] = []

    @ogpu.service.init()
    def setup() -> None:
        calls.append("init")

    async def serve_once() -> list[str]:
        async with server.lifespan(FastAPI()):
            return list(calls)  # what a request would see: init already done

    assert asyncio.run(serve_once()) == ["init"]


def test_lifespan_propagates_an_init_failure() -> None:
    @ogpu.service.init()
    def broken() -> None:
        raise RuntimeError("no weights")

    async def start() -> None:
        async with server.lifespan(FastAPI()):
            raise AssertionError("served despite a failed init")

    with pytest.raises(RuntimeError, match="no weights"):
        asyncio.run(start())


def test_send_callback_posts_the_result(
    recorder: CallbackRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLBACK_URL", recorder.url)
    result = server.send_callback("0xfeed", {"answer": 42})
    assert result is not None and result.delivered and result.attempts == 1
    [record] = recorder.delivered("0xfeed")
    assert record.body == {"answer": 42}
    assert record.headers["X-OGPU-Task-Status"] == "success"


def test_send_callback_without_url_only_logs(
    monkeypatch: pytest.MonkeyPatch, service_logs: list[logging.LogRecord]
) -> None:
    monkeypatch.delenv("CALLBACK_URL", raising=False)
    monkeypatch.delenv("CALLBACK_ADDRESS", raising=False)
    assert server.send_callback("0xfeed", {"answer": 42}) is None
    assert any("0xfeed" in r.getMessage() for r in service_logs)


def test_send_callback_reports_a_refusal(recorder: CallbackRecorder) -> None:
    recorder.status = 404
    result = server.send_callback("0x1", {"a": 1}, ServiceConfig(callback_url=recorder.url))
    assert result is not None and not result.delivered and result.status_code == 404


FreshPython = Callable[..., subprocess.CompletedProcess[str]]  # the root conftest's fixture


@pytest.mark.slow
def test_config_constants_come_from_the_environment_and_dotenv(
    fresh_python: FreshPython, tmp_path: Path
) -> None:
    code = """
        import json
        from ogpu.service import config, server
        print(json.dumps({n: getattr(config, n) for n in (
            "SOURCE_ADDRESS", "PROVIDER_ADDRESS", "CALLBACK_URL", "SERVICE_HOST", "SERVICE_PORT",
            "SDK_VERSION", "PROTOCOL_VERSION", "SENTRY_DSN")} | {"same": server.CALLBACK_URL
            == config.CALLBACK_URL}))
    """
    defaults = last_json(fresh_python(code).stdout)
    assert defaults["SOURCE_ADDRESS"] == defaults["PROVIDER_ADDRESS"] == "0xundefined"
    assert defaults["CALLBACK_URL"] is None and defaults["SENTRY_DSN"] is None
    assert (defaults["SERVICE_HOST"], defaults["SERVICE_PORT"]) == ("0.0.0.0", 5555)
    assert defaults["SDK_VERSION"] == ogpu.__version__
    (tmp_path / ".env").write_text("CALLBACK_URL=http://127.0.0.1:9/cb\nSOURCE_ADDRESS=0xfile\n")
    configured = last_json(fresh_python(code, SOURCE_ADDRESS="0xenv", PROTOCOL_VERSION="2").stdout)
    assert configured["CALLBACK_URL"] == "http://127.0.0.1:9/cb" and configured["same"]
    assert configured["SOURCE_ADDRESS"] == "0xenv"  # the environment wins over .env
    assert configured["PROTOCOL_VERSION"] == "2"
    assert ogpu.service.config is service_config


def test_logger_helpers_log_on_any_logger(caplog: pytest.LogCaptureFixture) -> None:
    plain = logging.getLogger("tests.official.service")
    with caplog.at_level(logging.DEBUG, logger="tests.official.service"):
        task_success(plain, "done %s", 1)
        task_timeout(plain, "slow")
        task_fail(ogpu.service.logger, "bad")  # the adapter works too
    levels = [(r.name, r.levelno) for r in caplog.records]
    assert ("tests.official.service", SUCCESS_LEVEL) in levels
    assert ("tests.official.service", TIMEOUT_LEVEL) in levels
    assert ogpu.service.logger.logger.name == "ogpu.service"
    assert ogpu.service.logger.logger.propagate is False  # ogpu.set_verbose() never doubles it
    assert FAIL_LEVEL > logging.ERROR


# -- documented differences (docs/COMPATIBILITY.md), ours and the official way --------------------


def test_failure_callbacks_and_the_official_successes_only(
    serve: Any, recorder: CallbackRecorder, wait_until: Any
) -> None:
    svc = ogpu.service.Service()
    svc.register(shout)
    svc.register(explode)
    for failure_callbacks in (True, False):
        with serve(svc, callback_url=recorder.url, failure_callbacks=failure_callbacks) as rs:
            rs.wait_ready()
            task = f"0xf{int(failure_callbacks)}"
            for function in ("explode", "shout"):
                answer = requests.post(rs.url(f"/run/{function}/{task}"), json={"text": "x"})
                assert answer.status_code == 202
            recorder.wait_for(task, count=2 if failure_callbacks else 1)
            wait_until(lambda: rs.runtime.stats.failed == 1)
    statuses = {
        task: sorted(r.headers["X-OGPU-Task-Status"] for r in recorder.delivered(task))
        for task in ("0xf1", "0xf0")
    }
    assert statuses == {"0xf1": ["failed", "success"], "0xf0": ["success"]}
    assert (
        ServiceConfig.from_env({"OGPU_SERVICE_FAILURE_CALLBACKS": "0"}).failure_callbacks is False
    )


def test_plain_log_format_and_the_official_colours() -> None:
    record = logging.LogRecord("ogpu.service", FAIL_LEVEL, __file__, 1, "bad %s", ("x",), None)
    ours = ogpu.service.logger.handlers[0].format(record)
    assert "FAIL" in ours and "\033[" not in ours
    coloured = PartyFormatter("{levelname} {message}", style="{").format(record)
    assert coloured == "\033[31mFAIL\033[0m bad x"
    assert record.levelname == "FAIL"  # the record other handlers see is untouched


def test_stdlib_logger_is_not_patched_and_the_official_calls_work() -> None:
    mine = logging.getLogger("tests.official.unpatched")
    assert not hasattr(mine, "task_success")  # the official import patches logging.Logger
    task_success(mine, "still possible")  # the documented replacement


@pytest.mark.slow
def test_sentry_is_not_initialised_and_fail_records_reach_a_handler(
    fresh_python: FreshPython, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Ours never imports sentry_sdk (not a dependency), DSN or not.
    code = """
        import json, sys
        import ogpu.service
        ogpu.service.logger.task_fail("boom")
        print(json.dumps({"sentry": "sentry_sdk" in sys.modules,
                          "dsn": ogpu.service.config.SENTRY_DSN}))
    """
    seen = last_json(fresh_python(code, OGPU_SDK_SENTRY_DSN="https://key@sentry.invalid/1").stdout)
    assert seen == {"sentry": False, "dsn": "https://key@sentry.invalid/1"}
    # The documented way: an error-level handler on ``ogpu.service`` (what sentry_sdk's
    # logging integration is) receives every FAIL and TIMEOUT record at or above ERROR/WARNING.
    received: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            received.append(record)

    capture = Capture(logging.ERROR)
    ogpu.service.logger.addHandler(capture)
    try:
        ogpu.service.logger.task_fail("handler %s failed", "predict")
        ogpu.service.logger.task_success("fine")
    finally:
        ogpu.service.logger.removeHandler(capture)
    assert [r.getMessage() for r in received] == ["handler predict failed"]


# -- without the service extra ------------------------------------------------------------------

_BLOCK_EXTRA = """
import importlib.abc, sys

class NoServiceExtra(importlib.abc.MetaPathFinder):
    # As if fastapi and uvicorn were not installed: their import fails like a missing package.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "uvicorn", "starlette"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoServiceExtra())
"""


def test_import_without_the_service_extra_names_the_extra(
    fresh_python: FreshPython, tmp_path: Path
) -> None:
    code = _BLOCK_EXTRA + textwrap.dedent(
        """
        import json
        import ogpu, ogpu.client, ogpu.types  # the rest of the SDK imports fine
        try:
            import ogpu.service
        except ImportError as exc:
            print(json.dumps({"type": type(exc).__name__, "message": str(exc),
                              "import_error": isinstance(exc, ImportError),
                              "loaded": sorted(m for m in sys.modules if m.startswith("fastapi"))}))
        else:
            print(json.dumps({"type": None}))
        """
    )
    seen = last_json(fresh_python(code).stdout)
    assert seen["type"] == "ServiceDependencyError" and seen["import_error"]
    assert "pip install 'ogpu[service]'" in seen["message"]
    assert "fastapi" in seen["message"]
    assert seen["loaded"] == []
    # ``ogpu.service`` through the package attribute fails the same way
    code = _BLOCK_EXTRA + "import ogpu\ntry:\n    ogpu.service\nexcept ImportError as e:\n"
    code += "    import json; print(json.dumps({'message': str(e)}))\n"
    assert "ogpu[service]" in last_json(fresh_python(code).stdout)["message"]


def test_registration_wants_named_functions_and_unique_names() -> None:
    # 0.2.3 registers a lambda as init and appends a second handler of the same name
    with pytest.raises(HandlerSignatureError):
        handler.add_init_handler(lambda: None)
    handler.add_handler(shout, In, Out)

    def other(data: In) -> Out:
        return Out(result="other")

    other.__name__ = "shout"
    with pytest.raises(ValueError, match="already registered"):
        handler.add_handler(other, In, Out)

    def init_function() -> None:  # the documented way: a named function
        pass

    handler.add_init_handler(init_function)
    assert handler.get_init_handler() is init_function
    assert [fn for fn, _, _ in handler.get_handlers()] == [shout]
