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
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from eth.exceptions import (
    HeaderNotFound,
    InvalidInstruction,
    OutOfGas,
    Revert,
    UnrecognizedTransactionType,
    VMError,
)
from eth.vm.spoof import SpoofTransaction
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_bloom.bloom import BloomFilter
from eth_tester.exceptions import (  # type: ignore[import-untyped]
    BlockNotFound,
    TransactionFailed,
    TransactionNotFound,
)
from eth_tester.exceptions import (
    ValidationError as TesterValidationError,
)
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EthValidationError

from ogpu._jsonsafe import MAX_JSON_DEPTH, loads_bounded, nesting_depth
from ogpu.devnet.faults import DROP, MainnetFaults
from ogpu.devnet.store import BackgroundHTTPServer

if TYPE_CHECKING:
    from eth.abc import (
        BlockAPI,
        BlockHeaderAPI,
        ComputationAPI,
        MiningChainAPI,
        SignedTransactionAPI,
    )
    from eth_account.signers.local import LocalAccount

__all__ = [
    "DEFAULT_CALL_GAS_CAP",
    "DEFAULT_PRIORITY_FEE",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "REVERT_ERROR",
    "SERVER_ERROR",
    "JsonRpcDispatcher",
    "RpcError",
    "RpcServer",
]

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
REVERT_ERROR = 3

DEFAULT_PRIORITY_FEE = 10**9
#: Gas an ``eth_call`` may use when it names none, and at most (geth's ``--rpc.gascap``
#: default). Like geth, independent of the block gas limit.
DEFAULT_CALL_GAS_CAP = 50_000_000
MAX_BATCH = 1000
# eth_estimateGas fast path: the EIP-2200 SSTORE stipend check (2300) plus slack for
# nested calls that the 64/63 factor leaves short.
_ESTIMATE_HEADROOM = 2300 + 7700
MAX_RPC_BODY = 32 * 1024 * 1024
FILTER_IDLE_SECONDS = 300.0
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
_BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
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

JSON = Any
Params = list[JSON]


