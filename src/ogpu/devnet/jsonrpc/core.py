"""The state every JSON-RPC method group of the devnet dispatcher shares, and its chain
helpers: head, block numbers from tags, headers, mining, a block's logs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth.exceptions import HeaderNotFound
from eth_typing import BlockNumber, Hash32
from eth_utils.address import to_canonical_address, to_checksum_address

from ogpu.devnet.jsonrpc.errors import JSON, SERVER_ERROR, RpcError, _invalid
from ogpu.devnet.jsonrpc.values import (
    LogCriteria,
    Params,
    _hex,
    _hexdata,
    parse_hash,
    parse_quantity,
)

if TYPE_CHECKING:
    from eth.abc import (
        BlockAPI,
        BlockHeaderAPI,
        MiningChainAPI,
    )
    from eth_account.signers.local import LocalAccount

DEFAULT_PRIORITY_FEE = 10**9
#: Gas an ``eth_call`` may use when it names none, and at most (geth's ``--rpc.gascap``
#: default). Like geth, independent of the block gas limit.
DEFAULT_CALL_GAS_CAP = 50_000_000
FILTER_IDLE_SECONDS = 300.0
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


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


class ChainAccess:
    """The dispatcher's state and its chain helpers (called with the lock held)."""

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
        self._methods = self._method_table()

    def _method_table(self) -> dict[str, Callable[[Params], JSON]]:
        """JSON-RPC method name -> handler (the dispatcher lists them all)."""
        return {}

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

    def _next_base_fee(self) -> int:
        base_fee: int = getattr(self._chain.header, "base_fee_per_gas", 0) or 0
        return base_fee

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
