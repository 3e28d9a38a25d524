"""``execute_requests``: many transactions from one account, pipelined.

The single-transaction pipeline of ``_executor`` waits for each receipt before
the next nonce is used. Here every step covers all transactions at once
(RPCs in brackets, JSON-RPC batches of at most ``BATCH_LIMIT`` items):

1. preflight: every gas estimate [eth_estimateGas × N] plus the fee data
   [eth_getBlockByNumber, eth_maxPriorityFeePerGas] in batches. Any revert
   raises its typed error here, before anything is signed or sent.
2. under the account's lock: N consecutive nonces, signed locally, broadcast in
   nonce order [eth_sendRawTransaction × N, batched]. A rejected item is
   retried alone with the same bytes (a fee bump re-signs the same nonce; a
   nonce another transaction took re-signs with a fresh one, after the rest);
   one that cannot be sent leaves a nonce gap, filled with a zero-value
   transfer to self so the later transactions are not stuck behind it.
3. receipts [eth_getTransactionReceipt × pending, batched, polled] and block
   times [eth_getBlockByNumber per distinct block, batched].
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import TxRequest

from ogpu import net
from ogpu.chain import rpc
from ogpu.chain.nonce import NonceManager
from ogpu.protocol import _bindings as b
from ogpu.protocol._tx import clock
from ogpu.protocol._tx import prepare as pre
from ogpu.protocol._tx import receipts as rc
from ogpu.protocol._tx.outcome import Verdict, classify, refusal
from ogpu.protocol._tx.send import (
    SETTLE_WINDOW,
    Signed,
    broadcast,
    may_have_landed,
    mined,
    settle,
    sign,
)
from ogpu.types.errors import (
    NonceError,
    OGPUError,
    TxError,
    TxMayHaveLandedError,
)
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

#: Items per JSON-RPC batch (hosted nodes commonly cap batches at 100).
BATCH_LIMIT = 100
_TRANSFER_GAS = 21_000

Outcome = Receipt | OGPUError


@dataclass
class _Item:
    target: pre.Target
    gas: int
    nonce: int = -1
    tx: Signed | None = None
    sent: bool = False
    error: OGPUError | None = None

    @property
    def tx_hash(self) -> str:
        return self.tx.tx_hash if self.tx is not None else ""

    @property
    def signed(self) -> Signed:
        assert self.tx is not None, "signed before broadcast"
        return self.tx


def _chunks(items: Sequence[Any], size: int = BATCH_LIMIT) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def labelled(error: OGPUError, label: str) -> OGPUError:
    """``error`` with its message prefixed by ``label`` (which item of a batch). No I/O."""
    error.message = f"{label}: {error.message}"
    error.args = (error.message,)
    return error


def _batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]], retries: int) -> list[Any]:
    """``rpc.batch`` retried on transport failures; a node refusing batches gets the calls
    one by one (``rpc.batch`` of one call).

    Raises:
        RPCError: no answer within the retries and the ambient budget.
    """

    def attempt(_: net.Budget) -> list[Any]:
        try:
            return rpc.batch(w3, calls)
        except rpc.TransportError as exc:
            raise net.Transient(b.rpc_error(exc)) from None
        except rpc.NodeError:
            return [item for call in calls for item in rpc.batch(w3, [call])]

    return net.run_with_retry(
        attempt, policy=pre.policy(retries), budget=net.effective(None, None), what="batch"
    )


def _estimate_all(
    w3: Web3,
    targets: Sequence[pre.Target],
    sender: str,
    labels: Sequence[str],
    retries: int,
) -> tuple[list[int], dict[str, int]]:
    calls: list[tuple[str, list[Any]]] = [
        ("eth_estimateGas", [pre.call_object(t, sender)]) for t in targets
    ]
    calls += [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])]
    answers: list[Any] = []
    for chunk in _chunks(calls):
        answers += _batch(w3, chunk, retries)
    *estimates, block, tip = answers
    gas: list[int] = []
    for target, estimate, label in zip(targets, estimates, labels, strict=True):
        if pre.is_transient(estimate):
            estimate = pre.estimate_once(w3, pre.call_object(target, sender))
        try:
            gas.append(pre.gas_limit(pre.checked_estimate(estimate, target, sender)))
        except OGPUError as exc:
            raise labelled(exc, label) from None
    if isinstance(block, Exception):
        block = pre.read(w3, "eth_getBlockByNumber", ["latest", False], retries)
    fees = pre.fee_fields(w3, block, None if isinstance(tip, Exception) else tip, retries, 0)
    return gas, fees


# failures that leave no nonce gap: the bytes may still land, or the nonce is used
_NO_GAP = (TxMayHaveLandedError, NonceError)
_RETRIED = (Verdict.NONCE, Verdict.FEE, Verdict.UNCERTAIN)


def _resend(
    w3: Web3,
    item: _Item,
    account: LocalAccount,
    chain_id: int,
    retries: int,
    verdict: Verdict,
    message: str,
    window: float = SETTLE_WINDOW,
) -> None:
    """Settle one item the batch did not send. ``UNCERTAIN``: by its hash (``settle``);
    ``NONCE`` (a gap left by an earlier item on a node without a queue): the same bytes
    alone, once more; ``FEE``: the same nonce signed with higher fees; others are final.
    A nonce refused twice is "taken": the caller signs the item again with a fresh one."""
    tries = 0
    while verdict in _RETRIED and tries <= retries:
        tries += 1
        if verdict is Verdict.UNCERTAIN:
            outcome = settle(w3, item.signed, message, retries, window)
        else:
            if verdict is Verdict.FEE:
                fees = pre.fees(w3, retries, tries)
                item.tx = sign(account, chain_id, item.nonce, item.target, item.gas, fees)
            outcome = broadcast(w3, item.signed, retries, peek=False, window=window)
        if outcome.verdict is Verdict.SENT:
            item.sent = True
            return
        if outcome.verdict is Verdict.UNCERTAIN:
            item.error = may_have_landed(item.signed, outcome.message)
            return
        taken = outcome.verdict is Verdict.NONCE and verdict is Verdict.NONCE
        verdict, message = outcome.verdict, outcome.message
        if taken:
            break
    item.error = refusal(
        verdict,
        sender=account.address,
        context=item.target.context,
        message=message,
        tries=tries,
        nonce_problem=f"nonce {item.nonce} of {account.address} was taken by another transaction",
    )


def _fill_gap(w3: Web3, item: _Item, account: LocalAccount, chain_id: int, retries: int) -> None:
    """Use a failed item's nonce for a zero-value transfer to self, so the transactions
    after it are not stuck behind a gap (a node without a queue rejects them until it
    is filled). Best effort: a failure leaves the gap; the nonce cache is reset."""
    filler = pre.Target(
        to=account.address,
        data=b"",
        value=0,
        contract=None,
        function=None,
        args=(),
        context="nonce gap filler",
    )
    try:
        fees = pre.fees(w3, retries, 1)
        tx = sign(account, chain_id, item.nonce, filler, _TRANSFER_GAS, fees)
    except OGPUError:
        return
    broadcast(w3, tx, retries, peek=False)


def _send_batches(w3: Web3, items: Sequence[_Item]) -> list[tuple[Verdict, str]]:
    """Every item's bytes in batched ``eth_sendRawTransaction`` s; what each answer proved."""
    verdicts: list[tuple[Verdict, str]] = []
    for chunk in _chunks(items):
        calls = [("eth_sendRawTransaction", [item.signed.payload]) for item in chunk]
        answers: list[Any]
        try:
            answers = rpc.batch(w3, calls)
        except rpc.TransportError as exc:
            answers = [exc] * len(chunk)
        except rpc.NodeError as exc:
            # batches refused (or one error for the whole batch): nothing is proved,
            # each item is settled alone by its hash
            answers = [rpc.TransportError("batch", exc.message)] * len(chunk)
        for item, answer in zip(chunk, answers, strict=True):
            failure = answer if isinstance(answer, Exception) else None
            verdicts.append(classify(failure, item.tx_hash))
    return verdicts


