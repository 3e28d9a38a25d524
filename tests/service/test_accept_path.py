"""The accept path (``RunFastPath``) answers exactly as the FastAPI route it bypasses."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
import uvicorn
from pydantic import BaseModel, Field, field_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from ogpu.service import Service, ServiceConfig
from ogpu.service.server import ServiceApp, server_config
from ogpu.service.testing import CallbackRecorder, RunningService


class Inner(BaseModel):
    tags: list[str] = []


class In(BaseModel):
    text: str = Field(min_length=1)
    repeat: int = 1
    inner: Inner | None = None

    @field_validator("text")
    @classmethod
    def no_secret(cls, value: str) -> str:
        if value == "secret":
            raise ValueError("no secrets")
        return value


class Out(BaseModel):
    result: str


@pytest.fixture
def svc() -> Service:
    svc = Service()

    @svc.expose()
    def upper(data: In) -> Out:
        return Out(result=data.text.upper() * data.repeat)

    return svc


JSON = "application/json"
# (path, content type or None for no header, raw body)
CASES: list[tuple[str, str | None, bytes]] = [
    ("/run/upper/0x1", JSON, b'{"text": "a"}'),
    ("/run/upper/0x1", "application/json; charset=utf-8", b'{"text": "a"}'),
    ("/run/upper/0x1", "APPLICATION/JSON", b'{"text": "a"}'),
    ("/run/upper/0x1", "application/json ;q=1", b'{"text": "a"}'),
    ("/run/upper/0x1", "application/vnd.api+json", b'{"text": "a"}'),
    ("/run/upper/0x1", "application/a/b+json", b'{"text": "a"}'),
    ("/run/upper/0x1", "application/jsonx", b'{"text": "a"}'),
    ("/run/upper/0x1", "text/plain", b'{"text": "a"}'),
    ("/run/upper/0x1", "", b'{"text": "a"}'),
    ("/run/upper/0x1", None, b'{"text": "a"}'),
    ("/run/upper/0x1", JSON, b""),
    ("/run/upper/0x1", JSON, b'{"text": "a", "extra": [1, 2]}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "repeat": "3"}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "repeat": 2.0}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "repeat": 2.5}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "repeat": NaN}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "repeat": true}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "inner": {"tags": ["x", 1]}}'),
    ("/run/upper/0x1", JSON, b'{"text": "a", "inner": {"tags": "x"}}'),
    ("/run/upper/0x1", JSON, b'{"text": ""}'),
    ("/run/upper/0x1", JSON, b'{"text": "secret"}'),
    ("/run/upper/0x1", JSON, b'{"text": "\\ud800"}'),
    ("/run/upper/0x1", JSON, '{"text": "é"}'.encode("utf-16")),
    ("/run/upper/0x1", JSON, b'\xef\xbb\xbf{"text": "bom"}'),
    ("/run/upper/0x1", JSON, b'{"text": "\xff"}'),
    ("/run/upper/0x1", JSON, b'{"text": "a"} trailing'),
    ("/run/upper/0x1", JSON, b"[]"),
    ("/run/upper/0x1", JSON, b"null"),
    ("/run/upper/0x1", JSON, b'"text"'),
    ("/run/upper/0x1/", JSON, b'{"text": "a"}'),
    ("/run/upper/0x1%0A", JSON, b'{"text": "a"}'),
    ("/run/upper/.hidden", JSON, b'{"text": "a"}'),
    ("/run/upper/0x1%2F2", JSON, b'{"text": "a"}'),
    ("/run/upper/a%20b", JSON, b'{"text": "a"}'),
    ("/run/upper/" + "a" * 128, JSON, b'{"text": "a"}'),
    ("/run/upper/" + "a" * 129, JSON, b'{"text": "a"}'),
    ("/run/upper/0x1?x=1", JSON, b'{"text": "a"}'),
    ("/run/upper", JSON, b'{"text": "a"}'),
    ("/run/Upper/0x1", JSON, b'{"text": "a"}'),
    ("/run/nope/0x1", JSON, b'{"text": "a"}'),
    ("/run//0x1", JSON, b'{"text": "a"}'),
    ("//run/upper/0x1", JSON, b'{"text": "a"}'),
]


def _answers(rs: RunningService, method: str = "POST") -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    with requests.Session() as session:
        for path, kind, body in CASES:
            headers = {} if kind is None else {"Content-Type": kind}
            response = session.request(
                method,
                rs.base_url + path,
                data=body,
                headers=headers,
                timeout=10,
                allow_redirects=False,
            )
            out.append(
                (
                    path,
                    kind,
                    body,
                    response.status_code,
                    response.content,
                    response.headers.get("content-type"),
                    response.headers.get("content-length"),
                    response.headers.get("location"),
                )
            )
    return out


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_accept_path_answers_like_the_fastapi_route(
    svc: Service, serve: Any, recorder: CallbackRecorder, method: str
) -> None:
    with serve(svc, callback_url=recorder.url) as rs:
        rs.wait_ready()
        app = rs.server.config.app
        assert isinstance(app, ServiceApp) and app._ogpu_entry is not None
        fast = _answers(rs, method)
        fast_path, app._ogpu_entry.fast_path = app._ogpu_entry.fast_path, None
        reference = _answers(rs, method)
        app._ogpu_entry.fast_path = fast_path
        accepted = rs.runtime.stats.accepted
        recorder.wait_for(count=accepted)
    for got, want in zip(fast, reference, strict=True):
        assert got == want
    statuses = {answer[3] for answer in fast}
    if method == "POST":
        # the cases cover acceptance and every refusal the route has
        assert {202, 404, 422} <= statuses
        assert accepted == 2 * sum(1 for answer in fast if answer[3] == 202)
    else:
        assert accepted == 0


def test_accept_path_refusals_match_the_route(
    svc: Service, serve: Any, recorder: CallbackRecorder
) -> None:
    # 503 while shutting down and 429 with a full queue come from the same function
    with serve(svc, callback_url=recorder.url, max_in_flight=1, queue_size=0) as rs:
        rs.wait_ready()
        app = rs.server.config.app
        assert isinstance(app, ServiceApp) and app._ogpu_entry is not None
        rs.runtime.state = "shutting_down"
        fast = rs.post("upper", "0x1", {"text": "a"})
        app._ogpu_entry.fast_path = None
        reference = rs.post("upper", "0x1", {"text": "a"})
        rs.runtime.state = "ready"
    assert fast.status_code == reference.status_code == 503
    assert (
        fast.json()
        == reference.json()
        == {
            "detail": "service is shutting down",
            "status": "shutting_down",
        }
    )


def test_lone_surrogates_in_the_body_get_a_422_not_a_reset(
    svc: Service, serve: Any, recorder: CallbackRecorder
) -> None:
    # the error's "input" echoes them; JSON-encoding that as UTF-8 used to fail (no answer)
    with serve(svc, callback_url=recorder.url) as rs:
        rs.wait_ready()
        url = rs.url("/run/upper/0x1")
        headers = {"Content-Type": "application/json"}
        value = requests.post(url, data=b'{"text": "\\ud800"}', headers=headers, timeout=10)
        key = requests.post(url, data=b'{"\\udfff": 1}', headers=headers, timeout=10)
        accepted = rs.runtime.stats.accepted
    assert value.status_code == key.status_code == 422
    assert accepted == 0
    [error] = value.json()["detail"]
    assert (error["type"], error["loc"], error["input"]) == (
        "string_unicode",
        ["body", "text"],
        "\ufffd",
    )
    [missing] = key.json()["detail"]
    assert missing["type"] == "missing" and missing["input"] == {"\ufffd": 1}


def test_added_middleware_sees_accepted_tasks_too(svc: Service, recorder: CallbackRecorder) -> None:
    # the accept path steps aside once the app has user middleware (auth, tracing...)
    cfg = ServiceConfig(host="127.0.0.1", port=0, callback_url=recorder.url)
    app = svc.create_app(cfg)
    seen: list[str] = []

    class Tag:
        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                seen.append(scope["path"])
            await self.inner(scope, receive, send)

    app.add_middleware(Tag)
    server = uvicorn.Server(server_config(app, cfg))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        runtime = app.state.ogpu_runtime
        while runtime.state != "ready":
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port}/run/upper/0xmw"
        response = requests.post(url, json={"text": "a"}, timeout=10)
        [record] = recorder.wait_for("0xmw")
    finally:
        server.should_exit = True
        thread.join(30)
    assert response.status_code == 202
    assert seen == ["/run/upper/0xmw"]
    assert record.body == {"result": "A"}
