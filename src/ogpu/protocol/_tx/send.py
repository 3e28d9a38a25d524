"""Signing, the broadcast, and settling an uncertain broadcast by its hash.

``broadcast`` sends signed bytes and returns what the node proved (``outcome.Verdict``).
When the answer proves nothing (``UNCERTAIN``: the bytes left, the answer is an
unknown error or none), ``settle`` decides by the locally computed hash before anything
is reported: the receipt, ``eth_getTransactionByHash`` and the account's nonce, asked
in one JSON-RPC batch. A node that does not hold the transaction, while the nonce is
still free, gets the *same signed bytes* again (so at most one of them can land); a
second transaction is never signed for an uncertain one. Still unknown at the end
(the node does not hold them after every resend, or its window or the ambient budget
ran out while it could not tell): ``UNCERTAIN``, which the callers raise as an error
carrying the hash.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ogpu.chain import rpc
from ogpu.chain.nonce import NonceManager
from ogpu.protocol import _deadline
from ogpu.protocol._tx import clock
from ogpu.protocol._tx.calls import RETRY_PAUSE
from ogpu.protocol._tx.fees import fees
from ogpu.protocol._tx.outcome import Verdict, classify, refusal
from ogpu.protocol._tx.prepare import Target
from ogpu.types.errors import InvalidParamsError, OGPUError, TxMayHaveLandedError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

__all__ = [
    "Broadcast",
    "Peek",
    "Signed",
    "broadcast",
    "may_have_landed",
    "send_until_held",
    "settle",
    "sign",
]

logger = logging.getLogger("ogpu.tx")

#: Seconds an uncertain broadcast is looked up while the node cannot tell (default).
SETTLE_WINDOW = 30.0
#: (receipt or None, latest block header or None) seen with a broadcast.
Peek = tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]


@dataclass(frozen=True)
class Signed:
    """A locally signed transaction: its bytes, hash, sender and nonce."""

    raw: bytes
    tx_hash: str
    sender: str
    nonce: int

    @property
    def payload(self) -> str:
        return "0x" + self.raw.hex()


@dataclass(frozen=True)
class Broadcast:
    """What a broadcast proved, the node's words, and the receipt seen with it (if any)."""

    verdict: Verdict
    message: str = ""
    peek: Peek | None = None


def sign(
    account: LocalAccount, chain_id: int, nonce: int, target: Target, gas: int, fees: dict[str, int]
) -> Signed:
    """Sign a type-2 (or legacy, by ``fees``) transaction locally. No RPC.

    Raises:
        InvalidParamsError: the signer refused (the key never appears in the message).
    """
    tx: dict[str, Any] = {
        "chainId": chain_id,
        "nonce": nonce,
        "to": target.to,
        "value": target.value,
        "data": target.data,
        "gas": gas,
        **fees,
    }
    if "maxFeePerGas" in tx:
        tx["type"] = 2
    try:
        signed = account.sign_transaction(tx)
    except Exception as exc:
        raise InvalidParamsError(
            f"the signer could not sign the transaction: {type(exc).__name__}"
        ) from None
    tx_hash = "0x" + bytes(signed.hash).hex()
    return Signed(bytes(signed.raw_transaction), tx_hash, account.address, nonce)


def may_have_landed(tx: Signed, message: str) -> TxMayHaveLandedError:
    """The error of a broadcast whose outcome stayed unknown. No RPC."""
    return TxMayHaveLandedError(
        f"the broadcast of {tx.tx_hash} may have reached the node ({message or 'no answer'}) "
        "and its hash could not be settled; look it up before sending again",
        tx_hash=tx.tx_hash,
    )


def _mapping(value: object) -> Mapping[str, Any] | None:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else None


def mined(found: object) -> bool:
    """Whether ``found`` (an ``eth_getTransactionReceipt`` answer) is a mined receipt."""
    return isinstance(found, Mapping) and found.get("blockNumber") is not None