class RpcError(Exception):
    """A JSON-RPC error object: ``code``, ``message`` and optional ``data`` (0x hex or JSON)."""

    def __init__(self, code: int, message: str, data: JSON = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, JSON]:
        """The ``error`` member of a JSON-RPC response."""
        error: dict[str, JSON] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def _invalid(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {message}")


# -- parameter parsing ------------------------------------------------------------------


def _param(params: Params, index: int, name: str, *, required: bool = True) -> JSON:
    if index < len(params):
        return params[index]
    if required:
        raise _invalid(f"missing value for required argument {index} ({name})")
    return None


def _check_arity(params: Params, maximum: int) -> None:
    if len(params) > maximum:
        raise _invalid(f"too many arguments, want at most {maximum}")


def parse_quantity(value: JSON, name: str) -> int:
    """A JSON-RPC quantity: ``0x``-prefixed hex (or a non-negative JSON integer).

    No I/O. Raises RpcError (-32602) for anything else.
    """
    if isinstance(value, bool):
        raise _invalid(f"{name}: expected a hex quantity, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise _invalid(f"{name}: quantity must be non-negative")
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            return int(value[2:], 16)
        except ValueError:
            pass
    raise _invalid(f"{name}: expected a 0x-prefixed hex quantity, got {value!r:.80}")


def parse_data(value: JSON, name: str) -> bytes:
    """JSON-RPC data: ``0x``-prefixed hex with an even number of digits. Raises RpcError."""
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        digits = value[2:]
        if len(digits) % 2 == 0:
            try:
                return bytes.fromhex(digits)
            except ValueError:
                pass
    raise _invalid(f"{name}: expected 0x-prefixed hex data, got {value!r:.80}")


def parse_address(value: JSON, name: str) -> bytes:
    """A 20-byte address in hex (any letter case). Raises RpcError (-32602)."""
    raw = parse_data(value, name) if isinstance(value, str) else None
    if raw is None or len(raw) != 20:
        raise _invalid(f"{name}: expected a 20-byte hex address, got {value!r:.80}")
    return raw


def parse_hash(value: JSON, name: str) -> bytes:
    """A 32-byte hash in hex. Raises RpcError (-32602)."""
    raw = parse_data(value, name) if isinstance(value, str) else None
    if raw is None or len(raw) != 32:
        raise _invalid(f"{name}: expected a 32-byte hex hash, got {value!r:.80}")
    return raw


def _hex(value: int) -> str:
    return hex(value)


def _hexdata(value: bytes) -> str:
    return "0x" + value.hex()


def _hex32(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _bloom_hex(value: int) -> str:
    return "0x" + value.to_bytes(256, "big").hex()


# -- eth-tester dict -> JSON-RPC object ------------------------------------------------------

_KEY_RENAMES = {"coinbase": "miner"}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _rpc_value(key: str, value: JSON) -> JSON:
    if value is None or isinstance(value, bool):
        return value
    if key == "logs_bloom" and isinstance(value, int):
        return _bloom_hex(value)
    if isinstance(value, int):
        return _hex(value)
    if isinstance(value, (bytes, bytearray)):
        return _hexdata(bytes(value))
    if isinstance(value, str):
        if key in ("to", "contract_address") and value == "":
            return None
        return value
    if isinstance(value, dict):
        return _rpc_object(value)
    if isinstance(value, (list, tuple)):
        return [_rpc_value(key, item) for item in value]
    return value


def _rpc_object(source: dict[str, JSON], *, transaction: bool = False) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    for key, value in source.items():
        if transaction and key == "data":
            out["input"] = _rpc_value(key, value)
        elif key == "transactions" and isinstance(value, (list, tuple)):
            out["transactions"] = [
                _rpc_object(item, transaction=True) if isinstance(item, dict) else item
                for item in value
            ]
        else:
            out[_KEY_RENAMES.get(key, _camel(key))] = _rpc_value(key, value)
    return out


# -- logs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogCriteria:
    """Address/topic criteria of ``eth_getLogs`` and log filters (geth matching rules)."""

    addresses: frozenset[bytes] = frozenset()
    topics: tuple[frozenset[bytes] | None, ...] = ()

    def may_match(self, bloom: int) -> bool:
        """Cheap pre-check against a block's logs bloom (no false negatives)."""
        if bloom == 0:
            return False
        filter_ = BloomFilter(bloom)
        if self.addresses and not any(address in filter_ for address in self.addresses):
            return False
        return all(
            alternatives is None or any(topic in filter_ for topic in alternatives)
            for alternatives in self.topics
        )

    def matches(self, address: bytes, topics: Sequence[bytes]) -> bool:
        """Whether one log matches."""
        if self.addresses and address not in self.addresses:
            return False
        if len(self.topics) > len(topics):
            return False
        return all(
            alternatives is None or topic in alternatives
            for alternatives, topic in zip(self.topics, topics, strict=False)
        )


def _parse_criteria(spec: dict[str, JSON]) -> LogCriteria:
    raw_address = spec.get("address")
    if raw_address is None:
        addresses: frozenset[bytes] = frozenset()
    elif isinstance(raw_address, list):
        addresses = frozenset(parse_address(item, "address") for item in raw_address)
    else:
        addresses = frozenset({parse_address(raw_address, "address")})
    raw_topics = spec.get("topics")
    if raw_topics is None:
        raw_topics = []
    if not isinstance(raw_topics, list):
        raise _invalid("topics must be an array")
    if len(raw_topics) > 4:
        raise _invalid("at most 4 topic positions are allowed")
    topics: list[frozenset[bytes] | None] = []
    for position in raw_topics:
        if position is None:
            topics.append(None)
        elif isinstance(position, list):
            if not position or any(item is None for item in position):
                topics.append(None)
            else:
                topics.append(frozenset(parse_hash(item, "topic") for item in position))
        else:
            topics.append(frozenset({parse_hash(position, "topic")}))
    return LogCriteria(addresses=addresses, topics=tuple(topics))


@dataclass
class _Filter:
    kind: str
    cursor: int
    criteria: LogCriteria = field(default_factory=LogCriteria)
    from_tag: JSON = None
    to_tag: JSON = None
    last_poll: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class _Snapshot:
    tester_id: int
    time_offset: int


@dataclass(frozen=True)
class _CallRequest:
    sender: bytes
    to: bytes
    gas: int | None
    value: int
    data: bytes
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...]


# -- dispatcher ---------------------------------------------------------------------------


class JsonRpcDispatcher:
    """Answers Ethereum JSON-RPC requests from an ``EthereumTester`` (PyEVM backend).

    ``tester`` is the eth-tester instance, ``lock`` the lock held around every
    access to it, ``unlocked`` the accounts ``eth_sendTransaction``/``eth_sign``
    may use (their keys stay in memory and are never logged or returned).
    Thread-safe.
    """

    def __init__(
        self,
        tester: Any,
        lock: AbstractContextManager[Any],
        *,
        unlocked: Iterable[LocalAccount] = (),
        client_version: str = "ogpu-devnet",
        call_gas_cap: int = DEFAULT_CALL_GAS_CAP,
    ) -> None:
        if isinstance(call_gas_cap, bool) or not isinstance(call_gas_cap, int) or call_gas_cap < 1:
            raise ValueError(f"call_gas_cap must be a positive int, got {call_gas_cap!r}")
        self.call_gas_cap = call_gas_cap
        self._tester = tester
        self._lock = lock
        self._unlocked: dict[bytes, LocalAccount] = {
            to_canonical_address(account.address): account for account in unlocked
        }
        self._client_version = client_version
        self._time_offset = 0
        self._filters: dict[str, _Filter] = {}
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_counter = 0
        self._methods: dict[str, Callable[[Params], JSON]] = {
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

    # -- chain helpers (lock held) ------------------------------------------------------

    @property
    def _chain(self) -> MiningChainAPI:
        chain: MiningChainAPI = self._tester.backend.chain
        return chain

    def _head(self) -> BlockHeaderAPI:
        return self._chain.get_canonical_head()

    def _resolve_number(self, tag: JSON, *, allow_future: bool = False) -> int:
        """Block number for a tag ('pending' reads as 'latest'). Raises RpcError."""
        head = self._head().block_number
        if tag is None or tag in ("latest", "pending", "safe", "finalized"):
            return head
        if tag == "earliest":
            return 0
        if isinstance(tag, dict):
            if "blockHash" in tag:
                block_hash = parse_hash(tag["blockHash"], "blockHash")
                return self._header_by_hash(block_hash).block_number
            if "blockNumber" in tag:
                return self._resolve_number(tag["blockNumber"], allow_future=allow_future)
            raise _invalid("block object needs blockHash or blockNumber")
        if isinstance(tag, str) and tag not in _BLOCK_TAGS and not tag.startswith("0x"):
            raise _invalid(f"unknown block tag {tag!r:.40}")
        number = parse_quantity(tag, "block")
        if number > head and not allow_future:
            raise RpcError(SERVER_ERROR, "header not found")
        return number

    def _header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI:
        try:
            header = self._chain.get_block_header_by_hash(Hash32(block_hash))
            canonical = self._header_at(header.block_number)
        except HeaderNotFound:
            raise RpcError(SERVER_ERROR, "header not found") from None
        if canonical.hash != header.hash:
            raise RpcError(SERVER_ERROR, "header not found")
        return header

    def _header_at(self, number: int) -> BlockHeaderAPI:
        return self._chain.get_canonical_block_header_by_number(BlockNumber(number))

    def _block_at(self, number: int) -> BlockAPI:
        return self._chain.get_canonical_block_by_number(BlockNumber(number))

    def _state_header(self, tag: JSON) -> BlockHeaderAPI:
        return self._header_at(self._resolve_number(tag))

    def _sync_pending_timestamp(self, timestamp: int | None = None) -> None:
        """Move the pending block's timestamp up to the clock (plus offset) before mining."""
        chain = self._chain
        if chain.get_block().transactions:
            return
        parent = self._head().timestamp
        target = timestamp if timestamp is not None else int(time.time()) + self._time_offset
        target = max(target, parent + 1)
        if chain.header.timestamp != target:
            chain.set_header_timestamp(target)

    def _mine(self, count: int = 1, timestamp: int | None = None) -> None:
        for index in range(count):
            self._sync_pending_timestamp(timestamp if index == 0 else None)
            self._tester.mine_blocks(1)

    def block_number(self) -> int:
        """Number of the latest block (takes the lock)."""
        with self._lock:
            return int(self._head().block_number)

    def mine(self, count: int = 1) -> None:
        """Mine ``count`` empty blocks (takes the lock). Raises ValueError on a bad count."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._mine(count)

    # -- web3 / net ---------------------------------------------------------------------

    def _web3_client_version(self, params: Params) -> JSON:
        return self._client_version

    def _web3_sha3(self, params: Params) -> JSON:
        _check_arity(params, 1)
        return _hexdata(keccak(parse_data(_param(params, 0, "data"), "data")))

    def _net_version(self, params: Params) -> JSON:
        return str(self._chain.chain_id)

    def _eth_chain_id(self, params: Params) -> JSON:
        return _hex(self._chain.chain_id)

    def _eth_accounts(self, params: Params) -> JSON:
        return [to_checksum_address(address) for address in self._unlocked]

    def _eth_block_number(self, params: Params) -> JSON:
        return _hex(self._head().block_number)

    def _next_base_fee(self) -> int:
        base_fee: int = getattr(self._chain.header, "base_fee_per_gas", 0) or 0
        return base_fee

    def _eth_gas_price(self, params: Params) -> JSON:
        return _hex(self._next_base_fee() + DEFAULT_PRIORITY_FEE)

    def _eth_fee_history(self, params: Params) -> JSON:
        _check_arity(params, 3)
        count = parse_quantity(_param(params, 0, "blockCount"), "blockCount")
        if not 1 <= count <= 1024:
            raise _invalid("blockCount must be between 1 and 1024")
        newest = self._resolve_number(_param(params, 1, "newestBlock"))
        raw_percentiles = _param(params, 2, "rewardPercentiles", required=False) or []
        if not isinstance(raw_percentiles, list) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 100
            for p in raw_percentiles
        ):
            raise _invalid("rewardPercentiles must be numbers between 0 and 100")
        percentiles = [float(p) for p in raw_percentiles]
        if percentiles != sorted(percentiles):
            raise _invalid("rewardPercentiles must be increasing")
        oldest = max(0, newest - count + 1)
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        for number in range(oldest, newest + 1):
            block = self._block_at(number)
            header = block.header
            base_fee = getattr(header, "base_fee_per_gas", 0) or 0
            base_fees.append(_hex(base_fee))
            ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
            if percentiles:
                rewards.append([_hex(r) for r in self._block_rewards(block, percentiles)])
        if newest == self._head().block_number:
            base_fees.append(_hex(self._next_base_fee()))
        else:
            following = self._header_at(newest + 1)
            base_fees.append(_hex(getattr(following, "base_fee_per_gas", 0) or 0))
        result: dict[str, JSON] = {
            "oldestBlock": _hex(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
        }
        if percentiles:
            result["reward"] = rewards
        return result

    def _block_rewards(self, block: BlockAPI, percentiles: list[float]) -> list[int]:
        base_fee = getattr(block.header, "base_fee_per_gas", 0) or 0
        receipts = block.get_receipts(self._chain.chaindb)
        used: list[tuple[int, int]] = []
        previous = 0
        for transaction, receipt in zip(block.transactions, receipts, strict=True):
            gas = receipt.gas_used - previous
            previous = receipt.gas_used
            if hasattr(transaction, "max_priority_fee_per_gas"):
                tip = min(
                    transaction.max_priority_fee_per_gas,
                    transaction.max_fee_per_gas - base_fee,
                )
            else:
                tip = transaction.gas_price - base_fee
            used.append((max(tip, 0), gas))
        if not used:
            return [0 for _ in percentiles]
        used.sort()
        total = sum(gas for _, gas in used)
        out: list[int] = []
        for percentile in percentiles:
            threshold = total * percentile / 100
            cumulative = 0
            chosen = used[-1][0]
            for tip, gas in used:
                cumulative += gas
                if cumulative >= threshold:
                    chosen = tip
                    break
            out.append(chosen)
        return out

    # -- blocks ------------------------------------------------------------------------------

    def _block_json(self, identifier: int | str, full: bool) -> JSON:

        try:
            if isinstance(identifier, str) and identifier.startswith("0x"):
                block = self._tester.get_block_by_hash(identifier, full)
            else:
                block = self._tester.get_block_by_number(identifier, full)
        except BlockNotFound:
            return None
        return _rpc_object(block)

    def _block_identifier(self, tag: JSON) -> int | str | None:
        if tag == "pending":
            return "pending"
        try:
            return self._resolve_number(tag, allow_future=True)
        except RpcError as exc:
            if exc.code == SERVER_ERROR:
                return None
            raise

    def _eth_get_block_by_number(self, params: Params) -> JSON:
        _check_arity(params, 2)
        full = _param(params, 1, "fullTransactions", required=False)
        if not isinstance(full, (bool, type(None))):
            raise _invalid("fullTransactions must be a boolean")
        identifier = self._block_identifier(_param(params, 0, "block"))
        if identifier is None:
            return None
        if isinstance(identifier, int) and identifier > self._head().block_number:
            return None
        return self._block_json(identifier, bool(full))

    def _eth_get_block_by_hash(self, params: Params) -> JSON:
        _check_arity(params, 2)
        block_hash = parse_hash(_param(params, 0, "blockHash"), "blockHash")
        full = _param(params, 1, "fullTransactions", required=False)
        if not isinstance(full, (bool, type(None))):
            raise _invalid("fullTransactions must be a boolean")
        return self._block_json(_hexdata(block_hash), bool(full))

    def _count(self, block: JSON) -> JSON:
        if block is None:
            return None
        return _hex(len(block["transactions"]))

    def _eth_get_block_tx_count_by_number(self, params: Params) -> JSON:
        return self._count(self._eth_get_block_by_number(params[:1]))

    def _eth_get_block_tx_count_by_hash(self, params: Params) -> JSON:
        return self._count(self._eth_get_block_by_hash(params[:1]))

    def _tx_at(self, block: JSON, raw_index: JSON) -> JSON:
        index = parse_quantity(raw_index, "index")
        if block is None or index >= len(block["transactions"]):
            return None
        return block["transactions"][index]

    def _eth_get_tx_by_number_and_index(self, params: Params) -> JSON:
        _check_arity(params, 2)
        block = self._eth_get_block_by_number([_param(params, 0, "block"), True])
        return self._tx_at(block, _param(params, 1, "index"))

    def _eth_get_tx_by_hash_and_index(self, params: Params) -> JSON:
        _check_arity(params, 2)
        block = self._eth_get_block_by_hash([_param(params, 0, "blockHash"), True])
        return self._tx_at(block, _param(params, 1, "index"))

    # -- state ----------------------------------------------------------------------------

    def _account_and_block(self, params: Params, maximum: int = 2) -> tuple[str, int]:
        _check_arity(params, maximum)
        address = to_checksum_address(parse_address(_param(params, 0, "address"), "address"))
        number = self._resolve_number(_param(params, maximum - 1, "block", required=False))
        return address, number

    def _eth_get_balance(self, params: Params) -> JSON:
        address, number = self._account_and_block(params)
        return _hex(self._tester.get_balance(address, number))

    def _eth_get_code(self, params: Params) -> JSON:
        address, number = self._account_and_block(params)
        code = self._tester.get_code(address, number)
        return code if isinstance(code, str) else _hexdata(code)

    def _eth_get_storage_at(self, params: Params) -> JSON:
        _check_arity(params, 3)
        address = parse_address(_param(params, 0, "address"), "address")
        slot = parse_quantity(_param(params, 1, "slot"), "slot")
        if slot >= 2**256:
            raise _invalid("slot must fit in 32 bytes")
        header = self._state_header(_param(params, 2, "block", required=False))
        state = self._chain.get_vm(header).state
        return _hex32(state.get_storage(Address(address), slot))

    def _eth_get_transaction_count(self, params: Params) -> JSON:
        _check_arity(params, 2)
        address = to_checksum_address(parse_address(_param(params, 0, "address"), "address"))
        tag = _param(params, 1, "block", required=False)
        if tag == "pending":
            return _hex(self._tester.get_nonce(address, "pending"))
        return _hex(self._tester.get_nonce(address, self._resolve_number(tag)))

    # -- calls and gas ----------------------------------------------------------------------

    def _parse_call(self, raw: JSON) -> _CallRequest:
        if not isinstance(raw, dict):
            raise _invalid("transaction must be an object")
        sender = raw.get("from")
        to = raw.get("to")
        data_value = raw.get("input")
        if data_value is None:
            data_value = raw.get("data")
        elif raw.get("data") is not None and raw.get("data") != data_value:
            raise _invalid('both "data" and "input" are set but differ')
        access_list: list[tuple[bytes, tuple[int, ...]]] = []
        raw_access_list = raw.get("accessList") or []
        if not isinstance(raw_access_list, list):
            raise _invalid("accessList must be an array")
        for entry in raw_access_list:
            if not isinstance(entry, dict) or not isinstance(entry.get("storageKeys", []), list):
                raise _invalid("accessList entries need address and storageKeys")
            keys = tuple(
                int.from_bytes(parse_hash(key, "storageKey"), "big")
                for key in entry.get("storageKeys", [])
            )
            access_list.append((parse_address(entry.get("address"), "accessList address"), keys))
        gas = raw.get("gas")
        return _CallRequest(
            sender=parse_address(sender, "from") if sender is not None else bytes(20),
            to=parse_address(to, "to") if to is not None else b"",
            gas=parse_quantity(gas, "gas") if gas is not None else None,
            value=parse_quantity(raw.get("value", "0x0"), "value"),
            data=parse_data(data_value, "data") if data_value is not None else b"",
            access_list=tuple(access_list),
        )

    def _spoof(
        self, header: BlockHeaderAPI, request: _CallRequest, nonce: int, gas: int
    ) -> SignedTransactionAPI:

        builder: Any = self._chain.get_vm(header).get_transaction_builder()
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            chain_id=self._chain.chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=0,
            max_fee_per_gas=0,
            gas=gas,
            to=request.to,
            value=request.value,
            data=request.data,
            access_list=request.access_list,
        )
        spoofed: SignedTransactionAPI = SpoofTransaction(unsigned, from_=request.sender)  # type: ignore[assignment]
        return spoofed

    def _eth_call(self, params: Params) -> JSON:
        _check_arity(params, 3)
        request = self._parse_call(_param(params, 0, "transaction"))
        header = self._state_header(_param(params, 1, "block", required=False))
        overrides = _param(params, 2, "stateOverrides", required=False)
        if overrides:
            raise _invalid("state overrides are not supported")
        # As geth: the cap, not the block gas limit, bounds a call.
        gas = min(request.gas or self.call_gas_cap, self.call_gas_cap)
        vm = self._chain.get_vm(header)
        try:
            with vm.in_costless_state() as state:
                nonce = state.get_nonce(Address(request.sender))
                computation = state.apply_transaction(self._spoof(header, request, nonce, gas))
        except EthValidationError as exc:
            raise _validation_error(exc) from None
        if computation.is_error:
            raise _vm_error(computation.error, computation.output)
        return _hexdata(computation.output)

    def _estimate_fast(
        self, request: _CallRequest, header: BlockHeaderAPI, nonce: int
    ) -> int | None:
        """Geth-style estimate: run at the intrinsic gas, then at the block gas limit, then
        once at the gross gas used * 64/63 + headroom; that last limit is returned only if
        the transaction succeeds with it. ``None`` when it does not (binary search needed).

        Raises VMError when the transaction fails at the block gas limit.
        """
        with self._chain.get_vm(header).in_costless_state() as state:
            limit = state.gas_limit

            def run(gas: int) -> ComputationAPI:
                snapshot = state.snapshot()
                try:
                    return state.apply_transaction(self._spoof(header, request, nonce, gas))
                finally:
                    state.revert(snapshot)

            intrinsic: int = self._spoof(header, request, nonce, limit).intrinsic_gas
            if not run(intrinsic).is_error:
                return intrinsic
            full = run(limit)
            if full.is_error:
                raise full.error
            candidate = (limit - full.get_gas_remaining()) * 64 // 63 + _ESTIMATE_HEADROOM
            if candidate >= limit:
                return limit
            return None if run(candidate).is_error else candidate

    def _estimate(self, request: _CallRequest, header: BlockHeaderAPI) -> int:

        gas_limit = header.gas_limit
        vm = self._chain.get_vm(header)
        with vm.in_costless_state() as state:
            nonce = state.get_nonce(Address(request.sender))
        try:
            fast = self._estimate_fast(request, header, nonce)
            if fast is not None and (request.gas is None or fast <= request.gas):
                return fast
            estimate: int = self._chain.estimate_gas(
                self._spoof(header, request, nonce, request.gas or gas_limit), header
            )
        except VMError as exc:
            output = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else b""
            raise _vm_error(exc, output, gas_limit=gas_limit) from None
        except EthValidationError as exc:
            raise _validation_error(exc) from None
        if request.gas is not None and estimate > request.gas:
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({request.gas})")
        return estimate

    def _eth_estimate_gas(self, params: Params) -> JSON:
        _check_arity(params, 3)
        request = self._parse_call(_param(params, 0, "transaction"))
        header = self._state_header(_param(params, 1, "block", required=False))
        if _param(params, 2, "stateOverrides", required=False):
            raise _invalid("state overrides are not supported")
        return _hex(self._estimate(request, header))

    # -- sending ------------------------------------------------------------------------------

    def _submit(self, raw: bytes) -> str:

        chain = self._chain
        try:
            transaction = chain.get_vm().get_transaction_builder().decode(raw)
            sender = transaction.sender
        except (UnrecognizedTransactionType, EthValidationError, ValueError, TypeError) as exc:
            raise RpcError(SERVER_ERROR, f"invalid transaction: {exc}") from None
        except Exception as exc:
            raise RpcError(SERVER_ERROR, f"invalid transaction: {type(exc).__name__}") from None
        tx_chain_id = getattr(transaction, "chain_id", None)
        if tx_chain_id is not None and tx_chain_id != chain.chain_id:
            raise RpcError(
                SERVER_ERROR, f"invalid chain id {tx_chain_id} (this chain is {chain.chain_id})"
            )
        expected = chain.get_vm().state.get_nonce(sender)
        if transaction.nonce < expected:
            raise RpcError(
                SERVER_ERROR, f"nonce too low: next nonce {expected}, tx nonce {transaction.nonce}"
            )
        if transaction.nonce > expected:
            raise RpcError(
                SERVER_ERROR,
                f"nonce too high: next nonce {expected}, tx nonce {transaction.nonce} "
                "(the devnet mines every transaction at once and keeps no queue)",
            )
        self._sync_pending_timestamp()
        try:
            tx_hash: str = self._tester.send_raw_transaction(_hexdata(raw))
        except (EthValidationError, TesterValidationError, TransactionFailed) as exc:
            raise _validation_error(exc) from None
        return tx_hash

    def _eth_send_raw_transaction(self, params: Params) -> JSON:
        _check_arity(params, 1)
        return self._submit(parse_data(_param(params, 0, "transaction"), "transaction"))

    def _signer(self, raw_address: JSON, name: str) -> LocalAccount:
        address = parse_address(raw_address, name)
        account = self._unlocked.get(address)
        if account is None:
            raise RpcError(SERVER_ERROR, f"unknown account {to_checksum_address(address)}")
        return account

    def _eth_send_transaction(self, params: Params) -> JSON:
        _check_arity(params, 1)
        raw = _param(params, 0, "transaction")
        if not isinstance(raw, dict):
            raise _invalid("transaction must be an object")
        if raw.get("from") is None:
            raise _invalid('"from" is required')
        account = self._signer(raw["from"], "from")
        request = self._parse_call(raw)
        head = self._head()
        nonce = (
            parse_quantity(raw["nonce"], "nonce")
            if raw.get("nonce") is not None
            else self._chain.get_vm().state.get_nonce(Address(request.sender))
        )
        gas = request.gas if request.gas is not None else self._estimate(request, head)
        tx: dict[str, Any] = {
            "chainId": self._chain.chain_id,
            "nonce": nonce,
            "gas": gas,
            "value": request.value,
            "data": request.data,
        }
        if request.to:
            tx["to"] = to_checksum_address(request.to)
        if raw.get("gasPrice") is not None:
            tx["gasPrice"] = parse_quantity(raw["gasPrice"], "gasPrice")
        else:
            tip = (
                parse_quantity(raw["maxPriorityFeePerGas"], "maxPriorityFeePerGas")
                if raw.get("maxPriorityFeePerGas") is not None
                else DEFAULT_PRIORITY_FEE
            )
            tx["maxPriorityFeePerGas"] = tip
            tx["maxFeePerGas"] = (
                parse_quantity(raw["maxFeePerGas"], "maxFeePerGas")
                if raw.get("maxFeePerGas") is not None
                else 2 * self._next_base_fee() + tip
            )
            tx["type"] = 2
            tx["accessList"] = [
                {"address": to_checksum_address(address), "storageKeys": [_hex32(k) for k in keys]}
                for address, keys in request.access_list
            ]
        signed = account.sign_transaction(tx)
        return self._submit(bytes(signed.raw_transaction))

    def _sign_message(self, account: LocalAccount, message: bytes) -> str:
        from eth_account.messages import encode_defunct

        return _hexdata(bytes(account.sign_message(encode_defunct(primitive=message)).signature))

    def _eth_sign(self, params: Params) -> JSON:
        _check_arity(params, 2)
        account = self._signer(_param(params, 0, "address"), "address")
        return self._sign_message(account, parse_data(_param(params, 1, "message"), "message"))

    def _personal_sign(self, params: Params) -> JSON:
        _check_arity(params, 3)
        account = self._signer(_param(params, 1, "address"), "address")
        return self._sign_message(account, parse_data(_param(params, 0, "message"), "message"))

    # -- transactions and receipts -------------------------------------------------------------

    def _eth_get_transaction_by_hash(self, params: Params) -> JSON:

        _check_arity(params, 1)
        tx_hash = parse_hash(_param(params, 0, "transactionHash"), "transactionHash")
        try:
            transaction = self._tester.get_transaction_by_hash(_hexdata(tx_hash))
        except TransactionNotFound:
            return None
        return _rpc_object(transaction, transaction=True)

    def _block_logs(self, block: BlockAPI, criteria: LogCriteria | None) -> Iterator[JSON]:
        receipts = block.get_receipts(self._chain.chaindb)
        log_index = 0
        block_hash = _hexdata(block.hash)
        number = _hex(block.number)
        pairs = zip(block.transactions, receipts, strict=True)
        for tx_index, (transaction, receipt) in enumerate(pairs):
            for log in receipt.logs:
                topics = [topic.to_bytes(32, "big") for topic in log.topics]
                if criteria is None or criteria.matches(log.address, topics):
                    yield {
                        "address": to_checksum_address(log.address),
                        "topics": [_hexdata(topic) for topic in topics],
                        "data": _hexdata(log.data),
                        "blockNumber": number,
                        "blockHash": block_hash,
                        "transactionHash": _hexdata(transaction.hash),
                        "transactionIndex": _hex(tx_index),
                        "logIndex": _hex(log_index),
                        "removed": False,
                    }
                log_index += 1

    def _receipt_json(self, receipt: dict[str, JSON]) -> dict[str, JSON]:
        block = self._chain.get_block_by_hash(
            Hash32(parse_hash(receipt["block_hash"], "blockHash"))
        )
        index = int(receipt["transaction_index"])
        evm_receipt = block.get_receipts(self._chain.chaindb)[index]
        tx_hash = receipt["transaction_hash"]
        base = {key: value for key, value in receipt.items() if key not in ("logs", "state_root")}
        out = _rpc_object(base)
        logs = self._block_logs(block, None)
        out["logs"] = [log for log in logs if log["transactionHash"] == tx_hash]
        out["logsBloom"] = _bloom_hex(evm_receipt.bloom)
        return out

    def _eth_get_transaction_receipt(self, params: Params) -> JSON:

        _check_arity(params, 1)
        tx_hash = parse_hash(_param(params, 0, "transactionHash"), "transactionHash")
        try:
            receipt = self._tester.get_transaction_receipt(_hexdata(tx_hash))
        except TransactionNotFound:
            return None
        if receipt.get("block_hash") is None:
            return None
        return self._receipt_json(receipt)

    def _eth_get_block_receipts(self, params: Params) -> JSON:
        _check_arity(params, 1)
        tag = _param(params, 0, "block")
        if isinstance(tag, str) and len(tag) == 66:
            block = self._eth_get_block_by_hash([tag, False])
        else:
            block = self._eth_get_block_by_number([tag, False])
        if block is None:
            return None
        return [self._eth_get_transaction_receipt([tx_hash]) for tx_hash in block["transactions"]]

    # -- logs and filters -----------------------------------------------------------------------

    def _scan_logs(self, start: int, end: int, criteria: LogCriteria) -> list[JSON]:
        logs: list[JSON] = []
        for number in range(start, end + 1):
            header = self._header_at(number)
            if not criteria.may_match(header.bloom):
                continue
            logs.extend(self._block_logs(self._block_at(number), criteria))
        return logs

    def _range(self, from_tag: JSON, to_tag: JSON) -> tuple[int, int]:
        head = self._head().block_number
        start = self._resolve_number(from_tag, allow_future=True)
        end = self._resolve_number(to_tag, allow_future=True)
        if start > end:
            raise _invalid("invalid block range: fromBlock is after toBlock")
        return start, min(end, head)

    def _eth_get_logs(self, params: Params) -> JSON:
        _check_arity(params, 1)
        spec = _param(params, 0, "filter")
        if not isinstance(spec, dict):
            raise _invalid("filter must be an object")
        criteria = _parse_criteria(spec)
        if spec.get("blockHash") is not None:
            if spec.get("fromBlock") is not None or spec.get("toBlock") is not None:
                raise _invalid("cannot specify both blockHash and fromBlock/toBlock")
            header = self._header_by_hash(parse_hash(spec["blockHash"], "blockHash"))
            start = end = int(header.block_number)
        else:
            start, end = self._range(spec.get("fromBlock"), spec.get("toBlock"))
        return self._scan_logs(start, end, criteria)

    def _new_filter_id(self, new: _Filter) -> str:
        self._expire_filters()
        filter_id = "0x" + secrets.token_hex(16)
        self._filters[filter_id] = new
        return filter_id

    def _expire_filters(self) -> None:
        deadline = time.monotonic() - FILTER_IDLE_SECONDS
        stale = [key for key, value in self._filters.items() if value.last_poll < deadline]
        for filter_id in stale:
            del self._filters[filter_id]

    def _eth_new_filter(self, params: Params) -> JSON:
        _check_arity(params, 1)
        spec = _param(params, 0, "filter")
        if not isinstance(spec, dict):
            raise _invalid("filter must be an object")
        if spec.get("blockHash") is not None:
            raise _invalid("blockHash is not supported in filters; use eth_getLogs")
        criteria = _parse_criteria(spec)
        from_tag, to_tag = spec.get("fromBlock"), spec.get("toBlock")
        self._range(from_tag, to_tag)
        new = _Filter("log", self._head().block_number, criteria, from_tag, to_tag)
        return self._new_filter_id(new)

    def _eth_new_block_filter(self, params: Params) -> JSON:
        _check_arity(params, 0)
        return self._new_filter_id(_Filter("block", self._head().block_number))

    def _eth_new_pending_transaction_filter(self, params: Params) -> JSON:
        _check_arity(params, 0)
        return self._new_filter_id(_Filter("pending", self._head().block_number))

    def _lookup_filter(self, params: Params) -> tuple[str, _Filter]:
        _check_arity(params, 1)
        filter_id = _param(params, 0, "filterId")
        if not isinstance(filter_id, str):
            raise _invalid("filter id must be a string")
        self._expire_filters()
        found = self._filters.get(filter_id.lower())
        if found is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        found.last_poll = time.monotonic()
        return filter_id.lower(), found

    def _eth_get_filter_changes(self, params: Params) -> JSON:
        _, found = self._lookup_filter(params)
        head = int(self._head().block_number)
        start, found.cursor = found.cursor + 1, head
        if found.kind == "pending" or start > head:
            return []
        if found.kind == "block":
            return [_hexdata(self._header_at(number).hash) for number in range(start, head + 1)]
        low = self._resolve_number(found.from_tag, allow_future=True)
        high = self._resolve_number(found.to_tag, allow_future=True)
        start, end = max(start, low), min(head, high)
        if start > end:
            return []
        return self._scan_logs(start, end, found.criteria)

    def _eth_get_filter_logs(self, params: Params) -> JSON:
        _, found = self._lookup_filter(params)
        if found.kind != "log":
            raise RpcError(SERVER_ERROR, "filter not found (not a log filter)")
        start, end = self._range(found.from_tag, found.to_tag)
        return self._scan_logs(start, end, found.criteria)

    def _eth_uninstall_filter(self, params: Params) -> JSON:
        _check_arity(params, 1)
        filter_id = _param(params, 0, "filterId")
        if not isinstance(filter_id, str):
            raise _invalid("filter id must be a string")
        return self._filters.pop(filter_id.lower(), None) is not None

    # -- devnet controls --------------------------------------------------------------------------

    def _evm_increase_time(self, params: Params) -> JSON:
        """Shift the clock so the next block is at least ``seconds`` later; return the offset."""
        _check_arity(params, 1)
        seconds = parse_quantity(_param(params, 0, "seconds"), "seconds")
        if seconds > 100 * 365 * 24 * 3600:
            raise _invalid("seconds is too large")
        # Blocks can run ahead of the wall clock (one second per block at least), so the
        # offset also guarantees the next block is ``seconds`` after the latest one.
        catch_up = self._head().timestamp + seconds - int(time.time())
        self._time_offset = max(self._time_offset + seconds, catch_up)
        self._sync_pending_timestamp()
        return self._time_offset

    def _evm_mine(self, params: Params) -> JSON:
        _check_arity(params, 1)
        option = _param(params, 0, "options", required=False)
        count, timestamp = 1, None
        if isinstance(option, dict):
            if option.get("blocks") is not None:
                count = parse_quantity(option["blocks"], "blocks")
            if option.get("timestamp") is not None:
                timestamp = parse_quantity(option["timestamp"], "timestamp")
        elif option is not None:
            timestamp = parse_quantity(option, "timestamp")
        if not 1 <= count <= 10_000:
            raise _invalid("blocks must be between 1 and 10000")
        if timestamp is not None:
            if timestamp <= self._head().timestamp:
                raise _invalid("timestamp must be after the latest block's")
            self._time_offset = timestamp - int(time.time())
        self._mine(count, timestamp)
        return "0x0"

    def _evm_snapshot(self, params: Params) -> JSON:
        _check_arity(params, 0)
        self._snapshot_counter += 1
        self._snapshots[self._snapshot_counter] = _Snapshot(
            self._tester.take_snapshot(), self._time_offset
        )
        return _hex(self._snapshot_counter)

    def _evm_revert(self, params: Params) -> JSON:
        _check_arity(params, 1)
        snapshot_id = parse_quantity(_param(params, 0, "snapshotId"), "snapshotId")
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            return False
        self._tester.revert_to_snapshot(snapshot.tester_id)
        self._time_offset = snapshot.time_offset
        for key in [key for key in self._snapshots if key >= snapshot_id]:
            del self._snapshots[key]
        head = self._head().block_number
        for found in self._filters.values():
            found.cursor = min(found.cursor, head)
        return True


# -- errors -----------------------------------------------------------------------------------


def _revert_error(output: bytes) -> RpcError:
    if not output:
        return RpcError(SERVER_ERROR, "execution reverted")
    message = "execution reverted"
    if output[:4] == _ERROR_STRING_SELECTOR:
        try:
            (reason,) = abi_decode(["string"], output[4:])
        except (DecodingError, ValueError):
            reason = None
        if isinstance(reason, str):
            message = f"execution reverted: {reason}"
    return RpcError(REVERT_ERROR, message, _hexdata(output))


def _vm_error(error: Exception | None, output: bytes, *, gas_limit: int | None = None) -> RpcError:

    if isinstance(error, Revert):
        return _revert_error(output)
    if isinstance(error, OutOfGas):
        if gas_limit is not None:
            return RpcError(SERVER_ERROR, f"gas required exceeds allowance ({gas_limit})")
        return RpcError(SERVER_ERROR, "out of gas")
    if isinstance(error, InvalidInstruction):
        return RpcError(SERVER_ERROR, f"invalid opcode: {error}")
    return RpcError(SERVER_ERROR, f"execution failed: {type(error).__name__}: {error}")


def _validation_error(exc: Exception) -> RpcError:
    message = str(exc)
    lowered = message.lower()
    if "balance" in lowered or "insufficient funds" in lowered:
        return RpcError(SERVER_ERROR, f"insufficient funds for gas * price + value: {message}")
    if "exceeds gas limit" in lowered:
        return RpcError(SERVER_ERROR, f"exceeds block gas limit: {message}")
    if "intrinsic" in lowered or "insufficient gas" in lowered:
        return RpcError(SERVER_ERROR, f"intrinsic gas too low: {message}")
    return RpcError(SERVER_ERROR, f"invalid transaction: {message}")


def _error_response(request_id: JSON, error: RpcError) -> dict[str, JSON]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _encode(value: JSON) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


# -- HTTP ----------------------------------------------------------------------------------------


class _RpcRequestHandler(BaseHTTPRequestHandler):
    server: RpcServer
    protocol_version = "HTTP/1.1"
    timeout = 120
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error_json(self, status: int, error: RpcError) -> None:
        self.close_connection = True
        self._send(status, _encode(_error_response(None, error)))

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

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
