"""0.2.3's publish bounds on the devnet, through ``FaultProxy`` and hostile IPFS servers:
``publish_task(..., total_timeout, ipfs_retries, ipfs_backoff)``,
``controller.publish_task(..., receipt_timeout, deadline, budget)`` and
``TxExecutor(..., deadline, budget)``.

The promise: with a total budget the call returns or raises within it (+1 s), whatever
stalls (the pin, a node read, the broadcast, the receipt), and no transaction is
broadcast once the budget no longer covers it. Code written for 0.2.3 runs unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ogpu.chain import WEB3, ChainId, NonceManager, Web3Manager
from ogpu.client import publish_task
from ogpu.protocol import Source, TxExecutor, controller, load_contract
from ogpu.protocol.controller import extract_task_address
from ogpu.types import (
    IPFSFetchError,
    PublishTimeoutError,
    TaskExpiredError,
    TaskParams,
    TxError,
    TxMayHaveLandedError,
    TxReceiptTimeoutError,
    TxRpcError,
)

from ..helpers.proxy import Fault
from .conftest import Net
from .hostile import HostileServer
from .writes import HASH, RAW, info_for

# The promise is budget + 1 s; the rest is slack for a loaded machine (CI is quiet).
GRACE = 1.0
SLACK = 1.5


def _timed(call: Callable[[], Any]) -> tuple[BaseException | None, Any, float]:
    started = time.monotonic()
    try:
        return None, call(), time.monotonic() - started
    except Exception as exc:
        return exc, None, time.monotonic() - started


def _nothing_sent(net: Net, source: Source, nonce: int) -> None:
    assert net.rpc.count(RAW) == 0, "a transaction was broadcast"
    net.rpc.clear()  # held requests are cut, never forwarded
    assert net.nonce(net.client) == nonce
    assert net.published_tasks(source.address) == []


def test_official_code_runs_unchanged(
    net: Net, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", net.client.key_hex)
    task = publish_task(info_for(net, source), total_timeout=60, ipfs_retries=3, ipfs_backoff=0.2)
    params = TaskParams(
        source=source.address,
        config="https://example.invalid/config.json",
        expiryTime=max(net.now(), int(time.time())) + 600,
        payment=10**16,
    )
    receipt = controller.publish_task(
        params,
        signer=net.client.account,
        receipt_timeout=30,
        deadline=time.monotonic() + 60,
        budget=60,
    )
    assert net.published_tasks(source.address) == [task.address, extract_task_address(receipt)]


@pytest.mark.slow  # waits out a wall-clock bound of 3 s or more
def test_total_timeout_against_a_stalled_rpc(net: Net, source: Source) -> None:
    nonce = net.nonce(net.client)
    net.rpc.add("eth_estimateGas", Fault.SLOW_BEFORE, times=None, delay=60.0)
    info = info_for(net, source)
    error, _, elapsed = _timed(
        lambda: publish_task(info, signer=net.client.account, total_timeout=3, ipfs_retries=3)
    )
    assert isinstance(error, PublishTimeoutError), repr(error)
    assert (error.budget, error.stage) == (3, "pre-transaction")
    assert isinstance(error, TxError)  # what code written for ours catches
    assert elapsed < 3 + GRACE + SLACK, f"{elapsed:.2f}s"
    _nothing_sent(net, source, nonce)


@pytest.mark.slow
def test_total_timeout_against_a_stalled_check(net: Net, source: Source) -> None:
    nonce = net.nonce(net.client)
    net.rpc.add("eth_call", Fault.SLOW_BEFORE, times=None, delay=60.0)
    info = info_for(net, source)
    error, _, elapsed = _timed(
        lambda: publish_task(info, signer=net.client.account, total_timeout=2)
    )
    assert isinstance(error, PublishTimeoutError), repr(error)
    assert (error.budget, error.stage) == (2, "checks")
    assert elapsed < 2 + GRACE + SLACK, f"{elapsed:.2f}s"
    _nothing_sent(net, source, nonce)


@pytest.mark.slow
def test_total_timeout_against_a_stalled_pin(net: Net, source: Source) -> None:
    nonce = net.nonce(net.client)
    info = info_for(net, source)
    with HostileServer("hang") as ipfs, pytest.MonkeyPatch.context() as patch:
        patch.setenv("OGPU_IPFS_API_URL", ipfs.url)
        error, _, elapsed = _timed(
            lambda: publish_task(info, signer=net.client.account, total_timeout=2, ipfs_retries=3)
        )
        assert ipfs.requests >= 1
    # as 0.2.3: a pin cut short by the budget is an IPFSFetchError (ours: IPFSUploadError)
    assert isinstance(error, IPFSFetchError), repr(error)
    assert elapsed < 2 + GRACE + SLACK, f"{elapsed:.2f}s"
    _nothing_sent(net, source, nonce)


@pytest.mark.slow
def test_ipfs_retries_bound_each_attempt(net: Net, source: Source) -> None:
    info = info_for(net, source)
    with HostileServer("hang") as ipfs, pytest.MonkeyPatch.context() as patch:
        patch.setenv("OGPU_IPFS_API_URL", ipfs.url)
        error, _, elapsed = _timed(
            lambda: publish_task(
                info, signer=net.client.account, ipfs_timeout=0.5, ipfs_retries=3, ipfs_backoff=0.1
            )
        )
        attempts = ipfs.requests
    assert isinstance(error, IPFSFetchError), repr(error)
    assert attempts == 3  # ipfs_retries counts every attempt, as 0.2.3 does
    assert 3 * 0.5 <= elapsed < 3 * 0.5 + 0.3 + SLACK, f"{elapsed:.2f}s"
    assert net.rpc.count(RAW) == 0


@pytest.mark.slow
def test_ipfs_timeout_alone_bounds_the_whole_upload(net: Net, source: Source) -> None:
    """Ours: without ``ipfs_retries`` the ``ipfs_timeout`` covers every attempt (0.2.3: each
    of 2 attempts; pass ``ipfs_retries=2`` for that, as the test above shows)."""
    info = info_for(net, source)
    with HostileServer("hang") as ipfs, pytest.MonkeyPatch.context() as patch:
        patch.setenv("OGPU_IPFS_API_URL", ipfs.url)
        error, _, elapsed = _timed(
            lambda: publish_task(info, signer=net.client.account, ipfs_timeout=1.0)
        )
    assert isinstance(error, IPFSFetchError), repr(error)
    assert 1.0 <= elapsed < 1.0 + SLACK, f"{elapsed:.2f}s"
    assert net.rpc.count(RAW) == 0


@pytest.mark.slow  # waits out a wall-clock bound of 3 s or more
def test_without_a_total_timeout_a_stalled_read_ends_at_the_http_timeout(
    net: Net, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0.2.3's way (no ``total_timeout``): each node request is bounded by the HTTP timeout
    alone and the failure is a ``TxRpcError``; nothing is sent."""
    monkeypatch.setattr("ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT", 1.0)
    Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, net.rpc.url)
    nonce = net.nonce(net.client)
    net.rpc.add("eth_estimateGas", Fault.SLOW_BEFORE, times=None, delay=60.0)
    with pytest.raises(TxRpcError):
        publish_task(info_for(net, source), signer=net.client.account)
    _nothing_sent(net, source, nonce)


