"""Decoration-time checks: typed errors that say what to change."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from pydantic import BaseModel

import ogpu.service
import ogpu.service.decorators
import ogpu.service.server
from ogpu.service import (
    DuplicateHandlerError,
    DuplicateInitError,
    HandlerDefinitionError,
    HandlerSignatureError,
    InvalidTimeoutError,
    Service,
    UnknownHandlerError,
)


class In(BaseModel):
    text: str


class Out(BaseModel):
    result: str


def test_seed_import_paths_are_the_same_objects() -> None:
    assert ogpu.service.expose is ogpu.service.decorators.expose
    assert ogpu.service.init is ogpu.service.decorators.init
    assert ogpu.service.start is ogpu.service.server.start
    assert callable(ogpu.service.logger.info)


def test_expose_registers_on_default_service_and_returns_function() -> None:
    def predict(data: In) -> Out:
        return Out(result=data.text)

    decorated = ogpu.service.expose(timeout=5)(predict)
    assert decorated is predict
    spec = ogpu.service.get_default_service().get_handler("predict")
    assert (spec.input_model, spec.output_model, spec.timeout, spec.is_async) == (
        In,
        Out,
        5.0,
        False,
    )


def test_bare_decorators_and_async_detection() -> None:
    svc = Service()

    @svc.expose
    async def shout(data: In) -> Out:
        return Out(result=data.text.upper())

    @svc.init
    def setup() -> None:
        pass

    assert svc.get_handler("shout").is_async
    assert svc.init_spec is not None and svc.init_spec.name == "setup"


def test_future_annotations_are_resolved() -> None:
    ns: dict[str, Any] = {}
    exec(
        "from __future__ import annotations\n"
        "def handler(data: In) -> Out:\n"
        "    return Out(result=data.text)\n",
        {"In": In, "Out": Out},
        ns,
    )
    spec = Service().register(ns["handler"])
    assert spec.input_model is In and spec.output_model is Out


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("def h(data: dict) -> Out: ...", "must be annotated with a pydantic BaseModel"),
        ("def h(data) -> Out: ...", "must be annotated with a pydantic BaseModel"),
        ("def h(data: In): ...", "return type"),
        ("def h(data: In) -> dict: ...", "return type"),
        ("def h(data: In) -> BaseModel: ...", "return type"),
        ("def h(a: In, b: In) -> Out: ...", "exactly one positional parameter"),
        ("def h() -> Out: ...", "exactly one positional parameter"),
        ("def h(*, data: In) -> Out: ...", "exactly one positional parameter"),
        ("def h(*data: In) -> Out: ...", "exactly one positional parameter"),
        ("def h(data: In) -> Out:\n    yield Out(result='x')", "generator"),
        ("def h(data: Missing) -> Out: ...", "Define the pydantic models at module level"),
    ],
)
def test_bad_handler_signatures_raise_typed_errors(source: str, fragment: str) -> None:
    ns: dict[str, Any] = {}
    prefix = "from __future__ import annotations\n" if "Missing" in source else ""
    exec(prefix + source, {"In": In, "Out": Out, "BaseModel": BaseModel}, ns)
    with pytest.raises(HandlerSignatureError, match=fragment) as info:
        Service().register(ns["h"])
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, HandlerDefinitionError)


def test_unnamed_callables_are_refused() -> None:
    def predict(data: In, extra: int = 0) -> Out:
        return Out(result=data.text)

    with pytest.raises(HandlerSignatureError, match="named function"):
        Service().register(functools.partial(predict, extra=1))
    with pytest.raises(HandlerSignatureError, match="named function"):
        Service().register(lambda data: data)
    with pytest.raises(HandlerSignatureError, match="must decorate a function"):
        Service().register(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "5"])
def test_bad_timeouts(timeout: Any) -> None:
    def predict(data: In) -> Out:
        return Out(result=data.text)

    with pytest.raises(InvalidTimeoutError, match="positive number of seconds") as info:
        Service().expose(timeout=timeout)(predict)
    assert isinstance(info.value, ValueError)


def test_duplicate_names_are_refused_but_reregistering_is_idempotent() -> None:
    svc = Service()

    def predict(data: In) -> Out:
        return Out(result=data.text)

    svc.register(predict)
    svc.register(predict)

    def other(data: In) -> Out:
        return Out(result="other")

    other.__name__ = "predict"
    with pytest.raises(DuplicateHandlerError, match="rename") as info:
        svc.register(other)
    assert isinstance(info.value, ValueError)
    assert list(svc.handlers) == ["predict"]


def test_only_one_init() -> None:
    svc = Service()

    @svc.init()
    def first() -> None:
        pass

    svc.register_init(first)

    def second() -> None:
        pass

    with pytest.raises(DuplicateInitError, match="merge") as info:
        svc.init()(second)
    assert isinstance(info.value, ValueError)


def test_init_must_take_no_arguments() -> None:
    def setup(path: str) -> None:
        pass

    def setup_ok(path: str = "x", *args: Any, **kwargs: Any) -> None:
        pass

    with pytest.raises(HandlerSignatureError, match="must take no arguments"):
        Service().init()(setup)
    Service().init()(setup_ok)


def test_reset_and_unknown_lookup() -> None:
    svc = Service()

    @svc.expose()
    def predict(data: In) -> Out:
        return Out(result=data.text)

    snapshot = svc.handlers
    svc.reset()
    assert list(snapshot) == ["predict"]
    assert dict(svc.handlers) == {}
    with pytest.raises(UnknownHandlerError, match="none registered") as info:
        svc.get_handler("predict")
    assert isinstance(info.value, LookupError)


def test_module_level_reset_isolates_default_service() -> None:
    @ogpu.service.expose()
    def predict(data: In) -> Out:
        return Out(result=data.text)

    assert "predict" in ogpu.service.get_default_service().handlers
    ogpu.service.reset()
    assert not ogpu.service.get_default_service().handlers
