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

from ogpu.chain import rpc
from ogpu.chain.nonce import NonceManager
from ogpu.protocol import _bindings as b
from ogpu.protocol import _executor as ex
from ogpu.types.errors import (
    GasError,
    NonceError,
    OGPUError,
    TxError,
    TxMayHaveLandedError,
    TxReceiptTimeoutError,
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
    target: ex._Target
    gas: int
    nonce: int = -1
    raw: bytes = b""
    tx_hash: str = ""
    sent: bool = False
    error: OGPUError | None = None


def _chunks(items: Sequence[Any], size: int = BATCH_LIMIT) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def labelled(error: OGPUError, label: str) -> OGPUError:
    """``error`` with its message prefixed by ``label`` (which item of a batch). No I/O."""
    error.message = f"{label}: {error.message}"
    error.args = (error.message,)
    return error


def _batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]], retries: int) -> list[Any]:
    """``rpc.batch`` retried on transport failures; a node refusing batches gets the calls
    one by one (``rpc.batch`` of one call)."""
    for attempt in range(retries + 1):
        try:
            return rpc.batch(w3, calls)
        except rpc.TransportError as exc:
            if attempt >= retries:
                raise b.rpc_error(exc) from None
        except rpc.NodeError:
            return [item for call in calls for item in rpc.batch(w3, [call])]
        time.sleep(ex._RETRY_PAUSE * (2**attempt))
    raise AssertionError("unreachable")


def _estimate_all(
    w3: Web3,
    targets: Sequence[ex._Target],
    account: LocalAccount,
    labels: Sequence[str],
    retries: int,
) -> tuple[list[int], dict[str, int]]:
    calls: list[tuple[str, list[Any]]] = [
        ("eth_estimateGas", [ex._call_object(t, account.address)]) for t in targets
    ]
    calls += [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])]
    answers: list[Any] = []
    for chunk in _chunks(calls):
        answers += _batch(w3, chunk, retries)
    *estimates, block, tip = answers
    gas: list[int] = []
    for target, estimate, label in zip(targets, estimates, labels, strict=True):
        if isinstance(estimate, rpc.TransportError) or (
            isinstance(estimate, rpc.NodeError) and ex._is_transient(estimate)
        ):
            estimate = ex._estimate_once(w3, ex._call_object(target, account.address))
        try:
            gas.append(int(ex._checked_estimate(estimate, target, account) * ex.GAS_MARGIN) + 1)
        except OGPUError as exc:
            raise labelled(exc, label) from None
    if isinstance(block, Exception):
        block = ex._with_retries(w3, "eth_getBlockByNumber", ["latest", False], retries)
    fees = ex._fee_fields(w3, block, None if isinstance(tip, Exception) else tip, retries, 0)
    return gas, fees


_SENT, _UNKNOWN = "sent", "unknown"
# failures that leave no nonce gap: the bytes may still land, or the nonce is used
_NO_GAP = (TxMayHaveLandedError, NonceError)


def _batch_verdict(answer: Any) -> tuple[str, str]:
    """(SENT | UNKNOWN | a ``_classify`` class, node message) of one batched broadcast."""
    if isinstance(answer, rpc.TransportError):
        return _UNKNOWN, answer.detail
    if isinstance(answer, rpc.NodeError):
        kind = ex._classify(answer.message)
        if kind == "other" and ex._is_transient(answer):
            kind = "nonce"  # try again alone, same bytes
        return (_SENT if kind == "known" else kind), answer.message
    return _SENT, ""  # accepted (or, on a node that mines on arrival, reverted: mined)