def _broadcast_all(
    w3: Web3,
    items: Sequence[_Item],
    account: LocalAccount,
    chain_id: int,
    fees: dict[str, int],
    retries: int,
    window: float = SETTLE_WINDOW,
) -> None:
    """Sign every item with consecutive nonces and broadcast them in order (batched);
    items not proved sent are settled alone, a failed one's nonce filled when later
    ones follow."""
    sender = account.address
    with NonceManager.account_lock(chain_id, sender):
        for item in items:
            item.nonce = NonceManager.reserve(w3, chain_id, sender)
        try:
            for item in items:
                item.tx = sign(account, chain_id, item.nonce, item.target, item.gas, fees)
        except OGPUError:
            for item in reversed(items):
                NonceManager.release(chain_id, sender, item.nonce)
            raise
        verdicts = _send_batches(w3, items)
        for i, (item, (verdict, message)) in enumerate(zip(items, verdicts, strict=True)):
            if verdict is Verdict.SENT:
                item.sent = True
                continue
            _resend(w3, item, account, chain_id, retries, verdict, message, window)
            later = i < len(items) - 1
            if not item.sent and later and not isinstance(item.error, _NO_GAP):
                _fill_gap(w3, item, account, chain_id, retries)
        # a nonce another transaction took (a stale nonce read) leaves these bytes dead:
        # sign the item again with a fresh nonce, after the others
        taken = [item for item in items if isinstance(item.error, NonceError)]
        if taken:
            NonceManager.resync(w3, chain_id, sender)
        for item in taken:
            item.error = None
            item.nonce = NonceManager.reserve(w3, chain_id, sender)
            item.tx = sign(account, chain_id, item.nonce, item.target, item.gas, fees)
            _resend(w3, item, account, chain_id, retries, Verdict.NONCE, "", window)
        if not all(item.sent for item in items):
            NonceManager.reset(chain_id, sender)


