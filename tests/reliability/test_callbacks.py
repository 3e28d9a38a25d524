"""The service's callback and the provider's callback server, against hostile peers.

Classes: task ids that would move the result outside ``CALLBACK_URL`` (one shared rule,
checked at the ``/run`` route and again by the callback client); callback receivers
that hang or drip (the delivery, and the task's in-flight slot, end by the deadline);
the provider's ``CallbackServer`` against idle and dripping clients and against
results posted without the task's secret.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from pydantic import BaseModel

from ogpu import net
from ogpu._taskid import is_task_id
from ogpu.provider import CallbackServer
from ogpu.service import Service, ServiceConfig
from ogpu.service.callback import CallbackClient
from ogpu.service.pool import DaemonThreadPool
from ogpu.service.testing import CallbackRecorder, RunningService, serve_in_thread

from .burst import burst
from .hostile import HostileServer

Row = Callable[..., None]
TASK = "0x" + "56" * 20


class In(BaseModel):
    text: str


class Out(BaseModel):
    result: str


def _service() -> Service:
    service = Service()

    @service.expose()
    def upper(data: In) -> Out:
        return Out(result=data.text.upper())

    return service


@pytest.fixture(scope="module")
def recorder() -> Iterator[CallbackRecorder]:
    with CallbackRecorder() as rec:
        yield rec


@pytest.fixture(scope="module")
def running(recorder: CallbackRecorder) -> Iterator[RunningService]:
    config = ServiceConfig(host="127.0.0.1", port=0, callback_url=recorder.url, log_level="ERROR")
    with serve_in_thread(_service(), config) as rs:
        rs.wait_ready()
        yield rs


def _raw_post(rs: RunningService, path: str) -> int:
    """POST with the path exactly as written (no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", rs.port, timeout=10)
    body = json.dumps({"text": "a"}).encode()
    connection.putrequest("POST", path, skip_host=False, skip_accept_encoding=True)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    status = connection.getresponse().status
    connection.close()
    return status


BAD_IDS = [
    "..",
    ".",
    "...",
    ".hidden",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "..%2F..%2Fhealth",
    "..%2f",
    "a%2Fb",
    "a%5Cb",
    "%00",
    "a%20b",
    "%0d%0aX-Injected:%201",
    "a;b",
    "a%3Fb",
    "a%23b",
    "x" * 129,
    "%C3%A9",
    "a/../../health",
    "a/b",
]


@pytest.mark.parametrize("task_id", BAD_IDS)
def test_unsafe_task_ids_never_reach_a_callback(
    task_id: str, running: RunningService, recorder: CallbackRecorder, row: Row
) -> None:
    accepted = running.runtime.stats.accepted
    seen = recorder.requests_seen
    status = _raw_post(running, f"/run/upper/{task_id}")
    assert not 200 <= status < 300, status  # 404, 422, or a 307 to the slashless path
    time.sleep(0.05)
    assert running.runtime.stats.accepted == accepted and recorder.requests_seen == seen
    row(
        area="callbacks",
        case=f"POST /run/upper/{task_id[:40]}",
        injected="a task id with dot-segments, slashes (plain or encoded), controls or too long",
        outcome=f"HTTP {status}; handler not run; 0 callbacks",
    )


@pytest.mark.parametrize("task_id", ["..", ".", "a/b", "a?b", "", "x" * 129, "a\r\nb"])
def test_the_callback_client_refuses_them_too(task_id: str, row: Row) -> None:
    pool = DaemonThreadPool(1, "ids")
    with CallbackRecorder() as rec:
        client = CallbackClient(rec.url, net.RetryPolicy(max_attempts=1), pool)
        result = asyncio.run(client.deliver(task_id, {"a": 1}, "success"))
        assert rec.requests_seen == 0
    pool.shutdown()
    assert not result.delivered and result.attempts == 0 and not is_task_id(task_id)
    row(
        area="callbacks",
        case=f"CallbackClient.deliver({task_id[:20]!r})",
        injected="an unsafe task id handed straight to the callback client",
        outcome="not delivered, 0 requests (the same rule as the /run route)",
    )


@pytest.mark.parametrize("task_id", [TASK, "task:1", "t-1", "a.b", "0xnone", "_x"])
def test_safe_task_ids_are_delivered(
    task_id: str, running: RunningService, recorder: CallbackRecorder, row: Row
) -> None:
    assert _raw_post(running, f"/run/upper/{task_id}") == 202
    [record] = recorder.wait_for(task_id)[-1:]
    assert record.body == {"result": "A"}
    row(
        area="callbacks",
        case=f"POST /run/upper/{task_id}",
        injected="a well-formed task id (addresses and the ids the official framework allows)",
        outcome="202; the result is POSTed to {CALLBACK_URL}/{task id}",
    )


# -- callback receivers that hang or drip ---------------------------------------------------------


RECEIVERS = ["hang", "silent", "drip-status", "drip-headers", "drip-body", "drip-chunked"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", RECEIVERS)
def test_a_stalling_receiver_cannot_pin_a_slot(mode: str, row: Row) -> None:
    total = 2.0
    with HostileServer(mode, interval=0.2) as receiver:
        config = ServiceConfig(
            host="127.0.0.1",
            port=0,
            callback_url=receiver.url + "/cb",
            callback_max_seconds=total,
            callback_timeout=1.0,
            callback_backoff=0.05,
            max_in_flight=1,
            log_level="CRITICAL",
        )
        with serve_in_thread(_service(), config) as rs:
            rs.wait_ready()
            started = time.monotonic()
            assert _raw_post(rs, f"/run/upper/{TASK}") == 202
            while rs.runtime.in_flight and time.monotonic() - started < 30:
                time.sleep(0.02)
            freed = time.monotonic() - started
            assert _raw_post(rs, f"/run/upper/{TASK}") == 202  # the slot is free again
    assert freed <= total + 1.0, freed
    assert rs.runtime.stats.callbacks_failed >= 1
    row(
        area="callbacks",
        case=f"callback receiver: {mode}",
        injected=f"the receiver {mode}s (one byte per 0.2s); callback_max_seconds={total:g}, "
        "max_in_flight=1",
        outcome=f"given up, the slot freed within {total + 1:g}s; the next task accepted",
    )


# -- the provider's CallbackServer ---------------------------------------------------------------


@pytest.fixture
def callback_server() -> Iterator[CallbackServer]:
    server = CallbackServer(idle_timeout=0.5, request_timeout=1.5)
    server.start()
    yield server
    server.stop()


def _closed_after(sock: socket.socket, limit: float, drip: bytes = b"") -> float:
    """Seconds until the server closes ``sock``, dripping ``drip`` one byte per 0.1 s."""
    started = time.monotonic()
    sock.settimeout(0.1)
    index = 0
    while time.monotonic() - started < limit:
        try:
            if drip:
                sock.sendall(drip[index % len(drip) :][:1])
                index += 1
            if not sock.recv(65536):
                break
        except TimeoutError:
            continue
        except OSError:
            break
    return time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize(
    ("label", "first", "drip"),
    [
        ("idle connection", b"", b""),
        ("idle after a request", b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", b""),
        ("drip request line", b"", b"GET /health HTTP/1.1\r\n" * 40),
        ("drip headers", b"POST /callback/x HTTP/1.1\r\n", b"X-Slow: " + b"a" * 400),
        (
            "drip body",
            b"POST /callback/x HTTP/1.1\r\nContent-Length: 1000\r\n\r\n",
            b"{" + b" " * 999,
        ),
    ],
)
def test_the_callback_server_drops_idle_and_dripping_clients(
    label: str, first: bytes, drip: bytes, callback_server: CallbackServer, row: Row
) -> None:
    sock = socket.create_connection(("127.0.0.1", callback_server.port), timeout=5)
    try:
        if first:
            sock.sendall(first)
        seconds = _closed_after(sock, 10, drip)
    finally:
        sock.close()
    bound = (callback_server.request_timeout if drip else callback_server.idle_timeout) + 1.0
    assert seconds <= bound, seconds
    row(
        area="callbacks",
        case=f"provider CallbackServer: {label}",
        injected=f"a client that {label} (idle_timeout 0.5s, request_timeout 1.5s)",
        outcome=f"connection closed within {bound:g}s",
    )


def test_idle_connections_do_not_block_a_result(callback_server: CallbackServer, row: Row) -> None:
    idle = [socket.create_connection(("127.0.0.1", callback_server.port)) for _ in range(100)]
    try:
        waiter = callback_server.expect(TASK)
        ticket = callback_server.ticket(TASK)
        started = time.monotonic()
        answer = net.request(
            "POST",
            f"{callback_server.url}/{ticket}",
            body=b'{"ok": true}',
            timeout=net.Timeout(total=5),
        )
        assert answer.status == 200 and waiter.result(5).body == {"ok": True}
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()
    row(
        area="callbacks",
        case="provider CallbackServer: 100 idle connections",
        injected="100 connections that never send, then one result",
        outcome="the result accepted at once (under 5 s)",
    )


FORGED = ["bare task", "empty secret", "wrong secret", "another task's secret", "truncated"]


@pytest.mark.parametrize("label", FORGED)
def test_results_without_the_tasks_secret_are_refused(
    label: str, callback_server: CallbackServer, row: Row
) -> None:
    other = "0x" + "78" * 20
    waiter = callback_server.expect(TASK)
    callback_server.expect(other)
    ticket, other_ticket = callback_server.ticket(TASK), callback_server.ticket(other)
    forged = {
        "bare task": TASK,
        "empty secret": TASK + "-",
        "wrong secret": TASK + "-" + "0" * 32,
        "another task's secret": TASK + "-" + other_ticket.rsplit("-", 1)[1],
        "truncated": ticket[:-1],
    }[label]
    posted: list[int] = []
    for path in (forged, forged.upper().replace("0X", "0x")):
        answer = net.request(
            "POST", f"{callback_server.url}/{path}", body=b"{}", timeout=net.Timeout(total=5)
        )
        posted.append(answer.status)
    assert posted == [403, 403] and not waiter.done()
    real = net.request(
        "POST", f"{callback_server.url}/{ticket}", body=b'{"r": 1}', timeout=net.Timeout(total=5)
    )
    assert real.status == 200 and waiter.result(5).body == {"r": 1}
    row(
        area="callbacks",
        case=f"forged result: {label}",
        injected="a result POSTed for an expected task without its per-task secret",
        outcome="403, not delivered; the service's own ticket delivers",
    )


def test_the_callback_server_takes_a_burst(callback_server: CallbackServer, row: Row) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert burst(callback_server.port, request, 200) == {"200": 200}
    row(
        area="devnet concurrency",
        case="provider CallbackServer: 200 clients at once",
        injected="200 simultaneous connections, GET /health",
        outcome="200 answered, 0 resets",
    )