def _resend(
    w3: Web3,
    item: _Item,
    account: LocalAccount,
    chain_id: int,
    retries: int,
    verdict: str,
    message: str,
) -> None:
    """Settle one item the batch did not send: ``nonce`` (a gap left by an earlier item on
    a node without a queue, or a transient error) and ``unknown`` re-send the same bytes
    alone; ``fee`` re-signs the same nonce with higher fees; others are final."""
    bump = 0
    for _ in range(retries + 1):
        if verdict == "fee":
            bump += 1
            fees = ex._fees(w3, retries, bump)
            item.raw, item.tx_hash = ex.sign(
                account, chain_id, item.nonce, item.target, item.gas, fees
            )
        elif verdict not in ("nonce", _UNKNOWN):
            break
        elif verdict == _UNKNOWN and ex._lookup(w3, item.tx_hash):
            item.sent = True
            return
        outcome, message, _ = ex._broadcast(w3, item.raw, item.tx_hash, retries)
        if outcome == ex._Broadcast.SENT:
            item.sent = True
            return
        if outcome == ex._Broadcast.UNKNOWN:
            item.error = TxMayHaveLandedError(
                f"broadcast of {item.tx_hash} got no answer and the node does not report it; "
                "look it up before sending again",
                tx_hash=item.tx_hash,
            )
            return
        if outcome == "nonce" and ex._receipt_once(w3, item.tx_hash) is not None:
            item.sent = True  # these very bytes were mined (a lagging replica hid the lookup)
            return
        verdict = outcome if outcome != "nonce" or verdict != "nonce" else "taken"
    if verdict == "taken":
        item.error = NonceError(
            message=f"nonce {item.nonce} of {account.address} was taken by another transaction"
        )
    elif verdict == "funds":
        item.error = GasError(message=f"{account.address} cannot pay for gas and value: {message}")
    elif verdict == "fee":
        item.error = GasError(
            message=f"the transaction stayed underpriced after {retries + 1} tries"
        )
    else:
        item.error = TxError(
            f"the node rejected the transaction to {item.target.context}: {message}"
        )


def _fill_gap(w3: Web3, item: _Item, account: LocalAccount, chain_id: int, retries: int) -> None:
    """Use a failed item's nonce for a zero-value transfer to self, so the transactions
    after it are not stuck behind a gap (a node without a queue rejects them until it
    is filled). Best effort: a failure leaves the gap; the nonce cache is reset."""
    filler = ex._Target(
        to=account.address,
        data=b"",
        value=0,
        contract=None,
        function=None,
        args=(),
        context="nonce gap filler",
    )
    try:
        fees = ex._fees(w3, retries, 1)
        raw, tx_hash = ex.sign(account, chain_id, item.nonce, filler, _TRANSFER_GAS, fees)
    except OGPUError:
        return
    ex._broadcast(w3, raw, tx_hash, retries)


def _broadcast_all(
    w3: Web3,
    items: Sequence[_Item],
    account: LocalAccount,
    chain_id: int,
    fees: dict[str, int],
    retries: int,
) -> None:
    """Sign every item with consecutive nonces and broadcast them in order (batched);
    rejected items are retried alone, a failed one's nonce filled when later ones follow."""
    lock = NonceManager.account_lock(chain_id, account.address)
    with lock:
        for item in items:
            item.nonce = NonceManager.reserve(w3, chain_id, account.address)
        try:
            for item in items:
                item.raw, item.tx_hash = ex.sign(
                    account, chain_id, item.nonce, item.target, item.gas, fees
                )
        except OGPUError:
            for item in reversed(items):
                NonceManager.release(chain_id, account.address, item.nonce)
            raise
        verdicts: list[tuple[str, str]] = []
        for chunk in _chunks(items):
            calls = [("eth_sendRawTransaction", ["0x" + item.raw.hex()]) for item in chunk]
            try:
                answers = rpc.batch(w3, calls)
            except rpc.TransportError as exc:
                answers = [exc] * len(chunk)
            except rpc.NodeError:  # batches refused: each item goes alone
                answers = [rpc.NodeError("batch", None, "try again")] * len(chunk)
            verdicts += [_batch_verdict(answer) for answer in answers]
        for i, (item, (verdict, message)) in enumerate(zip(items, verdicts, strict=True)):
            if verdict == _SENT:
                item.sent = True
                continue
            _resend(w3, item, account, chain_id, retries, verdict, message)
            later = i < len(items) - 1
            if not item.sent and later and not isinstance(item.error, _NO_GAP):
                _fill_gap(w3, item, account, chain_id, retries)
        # a nonce another transaction took (a stale nonce read) leaves these bytes dead:
        # sign the item again with a fresh nonce, after the others
        taken = [item for item in items if isinstance(item.error, NonceError)]
        if taken:
            NonceManager.resync(w3, chain_id, account.address)
        for item in taken:
            item.error = None
            item.nonce = NonceManager.reserve(w3, chain_id, account.address)
            item.raw, item.tx_hash = ex.sign(
                account, chain_id, item.nonce, item.target, item.gas, fees
            )
            _resend(w3, item, account, chain_id, retries, "nonce", "")
        if not all(item.sent for item in items):
            NonceManager.reset(chain_id, account.address)