def _send_alone(w3: Web3, tx: Signed) -> Broadcast:
    try:
        rpc.request(w3, "eth_sendRawTransaction", [tx.payload])
    except (rpc.ExecutionReverted, rpc.NodeError, rpc.TransportError) as exc:
        return Broadcast(*classify(exc, tx.tx_hash))
    return Broadcast(Verdict.SENT)


def _send_and_peek(w3: Web3, tx: Signed) -> Broadcast:
    """The send with the receipt and the latest header in the same JSON-RPC batch: a node
    that mines on arrival answers the receipt at once, which saves the first poll."""
    try:
        sent, found, head = rpc.batch(
            w3,
            [
                ("eth_sendRawTransaction", [tx.payload]),
                ("eth_getTransactionReceipt", [tx.tx_hash]),
                ("eth_getBlockByNumber", ["latest", False]),
            ],
        )
    except rpc.NodeError:  # a node refusing batches (or an error for the whole batch)
        return _send_alone(w3, tx)
    except rpc.TransportError as exc:
        return Broadcast(Verdict.UNCERTAIN, exc.detail)
    verdict, message = classify(sent if isinstance(sent, Exception) else None, tx.tx_hash)
    return Broadcast(verdict, message, (_mapping(found), _mapping(head)))


@dataclass(frozen=True)
class _Look:
    seen: bool  # the node holds the transaction (pending or mined)
    consumed: bool  # the account's nonce moved past ours
    answered: bool  # both hash lookups answered (so "not seen" is the node's word)
    peek: Peek | None


def _look(w3: Web3, tx: Signed, *, nonce: bool = True) -> _Look:
    """The hash (and with ``nonce`` the mined nonce) in one batch: receipt, transaction,
    transaction count."""
    calls: list[tuple[str, list[Any]]] = [
        ("eth_getTransactionReceipt", [tx.tx_hash]),
        ("eth_getTransactionByHash", [tx.tx_hash]),
    ]
    if nonce:
        calls.append(("eth_getTransactionCount", [tx.sender, "latest"]))
    try:
        answers = rpc.batch(w3, calls)
    except rpc.NodeError:
        answers = [item for call in calls for item in rpc.batch(w3, [call])]
    except rpc.TransportError:
        return _Look(False, False, False, None)
    found, known, count = (*answers, None)[:3]
    if mined(found):
        return _Look(True, True, True, (_mapping(found), None))
    if isinstance(known, Mapping):
        return _Look(True, False, True, None)
    consumed = count is not None and not isinstance(count, Exception)
    consumed = consumed and rpc.to_int(count) > tx.nonce
    answered = not isinstance(found, Exception) and not isinstance(known, Exception)
    return _Look(False, consumed, answered, None)


def settle(
    w3: Web3, tx: Signed, message: str, rounds: int, window: float = SETTLE_WINDOW
) -> Broadcast:
    """Decide an uncertain broadcast by its hash: look it up (receipt, transaction, nonce
    in one batch) until the node holds it, sending the same bytes again (at most
    ``rounds`` times) while it does not and the nonce is free.

    Returns ``SENT`` (with the receipt when mined) once the node holds the transaction;
    a rejection when the same bytes, sent again while the node did not hold them and
    the nonce was free, were refused for a known reason; ``UNCERTAIN`` once the node
    says it does not hold them after every resend, or when ``window`` seconds (capped by
    the ambient budget) pass while it cannot tell (lookups failing, or the nonce used
    while the hash is unseen: a lagging replica or another transaction).
    """
    deadline = time.monotonic() + clock.left(window)
    resends = 0
    for index in itertools.count():
        look = _look(w3, tx)
        if look.seen:
            return Broadcast(Verdict.SENT, message, look.peek)
        if not look.consumed and resends < rounds:
            resends += 1
            again = _send_alone(w3, tx)
            final = again.verdict.rejected and again.verdict is not Verdict.NONCE
            if again.verdict is Verdict.SENT or final:
                return again  # held now, or refused for good while it did not hold them
            message = again.message or message
        elif look.answered and not look.consumed:
            break  # the node's word: it does not hold them, and every resend was spent
        left = min(deadline - time.monotonic(), clock.left())
        if left <= 0:
            break
        clock.pause(min(RETRY_PAUSE * (2**index), 1.0, left))
    return Broadcast(Verdict.UNCERTAIN, message)


