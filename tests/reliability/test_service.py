"""``ogpu.service`` against hostile clients, over a real uvicorn server on loopback.

tests/service already covers: body over the cap (declared and chunked) -> 413,
truncated JSON, missing/ill-typed fields and an empty body -> 422 with nothing run
(``test_body_size_cap_413``, ``test_bad_input_is_422_with_pydantic_errors_and_nothing_runs``).
This file adds the remaining malformed bodies and the slow clients, which a server-side
timeout (``client_timeout``) must cut.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import BaseModel

from ogpu.service import Service, ServiceConfig
from ogpu.service.testing import RunningService, serve_in_thread

CAP = 512 * 1024
BOUND = 2.0  # seconds a server-side timeout should take at most to end a slow client


class In(BaseModel):
    text: str


class Out(BaseModel):
    result: str


@pytest.fixture(scope="module")
def running() -> Iterator[RunningService]:
    service = Service()

    @service.expose()
    def upper(data: In) -> Out:
        return Out(result=data.text.upper())

    config = ServiceConfig(host="127.0.0.1", port=0, max_body_bytes=CAP, client_timeout=1.0)
    with serve_in_thread(service, config) as rs:
        rs.wait_ready()
        yield rs


def _port(rs: RunningService) -> int:
    return int(rs.url("/").rsplit(":", 1)[1].split("/")[0])


def _post(rs: RunningService, body: bytes, content_type: str = "application/json") -> Any:
    return requests.post(
        rs.url("/run/upper/0x1"), data=body, headers={"Content-Type": content_type}, timeout=10
    )


MALFORMED = [
    ("JSON array", b'["text"]', 422),
    ("JSON string", b'"text"', 422),
    ("JSON null", b"null", 422),
    ("JSON number", b"42", 422),
    ("invalid UTF-8", b'{"text": "\xff\xfe"}', 400),
    ("5000-digit integer literal", b'{"text": 1' + b"0" * 5000 + b"}", 400),
    ("text/plain content type", b'{"text": "a"}', 422),
]


@pytest.mark.parametrize(("label", "body", "status"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_json_is_refused_and_nothing_runs(
    running: RunningService, label: str, body: bytes, status: int, row: Any
) -> None:
    before = running.runtime.stats.accepted
    kind = "text/plain" if label.startswith("text/plain") else "application/json"
    answer = _post(running, body, kind)
    assert answer.status_code == status, answer.text
    assert "detail" in answer.json()
    assert running.runtime.stats.accepted == before
    assert _post(running, b'{"text": "still up"}').status_code == 202
    row(
        area="service",
        case="malformed body",
        injected=label,
        outcome=f"{status}; handler not run; the server keeps serving",
    )


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity"])
def test_non_finite_number_in_a_typed_field_is_422(running: RunningService, literal: bytes) -> None:
    answer = _post(running, b'{"text": ' + literal + b"}")
    assert answer.status_code == 422


def test_lying_content_length_reads_only_what_was_declared(
    running: RunningService, row: Any
) -> None:
    before = running.runtime.stats.accepted
    body = b'{"text": "' + b"a" * (2 * CAP) + b'"}'
    head = (
        b"POST /run/upper/0x1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(running)), timeout=10) as sock:
        sock.sendall(head + body)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 422")
    assert running.runtime.stats.accepted == before
    row(
        area="service",
        case="oversized body",
        injected=f"Content-Length: 10 but {len(body)} bytes sent",
        outcome="only the declared 10 bytes are read: 422, handler not run",
    )


def _open(rs: RunningService, payload: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(rs)), timeout=BOUND + 1)
    if payload:
        sock.sendall(payload)
    return sock


def _ended_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server answered or closed the connection within ``seconds``."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.1)
    while time.monotonic() < deadline:
        try:
            sock.recv(4096)
            return True  # an answer, or b"" for a close
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


SLOW = [
    ("idle connection", b""),
    ("request line and half the headers", b"POST /run/upper/0x1 HTTP/1.1\r\nHost: x\r\n"),
    (
        "headers, then 4 of 100 body bytes",
        b"POST /run/upper/0x1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"te',
    ),
    (
        "Content-Length over the cap, body never sent",
        b"POST /run/upper/0x1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999999\r\n\r\n",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("label", "payload"), SLOW, ids=[s[0] for s in SLOW])
def test_slow_client_is_cut_by_a_server_timeout(
    running: RunningService, label: str, payload: bytes
) -> None:
    with _open(running, payload) as sock:
        assert _ended_within(sock, BOUND)


def test_slow_clients_do_not_block_other_requests(running: RunningService, row: Any) -> None:
    socks = [_open(running, payload) for _, payload in SLOW for _ in range(5)]
    try:
        started = time.monotonic()
        answer = _post(running, b'{"text": "through"}')
        assert answer.status_code == 202
        assert time.monotonic() - started < 5
    finally:
        for sock in socks:
            sock.close()
    row(
        area="service",
        case="slow clients",
        injected=f"{len(socks)} connections stalled (idle, mid-headers, mid-body, "
        "over-cap Content-Length)",
        outcome="other requests are still served (202); the stalled connections are cut "
        "after OGPU_SERVICE_CLIENT_TIMEOUT",
    )


# -- deeply nested JSON, in a process that uses the SDK's chain layer ---------------------------

SERVER = Path(__file__).with_name("json_server.py")
DEEP = 200_000


@pytest.fixture(params=["service", "devnet", "callback"])
def json_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, Any]]:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), request.param],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the {request.param} server did not start")
        yield request.param, url, process
    finally:
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _send(url: str, body: bytes) -> int | None:
    try:
        answer = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=20
        )
    except requests.RequestException:
        return None
    return answer.status_code


def test_moderately_nested_json_is_answered(json_server: tuple[str, str, Any], row: Any) -> None:
    kind, url, process = json_server
    status = _send(url, _nested(5_000))
    assert status is not None and status < 500
    assert process.poll() is None
    row(
        area="service",
        case="nested JSON",
        injected=f"{kind} server: 5 000 nested arrays (recursion limit 100 000, as in any "
        "process that imported eth_account)",
        outcome=f"{status}; the server keeps serving",
    )


def test_deeply_nested_json_does_not_kill_the_server(json_server: tuple[str, str, Any]) -> None:
    _, url, process = json_server
    status = _send(url, _nested(DEEP))
    time.sleep(0.2)
    assert process.poll() is None, f"the server process died (exit code {process.returncode})"
    assert status is not None and 400 <= status < 500
