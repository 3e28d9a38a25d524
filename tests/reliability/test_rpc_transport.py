"""The JSON-RPC transport against real local nodes that misbehave.

Classes: malformed answers (every one a typed ``TransportError``/``MalformedAnswer``,
``RPCError`` at the SDK surface, never a raw exception), connection failures (one
line under 160 characters naming the redacted URL and the cause), and the transport's
own promises (keep-alive, thread safety, batches matched by id, sends never resent).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account

import ogpu
from ogpu import net
from ogpu.chain import ChainId, Web3Manager, rpc
from ogpu.chain.transport import READS, HttpTransport
from ogpu.protocol import Task, vault
from ogpu.types import InvalidRpcUrlError, NonceError, RPCError, TxRpcError

from ..helpers.wait import free_port, run_concurrently
from .hostile import HostileServer, backlog_full
from .scripted import Raw, Reply, Request, RpcFailure, ScriptedServer, rpc_node

Row = Callable[..., None]

TASK = "0x" + "12" * 20
BAD_QUANTITIES = ["banana", None, 12.5, [], {}, "0x", "0xzz", "-0x1", "0x" + "f" * 70, True, ""]
BAD_DATA = [12, None, "0xabc", "zz", [], {"data": "0x"}]
BAD_RECEIPTS = [
    {"blockNumber": None, "logs": [], "gasUsed": "0x1"},
    {"blockNumber": "banana", "logs": [], "gasUsed": "0x1"},
    {"blockNumber": "0x1", "logs": "none", "gasUsed": "0x1"},
    {
        "blockNumber": "0x1",
        "logs": [{"topics": "x", "data": "0x", "address": "0x00"}],
        "gasUsed": "0x1",
    },
    {"blockNumber": "0x1", "logs": [], "gasUsed": "0x1", "status": "ok"},
    [],
    "0x1",
]
BAD_BLOCKS = [
    {"timestamp": None},
    {"timestamp": "noon"},
    {"number": "x", "timestamp": "0x1"},
    [],
    7,
]
BAD_LOGS = [None, {}, [1], [{"topics": None, "data": "0x", "address": "0x00"}], "0x"]

MALFORMED: list[tuple[str, Any]] = [
    *(("eth_chainId", v) for v in BAD_QUANTITIES),
    *(("eth_blockNumber", v) for v in BAD_QUANTITIES),
    *(("eth_getTransactionCount", v) for v in BAD_QUANTITIES[:6]),
    *(("eth_call", v) for v in BAD_DATA),
    *(("eth_getTransactionReceipt", v) for v in BAD_RECEIPTS),
    *(("eth_getBlockByNumber", v) for v in BAD_BLOCKS),
    *(("eth_getLogs", v) for v in BAD_LOGS),
]


def _params(method: str) -> list[Any]:
    return {
        "eth_getTransactionCount": [TASK, "latest"],
        "eth_call": [{"to": TASK, "data": "0x"}, "latest"],
        "eth_getTransactionReceipt": ["0x" + "ab" * 32],
        "eth_getBlockByNumber": ["latest", False],
        "eth_getLogs": [{"fromBlock": "0x0"}],
    }.get(method, [])


@pytest.fixture
def node() -> Iterator[Callable[[Callable[[str, list[Any]], Any]], str]]:
    servers: list[ScriptedServer] = []

    def start(result_for: Callable[[str, list[Any]], Any]) -> str:
        server = ScriptedServer(rpc_node(result_for)).__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__()


@pytest.mark.parametrize(
    ("method", "value"), MALFORMED, ids=[f"{m}={v!r}"[:60] for m, v in MALFORMED]
)
def test_malformed_result_is_a_typed_error(
    node: Callable[..., str], row: Row, method: str, value: Any
) -> None:
    url = node(lambda m, p: value)
    with pytest.raises(rpc.MalformedAnswer) as info:
        rpc.request(url, method, _params(method))
    assert isinstance(info.value, rpc.TransportError)
    assert len(str(info.value)) < 160 and "\n" not in str(info.value)
    row(
        area="rpc answers",
        case=f"{method} = {json.dumps(value)[:40]}",
        injected="a JSON-RPC answer whose result has the wrong shape",
        outcome="MalformedAnswer (a TransportError), one line",
    )


_GARBAGE_NONCE_NODE = {
    "eth_chainId": "0x539",
    "eth_estimateGas": "0x30000",
    "eth_gasPrice": "0x1",
    "eth_maxPriorityFeePerGas": "0x1",
    "eth_getBlockByNumber": {"number": "0x1", "timestamp": "0x1", "baseFeePerGas": "0x1"},
    "eth_call": "0x",
}


@pytest.mark.parametrize("value", BAD_QUANTITIES[:6], ids=repr)
def test_a_garbage_nonce_is_an_rpc_error_not_a_nonce_error(
    node: Callable[..., str], row: Row, value: Any
) -> None:
    """A nonce read answered with garbage is a malformed node answer (RPCError; TxRpcError
    during a send), never NonceError, which means collisions outlasted the retries."""
    url = node(lambda m, p: value if m == "eth_getTransactionCount" else _GARBAGE_NONCE_NODE[m])
    signer = Account.from_key("0x" + "11" * 32)
    with ogpu.using(ChainId.OGPU_DEVNET, rpc=url):
        with pytest.raises(RPCError) as read:
            ogpu.get_nonce_info(address=TASK)
        with pytest.raises(TxRpcError) as sent:
            vault.deposit(signer.address, 1, signer=signer)
    for info in (read, sent):
        assert not isinstance(info.value, NonceError)
        assert info.value.method == "eth_getTransactionCount"
    row(
        area="rpc answers",
        case=f"eth_getTransactionCount = {json.dumps(value)[:40]} (nonce read)",
        injected="a nonce that is not a quantity",
        outcome="RPCError (TxRpcError during a send), not NonceError",
    )


RAW_BODIES: list[tuple[str, bytes, type[Exception]]] = [
    ("not JSON", b"not json", rpc.TransportError),
    ("HTML page", b"<html><body>502</body></html>", rpc.TransportError),
    ("empty body", b"", rpc.TransportError),
    ("JSON array for one request", b"[]", rpc.TransportError),
    ("neither result nor error", b'{"jsonrpc": "2.0", "id": 1}', rpc.TransportError),
    (
        "answer to another id",
        b'{"jsonrpc": "2.0", "id": 999999, "result": "0x1"}',
        rpc.TransportError,
    ),
    ("error that is a string", b'{"jsonrpc": "2.0", "id": null, "error": "boom"}', rpc.NodeError),
    ("JSON null", b"null", rpc.TransportError),
    ("truncated JSON", b'{"jsonrpc": "2.0", "result": "0x', rpc.TransportError),
]


@pytest.mark.parametrize(
    ("label", "body", "kind"), RAW_BODIES, ids=[label for label, _, _ in RAW_BODIES]
)
def test_malformed_body_is_a_typed_error(
    label: str, body: bytes, kind: type[Exception], row: Row
) -> None:
    with ScriptedServer(lambda r: Reply(body=body)) as server, pytest.raises(kind) as info:
        rpc.request(server.url, "eth_blockNumber", [])
    assert len(str(info.value)) < 160
    row(
        area="rpc answers",
        case=label,
        injected=f"HTTP 200 with body {body[:30]!r}",
        outcome=kind.__name__,
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503, 504])
@pytest.mark.slow
def test_http_status_without_jsonrpc_body(status: int, row: Row) -> None:
    with ScriptedServer(lambda r: Reply(status=status, body=b"nope")) as server:
        started = time.monotonic()
        with pytest.raises(rpc.TransportError, match=f"HTTP {status}"):
            rpc.request(server.url, "eth_blockNumber", [])
        transient = status == 429 or status >= 500
        assert server.requests == (READS.max_attempts if transient else 1)
        assert time.monotonic() - started < 5
    row(
        area="rpc answers",
        case=f"HTTP {status}",
        injected=f"HTTP {status}, body not JSON-RPC",
        outcome=f"TransportError; {READS.max_attempts if transient else 1} attempt(s) "
        "(reads retry 429/5xx only)",
    )


def test_jsonrpc_error_in_a_4xx_answer_is_the_node_error(row: Row) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "limit"}})
    with (
        ScriptedServer(lambda r: Reply(status=400, body=body.encode())) as server,
        pytest.raises(rpc.NodeError, match="limit"),
    ):
        rpc.request(server.url, "eth_blockNumber", [])
    row(
        area="rpc answers",
        case="error object under HTTP 400",
        injected="HTTP 400 carrying a JSON-RPC error object",
        outcome="NodeError with the node's message",
    )


def test_batch_answers_are_matched_by_id_and_checked_one_by_one(row: Row) -> None:
    def result_for(method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return "banana"
        if method == "eth_call":
            raise RpcFailure(3, "execution reverted")
        return "0x10"

    with ScriptedServer(rpc_node(result_for)) as server:
        calls: list[tuple[str, list[Any]]] = [
            ("eth_blockNumber", []),
            ("eth_chainId", []),
            ("eth_call", _params("eth_call")),
        ]
        head, chain, call = rpc.batch(server.url, calls)
        assert server.requests == 1  # one HTTP request, answered in reverse order
    assert head == "0x10"
    assert isinstance(chain, rpc.MalformedAnswer)
    assert isinstance(call, rpc.ExecutionReverted)
    row(
        area="rpc answers",
        case="batch in reverse order, one item malformed, one reverted",
        injected="batch answer out of order; eth_chainId 'banana'; eth_call reverted",
        outcome="each item matched by id: result, MalformedAnswer, ExecutionReverted",
    )


@pytest.mark.parametrize(
    ("label", "answer", "kind"),
    [
        (
            "error object for the batch",
            Raw({"error": {"code": -32600, "message": "no batches"}}),
            rpc.NodeError,
        ),
        ("not a list", Raw(b"{}"), rpc.TransportError),
        ("garbage", Raw(b"x"), rpc.TransportError),
    ],
)
def test_batch_answer_that_is_not_a_list(
    label: str, answer: Raw, kind: type[Exception], row: Row
) -> None:
    body = answer.value if isinstance(answer.value, bytes) else json.dumps(answer.value).encode()
    with ScriptedServer(lambda r: Reply(body=body)) as server, pytest.raises(kind):
        rpc.batch(server.url, [("eth_blockNumber", []), ("eth_chainId", [])])
    row(
        area="rpc answers",
        case=f"batch: {label}",
        injected=body[:40].decode(),
        outcome=kind.__name__,
    )


def test_a_batch_missing_an_answer_fails_that_item_only(row: Row) -> None:
    def drop_second(request: Request) -> Reply:
        items = request.json
        return Reply(
            body=json.dumps([{"jsonrpc": "2.0", "id": items[0]["id"], "result": "0x1"}]).encode()
        )

    with ScriptedServer(drop_second) as server:
        first, second = rpc.batch(server.url, [("eth_blockNumber", []), ("eth_chainId", [])])
    assert first == "0x1" and isinstance(second, rpc.TransportError)
    row(
        area="rpc answers",
        case="batch with an answer missing",
        injected="the node answers one of two batch items",
        outcome="that item TransportError, the other its result",
    )


# -- the SDK surface --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["banana", None, 12, "0xzz"])
def test_sdk_read_of_a_malformed_answer_is_rpc_error(
    node: Callable[..., str], mainnet_at: Callable[[str], None], value: Any, row: Row
) -> None:
    mainnet_at(node(lambda m, p: value))
    with pytest.raises(RPCError) as info:
        Task(TASK).snapshot()
    assert "malformed" in str(info.value)
    row(
        area="rpc answers",
        case=f"Task.snapshot(), eth_call = {json.dumps(value)}",
        injected="the node answers eth_call with a non-hex result",
        outcome="RPCError 'malformed answer'",
    )


@pytest.mark.parametrize("value", ["banana", None, [], "0x", True])
def test_chain_id_probe_of_a_malformed_answer(
    node: Callable[..., str], value: Any, row: Row
) -> None:
    url = node(lambda m, p: value)
    with pytest.raises(InvalidRpcUrlError, match="malformed"):
        Web3Manager.probe_chain_id(url)
    row(
        area="rpc answers",
        case=f"probe_chain_id, eth_chainId = {json.dumps(value)}",
        injected="eth_chainId answered with a non-quantity",
        outcome="InvalidRpcUrlError 'malformed answer'",
    )


# -- connection failures: one line, under 160 characters, what and why -------------------------


def _portless(text: str) -> str:
    return re.sub(r":\d{2,5}\b", ":PORT", text)


def _failure(url: str, budget: float = 1.0) -> Exception:
    try:
        rpc.request(url, "eth_blockNumber", [], budget=net.Budget.after(budget))
    except rpc.TransportError as exc:
        return exc
    raise AssertionError("no failure")


SECRET_URL = "http://alice:hunter2@127.0.0.1:{port}/v3/APIKEY0123456789?token=t0ken"


@pytest.mark.slow
@pytest.mark.parametrize("case", ["refused", "dns", "timeout", "connect-timeout", "http-502"])
def test_connection_failures_say_what_was_tried_and_why(case: str, row: Row) -> None:
    cleanup: list[Any] = []
    if case == "refused":
        port, cause = free_port(), "refused"
    elif case == "dns":
        port, cause = 8545, "DNS"
    elif case == "timeout":
        server = HostileServer("hang").__enter__()
        cleanup.append(server.stop)
        port, cause = server.port, "timed out"
    elif case == "connect-timeout":
        listener, fillers, address = backlog_full()
        cleanup += [s.close for s in (listener, *fillers)]
        port, cause = address[1], "timed out"
    else:
        answer = ScriptedServer(lambda r: Reply(status=502, body=b"bad gateway")).__enter__()
        cleanup.append(answer.__exit__)
        port, cause = int(answer.url.rsplit(":", 1)[1]), "HTTP 502"
    url = SECRET_URL.format(port=port)
    if case == "dns":
        url = url.replace("127.0.0.1", "no-such-node.invalid")
    try:
        error = _failure(url)
    finally:
        for close in cleanup:
            close()
    text = str(error)
    assert cause in text, text
    assert len(text) < 160 and "\n" not in text
    assert all(secret not in text for secret in ("hunter2", "APIKEY", "t0ken", "alice"))
    host = "no-such-node.invalid" if case == "dns" else f"127.0.0.1:{port}"
    assert host in text
    if case != "http-502":
        assert error.__cause__ is not None  # the full detail stays in the chain
    row(
        area="rpc answers",
        case=f"connection failure: {case}",
        injected="URL with user:password, an API key in the path and a query token",
        outcome=f"one line under 160 chars: '{_portless(text)}'",
    )


# -- the transport's own promises ---------------------------------------------------------------


def _counting() -> Callable[[str, list[Any]], Any]:
    return lambda method, params: "0x2a"


@pytest.mark.slow
def test_keep_alive_reuses_one_connection(row: Row) -> None:
    with ScriptedServer(rpc_node(_counting())) as server:
        transport = HttpTransport(server.url)
        for _ in range(30):
            assert transport.request("eth_blockNumber", []) == "0x2a"
        transport.close()
    assert (server.requests, server.connections) == (30, 1)
    row(
        area="rpc answers",
        case="keep-alive",
        injected="30 sequential calls",
        outcome="1 TCP connection",
    )


def test_threads_share_a_transport(row: Row) -> None:
    def echo(method: str, params: list[Any]) -> Any:
        return params[0]

    with ScriptedServer(rpc_node(echo)) as server:
        transport = HttpTransport(server.url)
        errors: list[str] = []

        def work(n: int) -> None:
            for i in range(10):
                value = f"0x{n:02x}{i:02x}"
                if transport.request("eth_getBalance", [value]) != value:
                    errors.append(value)

        run_concurrently([functools.partial(work, n) for n in range(16)])
        transport.close()
    assert errors == [] and server.requests == 160
    assert server.connections <= 16
    row(
        area="rpc answers",
        case="16 threads x 10 calls",
        injected="concurrent calls on one transport",
        outcome="every answer to its own call; at most 16 connections",
    )


@pytest.mark.slow
def test_sends_are_never_resent_by_the_transport(row: Row) -> None:
    with ScriptedServer(lambda r: Reply(status=502, body=b"")) as server:
        with pytest.raises(rpc.TransportError):
            rpc.request(server.url, "eth_sendRawTransaction", ["0x00"])
        sends = server.requests
        with pytest.raises(rpc.TransportError):
            rpc.request(server.url, "eth_blockNumber", [])
    assert (sends, server.requests - sends) == (1, READS.max_attempts)
    row(
        area="rpc answers",
        case="no blind resend",
        injected="HTTP 502 to eth_sendRawTransaction and to eth_blockNumber",
        outcome="the send is tried once (its outcome is the executor's to settle); reads "
        f"{READS.max_attempts} times",
    )


def test_a_connection_the_node_closed_is_not_reused(row: Row) -> None:
    with ScriptedServer(rpc_node(_counting()), silent_close=True) as server:
        transport = HttpTransport(server.url)
        answers = []
        for _ in range(10):
            answers.append(transport.request("eth_blockNumber", []))
            time.sleep(0.02)  # the server's close reaches the client
    assert answers == ["0x2a"] * 10 and server.requests == 10
    row(
        area="rpc answers",
        case="closed keep-alive connections",
        injected="the node closes every connection after answering, without saying so",
        outcome="10 of 10 calls answered, each once (dead idle connections are not reused)",
    )


def test_transport_imports_no_web3_requests_or_eth_abi(row: Row) -> None:
    with ScriptedServer(rpc_node(_counting())) as server:
        code = (
            "import sys\n"
            "from ogpu.chain import rpc\n"
            "from ogpu.chain.transport import READS, HttpTransport\n"
            f"url = {server.url!r}\n"
            "assert rpc.request(url, 'eth_blockNumber', []) == '0x2a'\n"
            "calls = [('eth_chainId', []), ('eth_blockNumber', [])]\n"
            "assert HttpTransport(url).batch(calls) == ['0x2a', '0x2a']\n"
            "heavy = ('web3', 'requests', 'eth_abi', 'eth_account')\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
            "assert not bad, bad\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    row(
        area="rpc answers",
        case="import hygiene",
        injected="a fresh process: import ogpu.chain.rpc and the transport, call and batch",
        outcome="no web3, requests, eth_abi or eth_account in sys.modules",
    )