def broadcast(
    w3: Web3, tx: Signed, rounds: int, *, peek: bool = True, window: float = SETTLE_WINDOW
) -> Broadcast:
    """Send ``tx`` and return what the node proved, an uncertain answer settled by hash
    (see ``settle``, which ``rounds`` and ``window`` bound). ``peek``: batch the first
    receipt poll with the send.

    Cost: the send (with a receipt poll when ``peek``); when uncertain, lookup batches
    (with pauses growing to 1 s) and at most ``rounds`` sends of the same bytes.
    """
    outcome = _send_and_peek(w3, tx) if peek else _send_alone(w3, tx)
    if outcome.verdict is Verdict.UNCERTAIN:
        return settle(w3, tx, outcome.message, rounds, window)
    if outcome.verdict is Verdict.NONCE:
        # "nonce too low" may be about these very bytes (a duplicated delivery mined
        # them): look the hash up before anyone signs another transaction
        look = _look(w3, tx, nonce=False)
        if look.seen:
            return Broadcast(Verdict.SENT, outcome.message, look.peek)
    return outcome


def send_until_held(
    w3: Web3,
    target: Target,
    account: LocalAccount,
    chain_id: int,
    gas: int,
    retries: int,
    fee_fields: dict[str, int],
    window: float,
) -> tuple[Signed, Broadcast]:
    """Sign with the account's next nonce and broadcast, until the node holds the
    transaction; (signed, broadcast). A nonce or fee refusal is signed again (a fresh
    nonce, or fees 25% higher) up to ``retries`` times; ``window``: seconds an uncertain
    broadcast may be settled (see ``settle``).

    Raises (the node proved nothing was sent, unless said):
        TxMayHaveLandedError: the outcome stayed unknown (carries the hash; maybe sent).
        NonceError, GasError, TxError: the refusal outlasted the retries, or was final.
        PublishTimeoutError: the ambient budget ran out before the broadcast.
    """
    sender = account.address
    lock = NonceManager.account_lock(chain_id, sender)
    for tries in range(1, retries + 2):
        with lock:
            nonce = NonceManager.reserve(w3, chain_id, sender)
            try:
                tx = sign(account, chain_id, nonce, target, gas, fee_fields)
                _deadline.before_broadcast()  # never send what the budget no longer covers
            except OGPUError:
                NonceManager.release(chain_id, sender, nonce)
                raise
            try:
                outcome = broadcast(w3, tx, retries, window=window)
            except (rpc.NodeError, rpc.TransportError, KeyError, TypeError, ValueError) as exc:
                outcome = Broadcast(Verdict.UNCERTAIN, str(exc))  # the bytes may have left
            if outcome.verdict is Verdict.SENT:
                return tx, outcome
            if outcome.verdict is Verdict.UNCERTAIN:
                NonceManager.reset(chain_id, sender)
                raise may_have_landed(tx, outcome.message)
            if outcome.verdict is Verdict.NONCE:
                NonceManager.resync(w3, chain_id, sender)
            else:
                NonceManager.release(chain_id, sender, nonce)
        if outcome.verdict in (Verdict.FUNDS, Verdict.INVALID) or tries > retries:
            raise refusal(
                outcome.verdict,
                sender=sender,
                context=target.context,
                message=outcome.message,
                tries=tries,
                nonce_problem=f"nonce collisions for {sender} after {tries} tries",
            )
        if outcome.verdict is Verdict.FEE:
            fee_fields = fees(w3, retries, tries)
        logger.warning(
            "[%s] %s refused (%s); retrying", target.context, tx.tx_hash, outcome.verdict.value
        )
        clock.pause(0.05)
    raise AssertionError("unreachable")