@pytest.mark.slow  # waits out a wall-clock bound of 3 s or more
def test_a_stalled_broadcast_is_reported_by_its_hash_within_the_budget(
    net: Net, source: Source
) -> None:
    nonce = net.nonce(net.client)
    net.rpc.add(RAW, Fault.SLOW_BEFORE, times=None, delay=60.0)
    info = info_for(net, source)
    error, _, elapsed = _timed(
        lambda: publish_task(info, signer=net.client.account, total_timeout=3)
    )
    assert isinstance(error, TxMayHaveLandedError), repr(error)  # never "rejected"
    assert error.tx_hash is not None and HASH.match(error.tx_hash)
    assert elapsed < 3 + GRACE + SLACK, f"{elapsed:.2f}s"
    net.rpc.clear()  # the held broadcast is cut: it never reached the node
    assert net.receipt(error.tx_hash) is None
    assert net.nonce(net.client) == nonce


@pytest.mark.slow  # waits out a wall-clock bound of 3 s or more
def test_receipt_wait_ends_with_the_budget_and_carries_the_hash(net: Net, source: Source) -> None:
    net.rpc.add("eth_getTransactionReceipt", Fault.NULL_RESULT, times=None)
    info = info_for(net, source)
    error, _, elapsed = _timed(
        lambda: publish_task(info, signer=net.client.account, total_timeout=3, receipt_timeout=120)
    )
    assert isinstance(error, TxReceiptTimeoutError), repr(error)
    assert elapsed < 3 + GRACE + SLACK, f"{elapsed:.2f}s"
    assert error.tx_hash is not None and HASH.match(error.tx_hash)
    net.rpc.clear()
    receipt = net.receipt(error.tx_hash)  # the transaction lands: reconcile by hash
    assert receipt is not None and int(receipt["status"], 16) == 1
    assert len(net.published_tasks(source.address)) == 1


