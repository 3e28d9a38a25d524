"""Broadcasting many transactions from one account: consecutive nonces, batched sends.

Under the account's lock: one nonce per item, every item signed locally, all broadcast
in nonce order in JSON-RPC batches.
An item the batch did not prove sent is settled alone (``_resend``): an uncertain one by
its hash, a fee refusal re-signed with higher fees for the same nonce, a nonce refusal
sent once more alone and, if its nonce was taken, re-signed with a fresh one after the
rest. An item that cannot be sent leaves a nonce gap, filled with a zero-value transfer
to self so the later transactions are not stuck behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ogpu.chain import rpc
from ogpu.chain.nonce import NonceManager
from ogpu.protocol import _deadline
from ogpu.protocol._tx.calls import chunks
from ogpu.protocol._tx.fees import fees
from ogpu.protocol._tx.outcome import Verdict, classify, refusal
from ogpu.protocol._tx.prepare import Target
from ogpu.protocol._tx.send import (
    SETTLE_WINDOW,
    Signed,
    broadcast,
    may_have_landed,
    settle,
    sign,
)
from ogpu.types.errors import NonceError, OGPUError, TxMayHaveLandedError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3


_TRANSFER_GAS = 21_000
# failures that leave no nonce gap: the bytes may still land, or the nonce is used
_NO_GAP = (TxMayHaveLandedError, NonceError)
_RETRIED = (Verdict.NONCE, Verdict.FEE, Verdict.UNCERTAIN)


@dataclass
class Item:
    """One transaction of a batch: what it calls, its gas limit, and how far it got."""

    target: Target
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


def _resend(
    w3: Web3,
    item: Item,
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
                try:
                    bumped = fees(w3, retries, tries)
                except OGPUError as exc:  # not sent: the node refused the underpriced bytes
                    item.error = exc
                    return
                item.tx = sign(account, chain_id, item.nonce, item.target, item.gas, bumped)
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


def _fill_gap(w3: Web3, item: Item, account: LocalAccount, chain_id: int, retries: int) -> None:
    """Use a failed item's nonce for a zero-value transfer to self, so the transactions
    after it are not stuck behind a gap (a node without a queue rejects them until it
    is filled). Best effort: a failure leaves the gap; the nonce cache is reset."""
    filler = Target(
        to=account.address,
        data=b"",
        value=0,
        contract=None,
        function=None,
        args=(),
        context="nonce gap filler",
    )
    try:
        tx = sign(account, chain_id, item.nonce, filler, _TRANSFER_GAS, fees(w3, retries, 1))
    except OGPUError:
        return
    broadcast(w3, tx, retries, peek=False)


def _send_batches(w3: Web3, items: Sequence[Item]) -> list[tuple[Verdict, str]]:
    """Every item's bytes in batched ``eth_sendRawTransaction`` s; what each answer proved.

    Nothing else rides in these batches: a read failing there (a lagging replica, a
    held request) would leave the sends' outcome unknown."""
    verdicts: list[tuple[Verdict, str]] = []
    for chunk in chunks(items):
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


def _sign_all(
    w3: Web3, items: Sequence[Item], account: LocalAccount, chain_id: int, fee: dict[str, int]
) -> None:
    """Reserve consecutive nonces and sign every item (caller holds the account's lock);
    on a failure, or a budget spent before the broadcast, the nonces are handed back.

    Raises:
        InvalidParamsError: the signer refused. PublishTimeoutError: the budget is spent.
    """
    sender = account.address
    with _deadline.pre_send_reads():
        for item in items:
            item.nonce = NonceManager.reserve(w3, chain_id, sender)
    try:
        for item in items:
            item.tx = sign(account, chain_id, item.nonce, item.target, item.gas, fee)
        _deadline.before_broadcast()  # never send what the budget no longer covers
    except OGPUError:
        for item in reversed(items):
            NonceManager.release(chain_id, sender, item.nonce)
        raise


def broadcast_all(
    w3: Web3,
    items: Sequence[Item],
    account: LocalAccount,
    chain_id: int,
    fee: dict[str, int],
    retries: int,
    window: float = SETTLE_WINDOW,
) -> None:
    """Sign every item with consecutive nonces and broadcast them in order (batched);
    items not proved sent are settled alone, a failed one's nonce filled when later
    ones follow. Each item ends ``sent`` or with its ``error``.

    Cost: ceil(N/100) send batches; per item not proved sent, its settling lookups.

    Raises (nothing sent):
        InvalidParamsError: the signer refused. PublishTimeoutError: the budget is spent.
        NonceError: the pending nonce cannot be read.
    """
    sender = account.address
    with NonceManager.account_lock(chain_id, sender):
        _sign_all(w3, items, account, chain_id, fee)
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
        try:
            if taken:
                NonceManager.resync(w3, chain_id, sender)
            for item in taken:
                item.nonce = NonceManager.reserve(w3, chain_id, sender)
                item.tx = sign(account, chain_id, item.nonce, item.target, item.gas, fee)
                item.error = None
                _resend(w3, item, account, chain_id, retries, Verdict.NONCE, "", window)
        except OGPUError:
            pass  # the rest keep their NonceError: the others were sent, report per item
        if not all(item.sent for item in items):
            NonceManager.reset(chain_id, sender)
