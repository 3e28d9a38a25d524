"""Ethereum JSON-RPC 2.0 over HTTP for an in-process eth-tester (py-evm) chain.

:class:`JsonRpcDispatcher` turns JSON-RPC requests into calls on an
``EthereumTester`` (every chain access is made while holding the lock handed
in, so the chain can be shared with in-process users); :class:`RpcServer` serves
it with the standard library's threading HTTP server (HTTP/1.1 keep-alive,
batches, CORS). Behaviour follows geth/anvil where clients depend on it: revert
errors carry the revert data as 0x hex in ``error.data`` (code 3 with data,
-32000 without), unknown blocks/transactions are ``null``, and anvil/ganache
style devnet controls are available (``evm_increaseTime``, ``evm_mine``,
``evm_snapshot``, ``evm_revert``). An ``eth_call`` gets at most ``call_gas_cap``
gas (geth's ``--rpc.gascap``, default 50,000,000), whatever the block gas limit.

Block timestamps follow the wall clock plus the ``evm_increaseTime`` offset:
the pending block's timestamp is refreshed before a transaction is mined.

The methods live in :mod:`ogpu.devnet.jsonrpc` (one module per concern); this module
serves them over HTTP and keeps the public names importable from here.
"""

from __future__ import annotations

from ogpu._jsonsafe import MAX_JSON_DEPTH, nesting_depth
from ogpu.devnet.faults import DROP, MainnetFaults
from ogpu.devnet.httpbase import BackgroundHTTPServer, KeepAliveHandler, answer_preflight
from ogpu.devnet.jsonrpc.core import DEFAULT_CALL_GAS_CAP, DEFAULT_PRIORITY_FEE
from ogpu.devnet.jsonrpc.dispatcher import MAX_BATCH, JsonRpcDispatcher
from ogpu.devnet.jsonrpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    REVERT_ERROR,
    SERVER_ERROR,
    RpcError,
    _encode,
    _error_response,
)
from ogpu.devnet.jsonrpc.values import (
    LogCriteria,
    parse_address,
    parse_data,
    parse_hash,
    parse_quantity,
)

__all__ = [
    "DEFAULT_CALL_GAS_CAP",
    "DEFAULT_PRIORITY_FEE",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "MAX_BATCH",
    "MAX_RPC_BODY",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "REVERT_ERROR",
    "SERVER_ERROR",
    "JsonRpcDispatcher",
    "LogCriteria",
    "RpcError",
    "RpcServer",
    "parse_address",
    "parse_data",
    "parse_hash",
    "parse_quantity",
]

MAX_RPC_BODY = 32 * 1024 * 1024


# -- HTTP ----------------------------------------------------------------------------------------


class _RpcRequestHandler(KeepAliveHandler):
    server: RpcServer

    def _send_error_json(self, status: int, error: RpcError) -> None:
        self.close_connection = True
        self._send(status, _encode(_error_response(None, error)))

    def do_OPTIONS(self) -> None:
        answer_preflight(self, "POST, OPTIONS", max_age=86400)

    def do_GET(self) -> None:
        self.send_response(405)
        body = b'{"error":"POST JSON-RPC 2.0 requests to this URL"}'
        self.send_header("Allow", "POST, OPTIONS")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self._send_error_json(411, RpcError(INVALID_REQUEST, "Content-Length is required"))
            return
        length = int(length_header)
        if length > self.server.max_body:
            error = RpcError(INVALID_REQUEST, f"request body too large (> {self.server.max_body})")
            self._send_error_json(413, error)
            return
        body = self.rfile.read(length)
        if nesting_depth(body) > MAX_JSON_DEPTH:
            error = RpcError(PARSE_ERROR, f"parse error: nested deeper than {MAX_JSON_DEPTH}")
            self._send_error_json(400, error)
            return
        faults = self.server.faults
        if faults is None:
            answer = self.server.dispatcher.handle_body(body)
        else:
            answer = faults.answer(body, self.server.dispatcher)
            if answer == DROP:
                self.close_connection = True
                self.connection.close()
                return
        if answer is None:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, answer)


class RpcServer(BackgroundHTTPServer):
    """HTTP JSON-RPC server for a :class:`JsonRpcDispatcher`; binds on construction.

    ``port=0`` picks a free port (see :attr:`url`). ``faults`` turns on the
    mainnet fault mode (:mod:`ogpu.devnet.faults`; off by default). Raises
    OSError when the address cannot be bound.
    """

    def __init__(
        self,
        dispatcher: JsonRpcDispatcher,
        host: str = "127.0.0.1",
        port: int = 8545,
        *,
        max_body: int = MAX_RPC_BODY,
        faults: MainnetFaults | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.max_body = max_body
        self.faults = faults
        super().__init__(host, port, _RpcRequestHandler, name="ogpu-devnet-rpc")
