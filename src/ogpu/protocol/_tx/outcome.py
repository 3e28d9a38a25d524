"""What the answer to a broadcast proves: the one classifier of every write path.

The rule is inverted on purpose: an error means "not sent" only when it is one of the
known *pre-acceptance* rejections below (the node checked the signed bytes and refused
them). Every other failure after the bytes left (a JSON-RPC error such as ``-32603
Internal error``, ``-32002 request timed out``, ``header not found``, ``context deadline
exceeded``, a bare string error, a dropped connection, an HTTP 502, a malformed answer)
is ``UNCERTAIN``: the node may hold the transaction, so it is settled by its hash, never
reported as rejected and never replaced by a second signed transaction.
"""

from __future__ import annotations

import enum
import re

from ogpu.chain import rpc
from ogpu.types.errors import GasError, NonceError, TxError

__all__ = ["Verdict", "classify", "refusal"]


class Verdict(enum.Enum):
    """What one broadcast answer proves about the signed bytes."""

    SENT = "sent"  # accepted, or the node already holds these very bytes
    NONCE = "nonce"  # the nonce is used or not yet usable: not sent, sign again
    FEE = "fee"  # underpriced: not sent, bump the fees
    FUNDS = "funds"  # the sender cannot pay: not sent
    INVALID = "invalid"  # the node refuses these bytes for good: not sent
    UNCERTAIN = "uncertain"  # the node may hold them: settle by hash

    @property
    def rejected(self) -> bool:
        """Whether the node proved it does not hold the transaction."""
        return self in (Verdict.NONCE, Verdict.FEE, Verdict.FUNDS, Verdict.INVALID)


_KNOWN = ("already known", "known transaction", "already imported", "already in pool")
# Checked in order: the first matching group wins (a replacement that is underpriced is
# a nonce problem, not a fee problem; a tip above the fee cap is invalid, not low).
_REJECTIONS: tuple[tuple[Verdict, tuple[str, ...]], ...] = (
    (
        Verdict.NONCE,
        (
            "nonce too low",
            "nonce too high",
            "invalid transaction nonce",
            "invalid nonce",
            "correct nonce",  # ganache: "the tx doesn't have the correct nonce"
            "replacement transaction underpriced",
            "replacement fee too low",
        ),
    ),
    (
        Verdict.INVALID,
        (
            "intrinsic gas too low",
            "invalid sender",
            "exceeds block gas limit",
            "gas limit reached",
            "oversized data",
            "transaction type not supported",
            "tx type not supported",
            "invalid chain id",
            "only replay-protected",
            "tip higher than fee cap",
            "max priority fee per gas higher than max fee per gas",
            "nonce has max value",
            "negative value",
        ),
    ),
    (
        Verdict.FEE,
        (
            "underpriced",
            "fee cap",
            "less than block base fee",
            "lower than block's base fee",
            "max fee per gas less than",
        ),
    ),
    (Verdict.FUNDS, ("insufficient funds",)),
)
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


def _known(text: str, tx_hash: str) -> Verdict:
    """'already known' is about these bytes unless it names another transaction."""
    named = {found.lower() for found in _HASH.findall(text)}
    return Verdict.NONCE if named and tx_hash.lower() not in named else Verdict.SENT


def classify_message(message: str, tx_hash: str) -> Verdict:
    """The verdict a node's error message proves for the transaction ``tx_hash``. No I/O."""
    text = message.lower()
    if any(marker in text for marker in _KNOWN):
        return _known(text, tx_hash)
    for verdict, markers in _REJECTIONS:
        if any(marker in text for marker in markers):
            return verdict
    return Verdict.UNCERTAIN


def classify(answer: object, tx_hash: str) -> tuple[Verdict, str]:
    """(verdict, the node's words) for one ``eth_sendRawTransaction`` answer: its result,
    or the ``rpc`` exception it raised. No I/O."""
    if isinstance(answer, rpc.ExecutionReverted):
        # a node that mines on arrival may report the revert at once: the transaction
        # exists, and its receipt tells the rest
        return Verdict.SENT, answer.message
    if isinstance(answer, rpc.TransportError):
        return Verdict.UNCERTAIN, answer.detail
    if isinstance(answer, rpc.NodeError):
        return classify_message(answer.message, tx_hash), answer.message
    if isinstance(answer, Exception):
        return Verdict.UNCERTAIN, f"{type(answer).__name__}: {answer}"
    return Verdict.SENT, ""


def refusal(
    verdict: Verdict, *, sender: str, context: str, message: str, tries: int, nonce_problem: str
) -> TxError:
    """The error of a broadcast the node proved it refused (nothing was sent). No I/O.

    ``nonce_problem`` is the driver's own account of a NONCE verdict (the executor
    re-signs and counts collisions; the pipeline names the nonce that was taken).
    """
    if verdict is Verdict.NONCE:
        return NonceError(message=nonce_problem)
    if verdict is Verdict.FUNDS:
        return GasError(message=f"{sender} cannot pay for gas and value: {message}")
    if verdict is Verdict.FEE:
        return GasError(message=f"the transaction stayed underpriced after {tries} tries")
    return TxError(f"the node rejected the transaction to {context}: {message}")
