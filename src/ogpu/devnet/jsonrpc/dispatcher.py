"""The devnet's JSON-RPC dispatcher: the method table, request and batch framing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ogpu._jsonsafe import loads_bounded
from ogpu.devnet.jsonrpc.blocks import BlockMethods
from ogpu.devnet.jsonrpc.control import ControlMethods
from ogpu.devnet.jsonrpc.core import DEFAULT_PRIORITY_FEE, ZERO_ADDRESS
from ogpu.devnet.jsonrpc.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    JSON,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
    _encode,
    _error_response,
    _invalid,
)
from ogpu.devnet.jsonrpc.logs import LogMethods
from ogpu.devnet.jsonrpc.sending import SendMethods
from ogpu.devnet.jsonrpc.values import Params, _check_arity, _hex

if TYPE_CHECKING:
    pass

# The name this logger had before the split, so logging settings keep applying.
logger = logging.getLogger("ogpu.devnet.server")

MAX_BATCH = 1000
_NO_PARAMS = frozenset(
    {
        "web3_clientVersion",
        "net_version",
        "net_listening",
        "net_peerCount",
        "eth_chainId",
        "eth_syncing",
        "eth_mining",
        "eth_hashrate",
        "eth_coinbase",
        "eth_accounts",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
    }
)


class JsonRpcDispatcher(BlockMethods, SendMethods, LogMethods, ControlMethods):
    """Answers Ethereum JSON-RPC requests from an ``EthereumTester`` (PyEVM backend).

    ``tester`` is the eth-tester instance, ``lock`` the lock held around every
    access to it, ``unlocked`` the accounts ``eth_sendTransaction``/``eth_sign``
    may use (their keys stay in memory and are never logged or returned).
    Thread-safe.
    """

    def _method_table(self) -> dict[str, Callable[[Params], JSON]]:
        return {
            "web3_clientVersion": self._web3_client_version,
            "web3_sha3": self._web3_sha3,
            "net_version": self._net_version,
            "net_listening": lambda params: True,
            "net_peerCount": lambda params: "0x0",
            "eth_chainId": self._eth_chain_id,
            "eth_syncing": lambda params: False,
            "eth_mining": lambda params: False,
            "eth_hashrate": lambda params: "0x0",
            "eth_coinbase": lambda params: ZERO_ADDRESS,
            "eth_accounts": self._eth_accounts,
            "eth_blockNumber": self._eth_block_number,
            "eth_gasPrice": self._eth_gas_price,
            "eth_maxPriorityFeePerGas": lambda params: _hex(DEFAULT_PRIORITY_FEE),
            "eth_feeHistory": self._eth_fee_history,
            "eth_getBlockByNumber": self._eth_get_block_by_number,
            "eth_getBlockByHash": self._eth_get_block_by_hash,
            "eth_getBlockTransactionCountByNumber": self._eth_get_block_tx_count_by_number,
            "eth_getBlockTransactionCountByHash": self._eth_get_block_tx_count_by_hash,
            "eth_getUncleCountByBlockNumber": lambda params: "0x0",
            "eth_getUncleCountByBlockHash": lambda params: "0x0",
            "eth_getBalance": self._eth_get_balance,
            "eth_getCode": self._eth_get_code,
            "eth_getStorageAt": self._eth_get_storage_at,
            "eth_getTransactionCount": self._eth_get_transaction_count,
            "eth_call": self._eth_call,
            "eth_estimateGas": self._eth_estimate_gas,
            "eth_sendRawTransaction": self._eth_send_raw_transaction,
            "eth_sendTransaction": self._eth_send_transaction,
            "eth_sign": self._eth_sign,
            "personal_sign": self._personal_sign,
            "eth_getTransactionByHash": self._eth_get_transaction_by_hash,
            "eth_getTransactionByBlockNumberAndIndex": self._eth_get_tx_by_number_and_index,
            "eth_getTransactionByBlockHashAndIndex": self._eth_get_tx_by_hash_and_index,
            "eth_getTransactionReceipt": self._eth_get_transaction_receipt,
            "eth_getBlockReceipts": self._eth_get_block_receipts,
            "eth_getLogs": self._eth_get_logs,
            "eth_newFilter": self._eth_new_filter,
            "eth_newBlockFilter": self._eth_new_block_filter,
            "eth_newPendingTransactionFilter": self._eth_new_pending_transaction_filter,
            "eth_getFilterChanges": self._eth_get_filter_changes,
            "eth_getFilterLogs": self._eth_get_filter_logs,
            "eth_uninstallFilter": self._eth_uninstall_filter,
            "evm_increaseTime": self._evm_increase_time,
            "evm_mine": self._evm_mine,
            "evm_snapshot": self._evm_snapshot,
            "evm_revert": self._evm_revert,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(unlocked={len(self._unlocked)})"

    @property
    def methods(self) -> tuple[str, ...]:
        """Names of the supported JSON-RPC methods."""
        return tuple(sorted(self._methods))

    @property
    def time_offset(self) -> int:
        """Seconds added to the wall clock for new blocks (``evm_increaseTime``)."""
        return self._time_offset

    @time_offset.setter
    def time_offset(self, value: int) -> None:
        self._time_offset = int(value)

    # -- JSON-RPC framing --------------------------------------------------------------

    def handle_body(self, body: bytes) -> bytes | None:
        """Answer one HTTP body (a request or a batch); ``None`` when nothing is due.

        Chain work per request happens under the lock; never raises.
        """
        try:
            payload = loads_bounded(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _encode(_error_response(None, RpcError(PARSE_ERROR, f"parse error: {exc}")))
        if isinstance(payload, list):
            if not payload:
                error = RpcError(INVALID_REQUEST, "empty batch")
                return _encode(_error_response(None, error))
            if len(payload) > MAX_BATCH:
                error = RpcError(INVALID_REQUEST, f"batch too large (at most {MAX_BATCH})")
                return _encode(_error_response(None, error))
            answers = [answer for item in payload if (answer := self._handle_one(item))]
            return _encode(answers) if answers else None
        answer = self._handle_one(payload)
        return _encode(answer) if answer is not None else None

    def _handle_one(self, item: JSON) -> dict[str, JSON] | None:
        if not isinstance(item, dict):
            return _error_response(None, RpcError(INVALID_REQUEST, "invalid request"))
        request_id = item.get("id")
        if isinstance(request_id, (bool, list, dict)):
            return _error_response(None, RpcError(INVALID_REQUEST, "invalid request id"))
        notification = "id" not in item
        method = item.get("method")
        params = item.get("params", [])
        if item.get("jsonrpc") != "2.0":
            error = RpcError(INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
            return _error_response(request_id, error)
        if not isinstance(method, str):
            error = RpcError(INVALID_REQUEST, 'invalid request: "method" must be a string')
            return _error_response(request_id, error)
        if params is None:
            params = []
        if not isinstance(params, list):
            error = _invalid("params must be an array")
            return None if notification else _error_response(request_id, error)
        try:
            result = self.call(method, params)
        except RpcError as exc:
            return None if notification else _error_response(request_id, exc)
        if notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def call(self, method: str, params: Params) -> JSON:
        """Run one method; return its JSON result. Raises RpcError (never anything else)."""
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if method in _NO_PARAMS:
            _check_arity(params, 0)
        logger.debug("rpc %s", method)
        try:
            with self._lock:
                return handler(params)
        except RpcError:
            raise
        except Exception as exc:
            logger.exception("internal error in %s", method)
            raise RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}") from exc
