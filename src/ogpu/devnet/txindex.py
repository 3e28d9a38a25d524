"""eth-tester's py-evm backend finding mined transactions by hash through the chain
database's index, as a node does.

eth-tester looks a transaction (or its receipt) up by walking back from the head block,
decoding every transaction of every block on the way: a receipt of a transaction ``k``
blocks deep costs ``k`` block reads, so confirming a batch of N sends cost the devnet
about N²/2 block reads. py-evm already keeps the hash -> (block number, index) lookup of
every canonical transaction; this backend reads it first and walks only when it misses.
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import BlockNotFound, HeaderNotFound
from eth.exceptions import TransactionNotFound as IndexMiss
from eth_tester import PyEVMBackend  # type: ignore[import-untyped]
from eth_tester.backends.pyevm import main as pyevm  # type: ignore[import-untyped]

__all__ = ["IndexedBackend"]


def _find(chain: Any, tx_hash: bytes) -> tuple[Any, Any, int]:
    """The (block, transaction, index) of ``tx_hash``: from the index when it names a
    canonical block holding it there (one block read), else eth-tester's walk (pending
    block first). Raises eth-tester's TransactionNotFound for an unknown hash."""
    try:
        number, index = chain.chaindb.get_transaction_index(tx_hash)
        # a snapshot revert moves the head back but leaves the index and the number
        # mapping of the blocks above it: those are no longer the chain
        if number <= chain.get_canonical_head().block_number:
            block = chain.get_canonical_block_by_number(number)
            transactions = block.transactions
            if index < len(transactions) and transactions[index].hash == tx_hash:
                return block, transactions[index], index
    except (IndexMiss, HeaderNotFound, BlockNotFound):
        pass
    return pyevm._get_transaction_by_hash(chain, tx_hash)  # type: ignore[no-any-return]


class IndexedBackend(PyEVMBackend):  # type: ignore[misc]
    """``PyEVMBackend`` whose transaction and receipt lookups by hash use ``_find``;
    answers are identical (eth-tester's own serializers)."""

    def _is_pending(self, block: Any) -> bool:
        return bool(block.number == self.chain.get_block().number)

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, transaction, index = _find(self.chain, transaction_hash)
        return pyevm.serialize_transaction(block, transaction, index, self._is_pending(block))

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, transaction, index = _find(self.chain, transaction_hash)
        return pyevm.serialize_transaction_receipt(
            block,
            block.get_receipts(self.chain.chaindb),
            transaction,
            index,
            self._is_pending(block),
            self.chain.get_vm(),
        )
