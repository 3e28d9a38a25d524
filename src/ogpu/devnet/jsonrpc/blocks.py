"""JSON-RPC methods reading the chain: client and network, fees, blocks, transactions
and receipts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from eth_tester.exceptions import BlockNotFound, TransactionNotFound  # type: ignore[import-untyped]
from eth_typing import Hash32
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ogpu.devnet.jsonrpc.core import DEFAULT_PRIORITY_FEE, ChainAccess
from ogpu.devnet.jsonrpc.errors import JSON, SERVER_ERROR, RpcError, _invalid
from ogpu.devnet.jsonrpc.values import (
    Params,
    _bloom_hex,
    _check_arity,
    _hex,
    _hexdata,
    _param,
    _rpc_object,
    parse_data,
    parse_hash,
    parse_quantity,
)

if TYPE_CHECKING:
    from eth.abc import (
        BlockAPI,
    )


class BlockMethods(ChainAccess):
    """``web3_*``/``net_*``, fees, blocks, transactions and receipts."""

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

    # -- transactions and receipts -------------------------------------------------------------

    def _by_tx_hash(self, params: Params, lookup: Callable[[str], JSON]) -> JSON:
        """``lookup(hash)`` for the one transaction-hash parameter; None when unknown."""
        _check_arity(params, 1)
        tx_hash = parse_hash(_param(params, 0, "transactionHash"), "transactionHash")
        try:
            return lookup(_hexdata(tx_hash))
        except TransactionNotFound:
            return None

    def _eth_get_transaction_by_hash(self, params: Params) -> JSON:
        transaction = self._by_tx_hash(params, self._tester.get_transaction_by_hash)
        return None if transaction is None else _rpc_object(transaction, transaction=True)

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
        receipt = self._by_tx_hash(params, self._tester.get_transaction_receipt)
        if receipt is None or receipt.get("block_hash") is None:
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
