"""The devnet's HTTP servers under a burst: every client answered, none reset.

A real ``RpcServer`` and ``StoreServer`` on loopback; ``burst`` opens the connections at
the same instant (a barrier), sends one request on each and reads the answer. Before
the listen backlog was raised (socketserver's default is 5), about half of 100-200
simultaneous clients were reset or timed out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import JsonRpcDispatcher, RpcServer
from ogpu.devnet.store import ContentStore, StoreServer

from .burst import burst

Row = Callable[..., None]


@pytest.fixture(scope="module")
def rpc_server(devnet_session: Devnet) -> Iterator[RpcServer]:
    server = RpcServer(
        JsonRpcDispatcher(devnet_session.tester, devnet_session.lock), "127.0.0.1", 0
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store_server() -> Iterator[StoreServer]:
    with StoreServer("127.0.0.1", 0, store=ContentStore()) as server:
        yield server


def _post(body: bytes, path: str = "/", content_type: str = "application/json") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("count", [200, 400])
@pytest.mark.parametrize("method", ["eth_blockNumber", "eth_chainId", "eth_getBlockByNumber"])
@pytest.mark.slow
def test_rpc_server_burst(rpc_server: RpcServer, count: int, method: str, row: Row) -> None:
    params = ["latest", False] if method == "eth_getBlockByNumber" else []
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    outcomes = burst(rpc_server.port, _post(body), count)
    assert outcomes == {"200": count}, outcomes
    row(
        area="devnet concurrency",
        case=f"JSON-RPC server: {count} x {method}",
        injected=f"{count} simultaneous connections",
        outcome=f"{count} answered, 0 resets",
    )


@pytest.mark.slow
@pytest.mark.parametrize("count", [200, 400])
def test_store_burst(store_server: StoreServer, count: int, row: Row) -> None:
    cid = store_server.store.put(b'{"a": 1}')
    get = f"GET /ipfs/{cid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    assert burst(store_server.port, get, count) == {"200": count}
    boundary = "b0undary"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n'
        f"Content-Type: application/json\r\n\r\n{{}}\r\n--{boundary}--\r\n"
    ).encode()
    add = _post(form, "/api/v0/add", f"multipart/form-data; boundary={boundary}")
    assert burst(store_server.port, add, count) == {"200": count}
    row(
        area="devnet concurrency",
        case=f"content store: {count} GET + {count} POST /api/v0/add",
        injected=f"{count} simultaneous connections, twice",
        outcome=f"{2 * count} answered, 0 resets",
    )