def _await_receipts(
    w3: Web3, items: Sequence[_Item], timeout: float, retries: int
) -> dict[int, Mapping[str, Any]]:
    """The mined receipts of the sent items, polled in batches until ``timeout`` or the
    ambient budget; an item without one gets ``ReceiptTimeoutError`` (or, after
    ``MALFORMED_LIMIT`` malformed answers in a row, a typed error), with its hash."""
    seconds = clock.left(timeout)
    deadline = time.monotonic() + seconds
    pause, longest = rc.POLL_INTERVAL
    found: dict[int, Mapping[str, Any]] = {}
    bad: dict[int, int] = {}
    while True:
        pending = [i for i, item in enumerate(items) if item.sent and i not in found]
        pending = [i for i in pending if items[i].error is None]
        if not pending:
            return found
        for chunk in _chunks(pending):
            calls = [("eth_getTransactionReceipt", [items[i].tx_hash]) for i in chunk]
            try:
                answers = _batch(w3, calls, retries)
            except OGPUError:
                answers = [None] * len(chunk)
            for i, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, Mapping) and mined(answer):
                    found[i] = answer
                bad[i] = bad.get(i, 0) + 1 if isinstance(answer, rpc.MalformedAnswer) else 0
                if bad[i] >= rc.MALFORMED_LIMIT:
                    items[i].error = rc.malformed(items[i].tx_hash, "receipt", answer)
        if time.monotonic() >= deadline:
            for i in pending:
                if i not in found and items[i].error is None:
                    items[i].error = rc.receipt_timeout(items[i].tx_hash, seconds)
            return found
        clock.pause(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, longest)