def _await_receipts(
    w3: Web3, items: Sequence[_Item], timeout: float, retries: int
) -> dict[int, Any]:
    deadline = time.monotonic() + timeout
    pause, longest = ex.POLL_INTERVAL
    found: dict[int, Any] = {}
    while True:
        pending = [i for i, item in enumerate(items) if item.sent and i not in found]
        if not pending:
            return found
        for chunk in _chunks(pending):
            try:
                answers = _batch(
                    w3,
                    [("eth_getTransactionReceipt", [items[i].tx_hash]) for i in chunk],
                    retries,
                )
            except OGPUError:
                answers = [None] * len(chunk)
            for i, answer in zip(chunk, answers, strict=True):
                if ex._mined(answer):
                    found[i] = answer
        if all(i in found for i in pending):
            return found
        if time.monotonic() >= deadline:
            for i in pending:
                if i not in found:
                    items[i].error = TxReceiptTimeoutError(
                        message=f"no receipt for {items[i].tx_hash} after {timeout:.0f}s; "
                        "it may still be mined",
                        tx_hash=items[i].tx_hash,
                        timeout=timeout,
                    )
            return found
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
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


def execute_requests(
    requests: Sequence[TxRequest],
    signer: LocalAccount,
    *,
    labels: Sequence[str] | None = None,
    max_retries: int = 3,
    receipt_timeout: float = ex.DEFAULT_RECEIPT_TIMEOUT,
) -> list[Outcome]:
    """Send generated ``TxRequest`` s from one account with pipelined nonces; return, per
    request, its ``Receipt`` or the typed error that stopped it.

    ``labels`` name the requests in error messages (default ``"transaction i"``).

    Cost over HTTP (N requests, batches of ``BATCH_LIMIT``): ceil((N+2)/100) batches
    of estimates and fee data, ceil(N/100) broadcast batches, receipt polls of
    ceil(pending/100) batches each, ceil(blocks/100) batches of headers; plus
    ``eth_chainId`` once per Web3 and ``eth_getTransactionCount`` on the
    account's first use.

    Raises (before anything is sent):
        TxRevertError subclasses, GasError: an estimate failed (message names the label).
        RPCError: the node could not be reached.
    """
    names = (
        list(labels) if labels is not None else [f"transaction {i}" for i in range(len(requests))]
    )
    if not requests:
        return []
    targets = [ex.target_of(request) for request in requests]
    w3 = b.web3()
    chain_id = ex.chain_id_of(w3, max_retries)
    gas, fees = _estimate_all(w3, targets, signer, names, max_retries)
    items = [_Item(target, limit) for target, limit in zip(targets, gas, strict=True)]
    _broadcast_all(w3, items, signer, chain_id, fees, max_retries)
    found = _await_receipts(w3, items, receipt_timeout, max_retries)
    headers = _block_headers(
        w3, {rpc.to_int(r["blockNumber"]) for r in found.values()}, max_retries
    )
    outcomes: list[Outcome] = []
    for i, item in enumerate(items):
        receipt = found.get(i)
        if receipt is None:
            error = item.error or TxError(f"{names[i]} was not sent", tx_hash=item.tx_hash or None)
            outcomes.append(labelled(error, names[i]))
            continue
        if rpc.to_int(receipt.get("status", 1)) != 1:
            failure = ex._failed(w3, item.target, signer, receipt, item.gas, item.tx_hash)
            outcomes.append(labelled(failure, names[i]))
            continue
        head = headers.get(rpc.to_int(receipt["blockNumber"]))
        outcomes.append(ex._build_receipt(w3, receipt, head, max_retries))
    return outcomes
