"""Cancel an account's stuck transactions: the official ``fix_nonce``'s replacement sends.

For every nonce between the account's mined and pending counts, a 0-value transfer to
itself at 1.2x the node's gas price takes the stuck transaction's place in the mempool
(geth, like most nodes, accepts a replacement priced 10% above the one it replaces).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from ogpu.chain import rpc
from ogpu.types.errors import RPCError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from eth_account.types import TransactionDictType
    from web3 import Web3

__all__ = ["NODE_ERRORS", "cancel_stuck", "read_quantity", "transaction_count"]

_log = logging.getLogger("ogpu.chain")

_TRANSFER_GAS = 21_000
_POLL_SECONDS = 0.25
# What a node read can raise, a malformed quantity (TypeError) included.
NODE_ERRORS = (rpc.NodeError, rpc.TransportError, rpc.ExecutionReverted, TypeError)


def read_quantity(w3: Web3, method: str, params: list[Any], what: str) -> int:
    """One quantity read (a count, a price, the chain id). One RPC.

    Raises:
        RPCError: the node failed, or answered something that is not a quantity.
    """
    try:
        return rpc.to_int(rpc.request(w3, method, params))
    except NODE_ERRORS as exc:
        message = f"cannot read {what}: {exc}"
        raise RPCError(message=message, method=method, cause=str(exc)) from None


def transaction_count(w3: Web3, address: str, block: str) -> int:
    """The account's transaction count at ``block``. One RPC. Raises RPCError."""
    params = [address, block]
    return read_quantity(w3, "eth_getTransactionCount", params, f"the {block} nonce of {address}")


def cancel_stuck(
    w3: Web3, chain_id: int, signer: LocalAccount, mined: int, pending: int, *, wait: float
) -> list[str]:
    """Send one cancellation per nonce in ``[mined, pending)``; return their hashes.

    Costs one ``eth_gasPrice``, one send per nonce, then ``eth_getTransactionCount``
    polls for at most ``wait`` seconds until the cancellations are mined. A send the node
    refuses (e.g. the stuck transaction pays more) is logged and skipped; nothing is
    ever sent twice.

    Raises:
        RPCError: the gas price or the counts cannot be read.
    """
    # 1.2x the node's price: enough for a node to accept the replacement
    price = read_quantity(w3, "eth_gasPrice", [], "the gas price to cancel with") * 6 // 5 + 1
    hashes: list[str] = []
    for nonce in range(mined, pending):
        transfer: TransactionDictType = {
            "to": signer.address,
            "value": 0,
            "nonce": nonce,
            "gas": _TRANSFER_GAS,
            "gasPrice": price,
            "chainId": chain_id,
        }
        raw = "0x" + bytes(signer.sign_transaction(transfer).raw_transaction).hex()
        try:
            hashes.append(str(rpc.request(w3, "eth_sendRawTransaction", [raw])))
        except NODE_ERRORS as exc:
            # Refused, or its outcome unknown: a resend could pay twice, so report and go on.
            _log.warning("could not cancel nonce %d of %s: %s", nonce, signer.address, exc)
            continue
        _log.info("cancelling nonce %d of %s (tx %s)", nonce, signer.address, hashes[-1])
    deadline = time.monotonic() + wait
    while hashes and transaction_count(w3, signer.address, "latest") < pending:
        if time.monotonic() >= deadline:
            _log.warning("cancellations of %s not mined within %.1f s", signer.address, wait)
            break
        time.sleep(_POLL_SECONDS)
    return hashes
