"""The official 0.2.3 transaction errors, raised where 0.2.3 raises them, through
``FaultProxy`` on the devnet: ``TxReceiptTimeoutError(tx_hash, timeout)`` when the receipt
does not come in time (the hash lands), ``TxRpcError(reason)`` when the node fails in the
send. Code written for 0.2.3 catches them by their names; code written for ours still
catches ``ReceiptTimeoutError`` / ``RPCError``."""

from __future__ import annotations

import time

import pytest

from ogpu.protocol import TxExecutor, load_contract
from ogpu.types import (
    OGPUError,
    PublishTimeoutError,
    ReceiptTimeoutError,
    RPCError,
    TxError,
    TxMayHaveLandedError,
    TxReceiptTimeoutError,
    TxRpcError,
)
from ogpu.types import errors as error_module

from ..helpers.proxy import Fault
from .conftest import Net
from .writes import HASH


def test_the_official_classes_sit_where_0_2_3_puts_them() -> None:
    assert error_module.TxReceiptTimeoutError is TxReceiptTimeoutError
    assert error_module.TxRpcError is TxRpcError
    assert error_module.PublishTimeoutError is PublishTimeoutError
    late = TxReceiptTimeoutError("0x" + "ab" * 32, 5.0)  # the official positional form
    assert (late.tx_hash, late.timeout) == ("0x" + "ab" * 32, 5.0)
    assert late.tx_hash in str(late)
    assert isinstance(late, TxError) and isinstance(late, ReceiptTimeoutError)
    assert isinstance(late, TxMayHaveLandedError)
    failed = TxRpcError("connection reset")
    assert failed.reason == "connection reset" and "connection reset" in str(failed)
    assert isinstance(failed, TxError) and isinstance(failed, RPCError)
    spent = PublishTimeoutError(60, "ipfs")
    assert (spent.budget, spent.stage) == (60, "ipfs")
    assert "ipfs" in str(spent) and isinstance(spent, OGPUError)
    assert isinstance(spent, TxError)  # ours raised TxError for a spent budget before
    # keyword construction, as the SDK itself raises them
    keyed = TxRpcError(message="m", reason="r", method="eth_estimateGas", cause="c")
    assert (str(keyed), keyed.reason, keyed.method, keyed.cause) == (
        "m",
        "r",
        "eth_estimateGas",
        "c",
    )


def _deposit(net: Net, receipt_timeout: float) -> TxExecutor:
    """0.2.3-style code: a TxExecutor built from load_contract."""
    return TxExecutor(
        load_contract("VaultAbi"),
        "deposit",
        (net.client.address,),
        signer=net.client.account,
        value=1,
        receipt_timeout=receipt_timeout,
    )


@pytest.mark.slow
def test_receipt_timeout_carries_the_hash_of_a_transaction_that_lands(net: Net) -> None:
    net.rpc.add("eth_getTransactionReceipt", Fault.NULL_RESULT, times=None)
    started = time.monotonic()
    try:
        _deposit(net, receipt_timeout=1.0).execute()
    except TxReceiptTimeoutError as exc:  # as code written for 0.2.3 catches it
        caught = exc
    else:
        pytest.fail("no TxReceiptTimeoutError")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 10.0  # the receipt wait is 1 s; generous for a loaded machine
    assert caught.tx_hash is not None and HASH.match(caught.tx_hash)
    assert caught.timeout == 1.0
    assert isinstance(caught, ReceiptTimeoutError)  # what code written for ours catches
    net.rpc.clear()  # the replica catches up: the transaction is there
    receipt = net.receipt(caught.tx_hash)
    assert receipt is not None and int(receipt["status"], 16) == 1


def test_rpc_failure_in_the_send_is_tx_rpc_error_and_nothing_is_sent(net: Net) -> None:
    net.rpc.add("eth_estimateGas", Fault.DROP_BEFORE, times=None)
    nonce = net.nonce(net.client)
    with pytest.raises(TxRpcError) as caught:
        _deposit(net, receipt_timeout=30.0).execute()
    assert isinstance(caught.value, RPCError)  # what code written for ours catches
    assert caught.value.reason and "closed" in caught.value.reason
    assert caught.value.method in ("batch", "eth_estimateGas")
    assert caught.value.tx_hash is None
    assert net.rpc.count("eth_sendRawTransaction") == 0
    net.rpc.clear()
    assert net.nonce(net.client) == nonce


def test_the_executor_imports_from_where_0_2_3_defines_it() -> None:
    import ogpu.protocol as protocol
    from ogpu.protocol._base import (  # 0.2.3's home of these names
        REVERT_PATTERN_MAP,
        ZERO_ADDRESS,
        TxExecutor,
        decode_revert,
        load_contract,
    )

    assert TxExecutor is protocol.TxExecutor and load_contract is protocol.load_contract
    assert decode_revert is protocol.decode_revert
    assert REVERT_PATTERN_MAP is protocol.REVERT_PATTERN_MAP
    assert ZERO_ADDRESS == "0x" + "00" * 20
