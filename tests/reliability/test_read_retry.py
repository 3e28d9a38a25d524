"""One retry policy per read: a node that keeps failing gets exactly the policy's attempts.

Every JSON-RPC read is retried by one loop (the transport's, under
``ogpu.chain.transport.READS``) that alone decides what is transient: HTTP 429/5xx,
dropped connections, and a lagging replica's ``header not found``. Against a real
local node that never answers usefully, each read makes ``READS.max_attempts`` HTTP
requests, whatever mix of failures it meets (a loop per failure kind, nested, made
attempts x attempts), then raises ``RPCError``; a ``Budget`` cuts it shorter.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ogpu import net
from ogpu.chain import rpc
from ogpu.chain.transport import READS
from ogpu.protocol import Task, vault
from ogpu.types import RPCError

from .scripted import Reply, Request, ScriptedServer

Row = Callable[..., None]
TASK = "0x" + "12" * 20
LAGGING = {"code": -32000, "message": "header not found"}


def _lagging(request: Request) -> Reply:
    body = request.json
    if isinstance(body, list):
        answer: Any = [{"jsonrpc": "2.0", "id": i.get("id"), "error": LAGGING} for i in body]
    else:
        answer = {"jsonrpc": "2.0", "id": body.get("id"), "error": LAGGING}
    return Reply(body=json.dumps(answer).encode())


def _busy(request: Request) -> Reply:
    return Reply(status=503, body=b"busy")


def _alternating() -> Callable[[Request], Reply]:
    """A load balancer over a replica that is down and one that lags."""
    turns = itertools.cycle([_busy, _lagging])
    lock = threading.Lock()

    def answer(request: Request) -> Reply:
        with lock:
            serve = next(turns)
        return serve(request)

    return answer


FAILURES: dict[str, Callable[[], Callable[[Request], Reply]]] = {
    "HTTP 503": lambda: _busy,
    "header not found": lambda: _lagging,
    "503 and lagging, alternating": _alternating,
}
READS_UNDER_TEST: dict[str, Callable[[], object]] = {
    "Task.snapshot (one aggregated eth_call)": lambda: Task(TASK).snapshot(),
    "vault.get_unbonding_period (one eth_call)": vault.get_unbonding_period,
}


@pytest.fixture(params=list(FAILURES), ids=list(FAILURES))
def failing(
    request: pytest.FixtureRequest, mainnet_at: Callable[[str], None]
) -> Iterator[ScriptedServer]:
    with ScriptedServer(FAILURES[request.param]()) as server:
        mainnet_at(server.url)
        yield server


@pytest.mark.parametrize("name", list(READS_UNDER_TEST))
@pytest.mark.slow
def test_a_failing_read_makes_the_policys_attempts(
    failing: ScriptedServer, name: str, row: Row
) -> None:
    started = time.monotonic()
    with pytest.raises(RPCError):
        READS_UNDER_TEST[name]()
    assert failing.requests == READS.max_attempts
    # the pauses of one policy: at most backoff_initial * (2**(n-1) - 1), well under 5 s
    assert time.monotonic() - started < 5
    row(
        area="read retries",
        case=name,
        injected="every request fails (503, header not found, or both in turn)",
        outcome=f"RPCError after {READS.max_attempts} HTTP requests (one retry loop)",
    )


@pytest.mark.slow
def test_a_failing_batch_of_reads_makes_the_policys_attempts(failing: ScriptedServer) -> None:
    calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", []), ("eth_chainId", [])]
    try:
        answers = rpc.batch(failing.url, calls)
    except rpc.TransportError:
        answers = []
    assert all(isinstance(a, (rpc.NodeError, rpc.TransportError)) for a in answers)
    assert failing.requests == READS.max_attempts


def test_a_budget_cuts_the_attempts_short(mainnet_at: Callable[[str], None]) -> None:
    with ScriptedServer(_lagging) as server:
        mainnet_at(server.url)
        started = time.monotonic()
        with net.Budget.after(0.1).scope(), pytest.raises(RPCError):
            vault.get_unbonding_period()
        elapsed = time.monotonic() - started
    assert 1 <= server.requests < READS.max_attempts
    assert elapsed < 1.0  # the 0.1 s budget, with a wide margin for a loaded machine


@pytest.mark.parametrize(
    ("message", "lags", "requests"), [("header not found", 2, 3), ("out of gas", 0, 1)]
)
def test_a_read_is_asked_again_only_while_the_answer_is_transient(
    mainnet_at: Callable[[str], None], message: str, lags: int, requests: int
) -> None:
    count = itertools.count()

    def answer(request: Request) -> Reply:
        body = request.json
        if next(count) < lags or message == "out of gas":
            error = {"code": -32000, "message": message}
            return Reply(
                body=json.dumps({"jsonrpc": "2.0", "id": body["id"], "error": error}).encode()
            )
        return Reply(
            body=json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": "0x2a"}).encode()
        )

    with ScriptedServer(answer) as server:
        try:
            outcome: object = rpc.request(server.url, "eth_blockNumber", [])
        except rpc.NodeError as exc:
            outcome = exc
    assert server.requests == requests
    assert outcome == "0x2a" if lags else isinstance(outcome, rpc.NodeError)
