"""publish_task/publish_source timeouts: the upload, the receipt wait and the total."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import pytest

from ogpu.client import publish_source, publish_task
from ogpu.client._common import Budget
from ogpu.protocol import Source
from ogpu.types import (
    InvalidParamsError,
    IPFSUploadError,
    ReceiptTimeoutError,
    TxError,
    TxMayHaveLandedError,
)

from ..helpers.proxy import Fault

if TYPE_CHECKING:
    from conftest import Net


HANG = 600.0  # an upload held this long: until the test ends (the proxy cuts it then)


@pytest.mark.slow
def test_ipfs_timeout_stops_a_hanging_upload_and_sends_nothing(net: Net, source: Source) -> None:
    info = net.task_info(source)
    net.store.add("*", Fault.SLOW_BEFORE, times=None, delay=HANG)
    before = net.nonce(net.client)
    net.rpc.reset_counts()

    with pytest.raises(IPFSUploadError):
        publish_task(info, signer=net.client.account, ipfs_timeout=0.5)

    assert net.store.posts() >= 1
    assert net.rpc.count("eth_sendRawTransaction") == 0
    assert net.nonce(net.client) == before
    assert source.get_task_count() == 0


@pytest.mark.slow
def test_total_timeout_bounds_the_upload(net: Net, source: Source) -> None:
    info = net.task_info(source)
    net.store.add("*", Fault.SLOW_BEFORE, times=None, delay=HANG)
    net.rpc.reset_counts()

    with pytest.raises(IPFSUploadError):
        publish_task(info, signer=net.client.account, ipfs_timeout=60, timeout=2.0)

    assert net.rpc.count("eth_sendRawTransaction") == 0


def test_publish_source_ipfs_timeout(net: Net) -> None:
    net.store.add("*", Fault.SLOW_BEFORE, times=None, delay=HANG)
    with pytest.raises(IPFSUploadError):
        publish_source(net.source_info(), signer=net.client.account, ipfs_timeout=0.3)
    assert net.rpc.count("eth_sendRawTransaction") == 0


def _mined_task(net: Net, tx_hash: str) -> str:
    receipt = net.node.call("eth_getTransactionReceipt", [tx_hash])
    assert receipt is not None and int(receipt["status"], 16) == 1
    nexus = net.node.deployment.nexus.lower()
    logs = [log for log in receipt["logs"] if log["address"].lower() == nexus]
    assert logs, "the transaction emitted no Nexus event"
    return str(receipt["transactionHash"])


@pytest.mark.slow
def test_receipt_timeout_reports_the_sent_transaction(net: Net, source: Source) -> None:
    info = net.task_info(source)
    net.rpc.add("eth_getTransactionReceipt", Fault.NULL_RESULT, times=None)
    net.rpc.reset_counts()

    with pytest.raises(ReceiptTimeoutError) as caught:
        publish_task(info, signer=net.client.account, receipt_timeout=0.5)

    assert isinstance(caught.value, TxMayHaveLandedError)
    assert caught.value.tx_hash is not None
    assert caught.value.tx_hash in str(caught.value)
    assert net.rpc.count("eth_sendRawTransaction") == 1
    assert _mined_task(net, caught.value.tx_hash) == caught.value.tx_hash
    assert source.get_task_count() == 1


@pytest.mark.slow
def test_total_timeout_bounds_the_receipt_wait(net: Net, source: Source) -> None:
    info = net.task_info(source)
    net.rpc.add("eth_getTransactionReceipt", Fault.NULL_RESULT, times=None)

    with pytest.raises(ReceiptTimeoutError) as caught:
        publish_task(info, signer=net.client.account, receipt_timeout=600, timeout=2.5)

    assert caught.value.tx_hash is not None
    assert source.get_task_count() == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ipfs_timeout", 0),
        ("ipfs_timeout", -1.0),
        ("receipt_timeout", math.nan),
        ("receipt_timeout", math.inf),
        ("timeout", "5"),
        ("timeout", True),
    ],
)
def test_bad_timeouts_are_refused_first(net: Net, source: Source, name: str, value: Any) -> None:
    info = net.task_info(source)
    with net.nothing_sent(), pytest.raises(InvalidParamsError, match=name):
        publish_task(info, signer=net.client.account, **{name: value})


def test_a_spent_budget_refuses_to_send() -> None:
    spent = Budget(total=1.0, started=time.monotonic() - 2.0)
    with pytest.raises(TxError, match="no transaction was sent"):
        spent.cap(60.0, "sending the transaction")
    assert Budget(total=None).cap(7.0, "x") == 7.0
    assert Budget(total=100.0).cap(7.0, "x") == 7.0
    assert Budget(total=5.0).cap(60.0, "x") <= 5.0
