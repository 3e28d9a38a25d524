"""Protocol layer over real HTTP: request counting, concurrency, lost answers.

The chain is the devnet's JSON-RPC server; every request passes the counting
proxy from conftest, so the counts are requests that really reached the node.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from ogpu_bindings import vault as vault_abi
from web3 import Web3

from ogpu.chain import Web3Manager, multicall
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import (
    Master,
    Provider,
    Response,
    Source,
    Task,
    TxExecutor,
    controller,
    nexus,
    terminal,
    vault,
)
from ogpu.protocol import _bindings as bindings
from ogpu.protocol._executor import execute_request
from ogpu.types import (
    InvalidAddressError,
    InvalidAmountError,
    InvalidEnumValueError,
    InvalidInputError,
    InvalidParamsError,
    InvalidSignerError,
    MissingSignerError,
    NonceError,
    Receipt,
    ReceiptTimeoutError,
    ResponseNotFoundError,
    SignerError,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskStatus,
    TxError,
    TxMayHaveLandedError,
    TxRevertError,
)

from ..helpers.proxy import Fault
from ..helpers.wait import run_concurrently


@pytest.mark.slow
def test_task_snapshot_is_one_http_request(http_world: Any, proxy: Any) -> None:
    world = http_world
    world.fund(world.client)
    source = world.source()
    task = world.task(source, payment=10**16)
    provider = world.register(source)
    provider.attempt(task.address, 5, signer=world.provider.account)

    proxy.reset_counts()
    snap = task.snapshot()
    assert proxy.requests == 1
    assert proxy.sequence == ["eth_call"]

    assert snap.address == task.address
    assert snap.source == source.address
    assert snap.status is TaskStatus.ATTEMPTED
    assert snap.payment == 10**16
    assert snap.params.payment == 10**16
    assert snap.expiry_time == snap.params.expiryTime
    assert snap.attempt_count == 1
    assert snap.winning_provider is None
    # the devnet server runs calls in a child block context (NUMBER = block + 1)
    w3 = Web3Manager.get_web3_instance()
    assert multicall.state_block(w3, snap.block_number) == world.devnet.block_number()


@pytest.mark.slow
def test_every_snapshot_is_one_request(http_world: Any, proxy: Any) -> None:
    world = http_world
    source, task = world.attempted_task()
    response = world.respond(task, world.provider, "https://example.invalid/out.json")
    for instance in (
        source,
        task,
        response,
        Provider(world.provider.address),
        Master(world.master.address),
    ):
        proxy.reset_counts()
        snap = instance.snapshot()
        assert proxy.requests == 1, type(instance).__name__
        assert snap.address == instance.address


def test_single_getters_are_one_request_and_construction_none(http_world: Any, proxy: Any) -> None:
    world = http_world
    source = world.source()
    proxy.reset_counts()
    task = Task("0x" + "ab" * 20)
    Source(source.address.lower())
    repr(task), str(task), hash(task)
    assert proxy.requests == 0
    assert source.get_task_count() == 0
    assert proxy.requests == 1
    assert source.get_tasks() == []
    assert proxy.requests == 2


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda w: vault.deposit("0x1234", 1, signer=w.client.account), InvalidAddressError),
        (
            lambda w: vault.deposit(w.client.address, -1, signer=w.client.account),
            InvalidAmountError,
        ),
        (lambda w: vault.lock(-5, signer=w.client.account), InvalidAmountError),
        (lambda w: vault.withdraw(2**256, signer=w.client.account), InvalidAmountError),
        (lambda w: vault.unbond("10", signer=w.client.account), InvalidAmountError),
        (lambda w: vault.lock(1, signer=None), MissingSignerError),
        (
            lambda w: controller.cancel_task("not-an-address", signer=w.client.account),
            InvalidAddressError,
        ),
        (
            lambda w: terminal.announce_provider(w.provider.address, -1, signer=w.master.account),
            InvalidAmountError,
        ),
        (
            lambda w: terminal.set_agent(w.provider.address, "yes", signer=w.client.account),
            InvalidParamsError,
        ),
        (
            lambda w: nexus.register(
                "0x" + "11" * 20, w.provider.address, 3, signer=w.provider.account
            ),
            InvalidEnumValueError,
        ),
        (
            lambda w: nexus.register(
                "0x" + "11" * 20, w.provider.address, 8, signer=w.provider.account
            ),
            InvalidEnumValueError,
        ),
        (
            lambda w: nexus.attempt(
                "0x" + "11" * 20, w.provider.address, -1, signer=w.provider.account
            ),
            InvalidAmountError,
        ),
        (
            lambda w: nexus.publish_source(
                w.source_params(envs=16),
                signer=w.client.account,  # type: ignore[arg-type]
            ),
            InvalidEnumValueError,
        ),
        (
            lambda w: Source("0x" + "22" * 20).set_status(7, signer=w.client.account),  # type: ignore[arg-type]
            InvalidEnumValueError,
        ),
        (lambda w: Task("0x" + "22" * 20).get_attempters(-1), InvalidAmountError),
        (lambda w: Task("0x" + "22" * 20).get_responses(5, 2), InvalidAmountError),
        (lambda w: Task("0x" + "22" * 20).is_already_submitted(b"short"), InvalidParamsError),
        (lambda w: Provider("0xZZ"), InvalidAddressError),
        (
            lambda w: Provider(w.provider.address).stake(5, signer=w.client.account),
            InvalidSignerError,
        ),
    ],
)
def test_bad_input_sends_nothing(http_world: Any, proxy: Any, call: Any, error: type) -> None:
    world = http_world
    before = {a.address: world.nonce(a.address) for a in (*CLIENTS, *MASTERS, *PROVIDERS)}
    proxy.reset_counts()
    with pytest.raises(error) as caught:
        call(world)
    assert isinstance(caught.value, (InvalidInputError, SignerError))
    assert proxy.requests == 0
    assert {a.address: world.nonce(a.address) for a in (*CLIENTS, *MASTERS, *PROVIDERS)} == before


@pytest.mark.slow
def test_eight_threads_twenty_five_writes_one_key(http_world: Any, proxy: Any) -> None:
    world = http_world
    account = world.client
    start = world.nonce(account.address)
    receipts: list[Receipt] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(25):
            try:
                receipt = vault.deposit(account.address, 1, signer=account.account)
            except BaseException as exc:
                with lock:
                    errors.append(exc)
            else:
                with lock:
                    receipts.append(receipt)

    run_concurrently([worker] * 8)

    assert errors == []
    assert len(receipts) == 200
    assert len({r.tx_hash for r in receipts}) == 200
    assert world.nonce(account.address) == start + 200
    nonces = sorted(
        int(world.devnet.tester.get_transaction_by_hash(r.tx_hash)["nonce"]) for r in receipts
    )
    assert nonces == list(range(start, start + 200))
    assert vault.get_balance_of(account.address) == 200
    assert proxy.count("eth_getTransactionCount") == 1


@pytest.mark.parametrize(
    ("method", "fault", "options", "calls", "lookups"),
    [
        pytest.param(
            "eth_sendRawTransaction", Fault.DROP_AFTER, {}, 1, 1, id="lost-answer-settled-by-hash"
        ),
        pytest.param(
            "eth_sendRawTransaction",
            Fault.ERROR_AFTER,
            {"message": "already known"},
            1,
            0,
            id="already-known-counts-as-sent",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "eth_estimateGas", Fault.DROP_BEFORE, {}, 2, 0, id="transient-before-broadcast-retried"
        ),
    ],
)
def test_one_fault_and_the_deposit_lands_once(
    http_world: Any,
    proxy: Any,
    method: str,
    fault: Fault,
    options: dict[str, Any],
    calls: int,
    lookups: int,
) -> None:
    """One fault on one call: the deposit lands once (one nonce), the faulty call was made
    ``calls`` times, and at least ``lookups`` eth_getTransactionByHash settled the send."""
    world = http_world
    account = world.client
    before = world.nonce(account.address)
    proxy.add(method, fault, **options)
    receipt = vault.deposit(account.address, 7, signer=account.account)
    assert receipt.status == 1
    assert proxy.count(method) == calls
    assert proxy.count("eth_getTransactionByHash") >= lookups
    assert world.nonce(account.address) == before + 1
    assert vault.get_balance_of(account.address) == 7


def test_lost_request_resends_the_same_signed_bytes(http_world: Any, proxy: Any) -> None:
    world = http_world
    account = world.client
    before = world.nonce(account.address)
    proxy.add("eth_sendRawTransaction", Fault.DROP_BEFORE)
    receipt = vault.deposit(account.address, 3, signer=account.account)
    assert world.nonce(account.address) == before + 1
    assert proxy.count("eth_sendRawTransaction") == 2
    assert vault.get_balance_of(account.address) == 3
    tx = world.devnet.tester.get_transaction_by_hash(receipt.tx_hash)
    assert int(tx["nonce"]) == before


@pytest.mark.slow
def test_unknown_outcome_raises_with_hash_and_never_signs_twice(
    http_world: Any, proxy: Any
) -> None:
    world = http_world
    account = world.client
    before = world.nonce(account.address)
    proxy.add("eth_sendRawTransaction", Fault.DROP_BEFORE, times=None)
    proxy.add("eth_getTransactionByHash", Fault.DROP_BEFORE, times=None)
    # vault.deposit's engine path with a 3 s receipt wait instead of the 120 s default
    request = vault_abi.deposit(bindings.singleton("VAULT"), account.address, value=5)
    with pytest.raises(TxMayHaveLandedError) as caught:
        execute_request(request, account.account, receipt_timeout=3)
    assert caught.value.tx_hash is not None
    assert caught.value.tx_hash.startswith("0x")
    assert len(caught.value.tx_hash) == 66
    assert world.nonce(account.address) == before
    proxy.clear()
    # the next write re-reads the nonce from the node and lands exactly once
    receipt = vault.deposit(account.address, 5, signer=account.account)
    assert receipt.status == 1
    assert world.nonce(account.address) == before + 1
    assert vault.get_balance_of(account.address) == 5


def test_nonce_too_low_resyncs_and_retries(http_world: Any, proxy: Any) -> None:
    world = http_world
    account = world.client
    vault.deposit(account.address, 1, signer=account.account)  # caches the nonce
    # another process sends from the same key: the cached nonce is now stale
    outside = Web3(Web3.HTTPProvider(proxy.url))
    signed = account.account.sign_transaction(
        {
            "chainId": 1337,
            "nonce": world.nonce(account.address),
            "to": account.address,
            "value": 0,
            "gas": 21000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    outside.eth.send_raw_transaction(signed.raw_transaction)
    before = world.nonce(account.address)
    proxy.reset_counts()
    receipt = vault.deposit(account.address, 1, signer=account.account)
    assert receipt.status == 1
    assert world.nonce(account.address) == before + 1
    assert proxy.count("eth_sendRawTransaction") == 2
    assert proxy.count("eth_getTransactionCount") == 1


@pytest.mark.slow
def test_underpriced_replacement_resyncs_and_underpriced_bumps_fees(
    http_world: Any, proxy: Any
) -> None:
    world = http_world
    account = world.client
    vault.deposit(account.address, 1, signer=account.account)
    before = world.nonce(account.address)
    proxy.add(
        "eth_sendRawTransaction", Fault.RPC_ERROR, message="replacement transaction underpriced"
    )
    first = vault.deposit(account.address, 1, signer=account.account)
    assert world.nonce(account.address) == before + 1
    proxy.add("eth_sendRawTransaction", Fault.RPC_ERROR, message="transaction underpriced")
    second = vault.deposit(account.address, 1, signer=account.account)
    assert world.nonce(account.address) == before + 2
    tip_first = world.devnet.tester.get_transaction_by_hash(first.tx_hash)[
        "max_priority_fee_per_gas"
    ]
    tip_second = world.devnet.tester.get_transaction_by_hash(second.tx_hash)[
        "max_priority_fee_per_gas"
    ]
    assert tip_second > tip_first


@pytest.mark.slow
def test_persistent_nonce_rejection_raises_nonce_error(http_world: Any, proxy: Any) -> None:
    world = http_world
    account = world.client
    before = world.nonce(account.address)
    proxy.add("eth_sendRawTransaction", Fault.RPC_ERROR, message="nonce too low", times=None)
    with pytest.raises(NonceError):
        vault.deposit(account.address, 2, signer=account.account)
    assert proxy.count("eth_sendRawTransaction") == 4  # first try + max_retries (3)
    assert world.nonce(account.address) == before


def test_rejected_transaction_is_a_tx_error_and_frees_the_nonce(
    http_world: Any, proxy: Any
) -> None:
    world = http_world
    account = world.client
    before = world.nonce(account.address)
    proxy.add("eth_sendRawTransaction", Fault.RPC_ERROR, message="intrinsic gas too low")
    with pytest.raises(TxError) as caught:
        vault.deposit(account.address, 2, signer=account.account)
    assert not isinstance(caught.value, TxRevertError)
    receipt = vault.deposit(account.address, 2, signer=account.account)
    tx = world.devnet.tester.get_transaction_by_hash(receipt.tx_hash)
    assert int(tx["nonce"]) == before


def test_load_probes_are_one_request(http_world: Any, proxy: Any) -> None:
    world = http_world
    proxy.reset_counts()
    with pytest.raises(TaskNotFoundError):
        Task.load(world.client.address)
    assert proxy.requests == 1
    source = world.source()
    proxy.reset_counts()
    assert Source.load(source.address) == source
    assert proxy.requests == 1
    proxy.reset_counts()
    with pytest.raises(ResponseNotFoundError):
        Response.load(source.address)
    with pytest.raises(TaskNotFoundError):
        Task.load(source.address)
    assert proxy.requests == 2


@pytest.mark.slow
def test_status_zero_receipt_is_decoded_by_replay(http_world: Any, rpc_server: Any) -> None:
    """Two conflicting transactions pass the preflight against the same state;
    the one mined second fails on chain and its revert is recovered by replay."""
    world = http_world
    world.fund(world.client)
    source = world.source()
    task = world.task(source)
    world.register(source)
    tester = world.devnet.tester
    outcome: dict[str, Any] = {}

    def run(name: str, call: Any) -> None:
        try:
            outcome[name] = call()
        except BaseException as exc:
            outcome[name] = exc

    def pending() -> int:
        with world.devnet.lock:
            return len(tester._pending_transactions)

    with world.devnet.lock:
        tester.disable_auto_mine_transactions()
    try:
        attempt = threading.Thread(
            target=run,
            args=(
                "attempt",
                lambda: nexus.attempt(
                    task.address, world.provider.address, 1, signer=world.provider.account
                ),
            ),
        )
        attempt.start()
        world.wait_until(lambda: pending() == 1)
        cancel = threading.Thread(
            target=run, args=("cancel", lambda: task.cancel(signer=world.client.account))
        )
        cancel.start()
        world.wait_until(lambda: pending() == 2)
        rpc_server.dispatcher.mine(1)
        attempt.join()
        cancel.join()
    finally:
        with world.devnet.lock:
            tester.enable_auto_mine_transactions()

    assert isinstance(outcome["attempt"], Receipt)
    error = outcome["cancel"]
    assert isinstance(error, TaskNotCancelableError)
    assert error.tx_hash is not None
    mined = tester.get_transaction_receipt(error.tx_hash)
    assert mined["status"] == 0
    assert mined["block_number"] == outcome["attempt"].block_number
    assert task.get_status() is TaskStatus.ATTEMPTED


def test_receipt_timeout_carries_the_hash(http_world: Any, rpc_server: Any) -> None:
    world = http_world
    account = world.client
    tester = world.devnet.tester
    request = vault_abi.deposit(bindings.singleton("VAULT"), account.address, value=4)
    with world.devnet.lock:
        tester.disable_auto_mine_transactions()
    try:
        with pytest.raises(ReceiptTimeoutError) as caught:
            TxExecutor.from_request(request, signer=account.account, receipt_timeout=0.3).execute()
        assert isinstance(caught.value, TxMayHaveLandedError)
        tx_hash = caught.value.tx_hash
        assert tx_hash is not None
        rpc_server.dispatcher.mine(1)
    finally:
        with world.devnet.lock:
            tester.enable_auto_mine_transactions()
    assert tester.get_transaction_receipt(tx_hash)["status"] == 1
    assert vault.get_balance_of(account.address) == 4