def _block_headers(w3: Web3, numbers: set[int], retries: int) -> dict[int, Any]:
    ordered = sorted(numbers)
    headers: dict[int, Any] = {}
    for chunk in _chunks(ordered):
        try:
            answers = _batch(
                w3, [("eth_getBlockByNumber", [hex(n), False]) for n in chunk], retries
            )
        except OGPUError:
            continue
        for number, answer in zip(chunk, answers, strict=True):
            if isinstance(answer, Mapping):
                headers[number] = answer
    return headers


def _outcome(
    w3: Web3,
    item: _Item,
    account: LocalAccount,
    receipt: Mapping[str, Any],
    head: object,
    retries: int,
) -> Outcome:
    """The item's ``Receipt``, or the typed error of a status-0 or malformed receipt."""
    try:
        if rpc.to_int(receipt.get("status", 1)) != 1:
            return rc.failed(w3, item.target, account.address, receipt, item.gas, item.tx_hash)
        return rc.build_receipt(w3, receipt, head, retries)
    except (KeyError, TypeError, ValueError) as exc:  # rpc.MalformedAnswer is a ValueError
        return rc.malformed(item.tx_hash, "receipt", exc)


def execute_requests(
    requests: Sequence[TxRequest],
    signer: LocalAccount,
    *,
    labels: Sequence[str] | None = None,
    max_retries: int = 3,
    receipt_timeout: float = rc.DEFAULT_RECEIPT_TIMEOUT,
) -> list[Outcome]:
    """Send generated ``TxRequest`` s from one account with pipelined nonces; return, per
    request, its ``Receipt`` or the typed error that stopped it (an error about a
    transaction that may have landed carries its ``tx_hash``).

    ``labels`` name the requests in error messages (default ``"transaction i"``). Every
    wait is capped by the ambient ``ogpu.net.Budget``.

    Cost over HTTP (N requests, batches of ``BATCH_LIMIT``): ceil((N+2)/100) batches
    of estimates and fee data, ceil(N/100) broadcast batches, receipt polls of
    ceil(pending/100) batches each, ceil(blocks/100) batches of headers; plus
    ``eth_chainId`` once per Web3 and ``eth_getTransactionCount`` on the
    account's first use; an uncertain broadcast adds its settling lookups.

    Raises (before anything is sent):
        TxRevertError subclasses, GasError: an estimate failed (message names the label).
        RPCError: the node could not be reached, or answered malformed data.
    """
    names = (
        list(labels) if labels is not None else [f"transaction {i}" for i in range(len(requests))]
    )
    if not requests:
        return []
    targets = [pre.target_of(request) for request in requests]
    w3 = b.web3()
    try:
        chain_id = pre.chain_id_of(w3, max_retries)
        gas, fees = _estimate_all(w3, targets, signer.address, names, max_retries)
    except (rpc.TransportError, rpc.NodeError) as exc:
        raise b.rpc_error(exc) from None
    items = [_Item(target, limit) for target, limit in zip(targets, gas, strict=True)]
    _broadcast_all(w3, items, signer, chain_id, fees, max_retries, receipt_timeout)
    found = _await_receipts(w3, items, receipt_timeout, max_retries)
    numbers = set()
    for receipt in found.values():
        try:
            numbers.add(rpc.to_int(receipt["blockNumber"]))
        except (KeyError, ValueError):
            continue
    headers = _block_headers(w3, numbers, max_retries)
    outcomes: list[Outcome] = []
    for i, item in enumerate(items):
        mined_receipt = found.get(i)
        if mined_receipt is None or item.error is not None:
            error = item.error or TxError(f"{names[i]} was not sent", tx_hash=item.tx_hash or None)
            outcomes.append(labelled(error, names[i]))
            continue
        head = headers.get(rpc.to_int(mined_receipt["blockNumber"]))
        outcome = _outcome(w3, item, signer, mined_receipt, head, max_retries)
        outcomes.append(labelled(outcome, names[i]) if isinstance(outcome, OGPUError) else outcome)
    return outcomes
