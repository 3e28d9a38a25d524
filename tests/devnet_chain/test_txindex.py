"""Transactions and receipts by hash through the chain database's index
(``ogpu.devnet.txindex``): the same answers as eth-tester's walk from the head, one
block read however deep the transaction is, and correct across snapshot reverts."""

from __future__ import annotations

from typing import Any

import pytest
from eth_tester.backends.pyevm import main as pyevm
from eth_tester.exceptions import TransactionNotFound

from ogpu.devnet import CLIENTS, Devnet


def _transfer(devnet: Devnet, value: int) -> bytes:
    tx_hash = devnet.w3.eth.send_transaction(
        {"from": CLIENTS[0].address, "to": CLIENTS[1].address, "value": value}
    )
    return bytes(tx_hash)


def _walked(devnet: Devnet, tx_hash: bytes) -> tuple[Any, Any]:
    """eth-tester's own answers (its walk back from the head): the oracle."""
    backend = devnet.tester.backend
    block, transaction, index = pyevm._get_transaction_by_hash(backend.chain, tx_hash)
    pending = block.number == backend.chain.get_block().number
    receipt = pyevm.serialize_transaction_receipt(
        block,
        block.get_receipts(backend.chain.chaindb),
        transaction,
        index,
        pending,
        backend.chain.get_vm(),
    )
    return pyevm.serialize_transaction(block, transaction, index, pending), receipt


class _BlockReads:
    """Counts the canonical block reads of one chain object (the real chain, wrapped)."""

    def __init__(self, chain: Any) -> None:
        self.chain, self.count = chain, 0
        self.read = chain.get_canonical_block_by_number

    def __enter__(self) -> _BlockReads:
        def counted(number: int) -> Any:
            self.count += 1
            return self.read(number)

        self.chain.get_canonical_block_by_number = counted
        return self

    def __exit__(self, *exc: object) -> None:
        del self.chain.get_canonical_block_by_number


@pytest.mark.slow
def test_answers_equal_eth_testers_walk_with_one_block_read(devnet: Devnet) -> None:
    hashes = [_transfer(devnet, value) for value in range(1, 41)]  # 40 blocks, one each
    backend = devnet.tester.backend
    for tx_hash in (hashes[0], hashes[20], hashes[-1]):
        expected = _walked(devnet, tx_hash)
        with _BlockReads(backend.chain) as reads:
            found = (
                backend.get_transaction_by_hash(tx_hash),
                backend.get_transaction_receipt(tx_hash),
            )
        assert found == expected
        assert reads.count == 2  # one block per lookup, not one per block above it
    # and through web3, as every client sees it
    receipt = devnet.w3.eth.get_transaction_receipt(hashes[0])
    assert receipt["status"] == 1 and bytes(receipt["transactionHash"]) == hashes[0]
    assert devnet.w3.eth.get_transaction(hashes[0])["value"] == 1


def test_unknown_hash_is_not_found(devnet: Devnet) -> None:
    _transfer(devnet, 1)
    with pytest.raises(TransactionNotFound):
        devnet.tester.backend.get_transaction_receipt(b"\x42" * 32)
    with pytest.raises(TransactionNotFound):
        devnet.tester.backend.get_transaction_by_hash(b"\x42" * 32)


def test_reverted_transactions_are_gone_and_replacements_found(devnet: Devnet) -> None:
    kept = _transfer(devnet, 1)
    snapshot = devnet.snapshot()
    dropped = _transfer(devnet, 2)
    devnet.revert(snapshot)
    with pytest.raises(TransactionNotFound):
        devnet.tester.backend.get_transaction_receipt(dropped)
    replacement = _transfer(devnet, 3)  # same nonce and block number as the dropped one
    assert devnet.tester.backend.get_transaction_by_hash(replacement)["value"] == 3
    assert devnet.tester.backend.get_transaction_receipt(kept) == _walked(devnet, kept)[1]