@pytest.mark.slow  # waits out a wall-clock bound of 3 s or more
def test_expiry_is_checked_again_right_before_the_send(net: Net, source: Source) -> None:
    nonce = net.nonce(net.client)
    info = info_for(net, source, expires_in=3)
    answer = b'{"Name":"taskConfig.json","Hash":"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy","Size":"42"}'  # noqa: E501
    # the pin answers, slowly (one byte every 60 ms): it outlives the task's expiry
    dripping = HostileServer("drip-json", interval=0.06, payload=answer)
    with dripping as ipfs, pytest.MonkeyPatch.context() as patch:
        patch.setenv("OGPU_IPFS_API_URL", ipfs.url)
        with pytest.raises(TaskExpiredError) as caught:
            publish_task(info, signer=net.client.account)
    assert "passed while publishing" in str(caught.value)
    _nothing_sent(net, source, nonce)


@pytest.mark.slow  # waits out a wall-clock bound of 3 s or more
def test_executor_never_broadcasts_past_its_deadline(net: Net) -> None:
    """0.2.3-style ``TxExecutor(..., deadline=, budget=)``: the deadline passes while the
    executor waits for the account (another holder has it); it then refuses to send."""
    account = net.client.address
    w3 = WEB3()
    start = NonceManager.resync(w3, 1337, account)  # cached: the reservation needs no RPC
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with NonceManager.account_lock(1337, account):
            holding.set()
            done.wait(timeout=3.0)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(timeout=10)
    executor = TxExecutor(
        load_contract("VaultAbi"),
        "deposit",
        (account,),
        signer=net.client.account,
        value=1,
        deadline=time.monotonic() + 1.0,
        budget=1.0,
    )
    with pytest.raises(PublishTimeoutError) as caught:
        executor.execute()
    holder.join()
    assert (caught.value.budget, caught.value.stage) == (1.0, "pre-transaction")
    assert net.rpc.count(RAW) == 0
    assert NonceManager.get_cached_nonce(account, w3) == start  # the reservation came back


def test_a_deadline_already_past_sends_nothing(net: Net) -> None:
    nonce = net.nonce(net.client)
    with pytest.raises(PublishTimeoutError) as caught:
        TxExecutor(
            load_contract("VaultAbi"),
            "deposit",
            (net.client.address,),
            signer=net.client.account,
            value=1,
            deadline=time.monotonic() - 0.1,
            budget=5,
        ).execute()
    assert (caught.value.budget, caught.value.stage) == (5, "pre-transaction")
    assert net.rpc.count(RAW) == 0
    assert net.nonce(net.client) == nonce


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"total_timeout": 0}, "total_timeout"),
        ({"total_timeout": 5, "timeout": 5}, "total_timeout"),
        ({"ipfs_retries": 0}, "ipfs_retries"),
        ({"ipfs_retries": True}, "ipfs_retries"),
        ({"ipfs_backoff": -1}, "ipfs_backoff"),
        ({"ipfs_backoff": float("nan")}, "ipfs_backoff"),
    ],
)
def test_bad_bounds_are_refused_before_anything(
    net: Net, source: Source, kwargs: dict[str, Any], param: str
) -> None:
    from ogpu.types import InvalidParamsError

    with pytest.raises(InvalidParamsError) as caught:
        publish_task(info_for(net, source), signer=net.client.account, **kwargs)
    assert caught.value.param == param
    assert net.rpc.total_received() == 0
