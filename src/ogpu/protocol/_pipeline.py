"""``execute_requests``: many transactions from one account, pipelined.

The single-transaction driver (``_executor``) waits for each receipt before the next
nonce is used. This driver runs every step over all transactions at once, on the
engine in ``ogpu.protocol._tx`` (RPCs in brackets, JSON-RPC batches of at most
``BATCH_LIMIT`` items):

1. preflight (``prepare.estimate_all``): the chain id [eth_chainId, once per Web3],
   then one gas estimate per gas group [eth_estimateGas], the fee data
   [eth_getBlockByNumber, eth_maxPriorityFeePerGas] and, on the account's first use,
   its pending nonce [eth_getTransactionCount], in one batch.
   Any revert raises its typed error here, before anything is signed or sent.
2. broadcast (``sendmany.broadcast_all``): under the account's lock, consecutive
   nonces, signed locally, sent in nonce order [eth_sendRawTransaction, batched]; an
   item not proved sent is settled alone by its hash, never signed twice for an
   uncertain send.
3. receipts (``receipts.await_receipts``) [eth_getTransactionReceipt, batched, polled]
   and, unless the caller has no use for them, block times [eth_getBlockByNumber].

Up to 100 transactions cost 3 sequential round trips on a node that mines on arrival
(estimates, broadcast, one receipt poll), plus one for block times unless
``timestamps=False``; a node that mines later takes more receipt polls.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import TxRequest

from ogpu.chain import rpc
from ogpu.protocol import _bindings as b
from ogpu.protocol import _deadline
from ogpu.protocol._tx import prepare as pre
from ogpu.protocol._tx import receipts as rc
from ogpu.protocol._tx.prepare import labelled
from ogpu.protocol._tx.sendmany import Item, broadcast_all
from ogpu.types.errors import OGPUError, TxError
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

__all__ = ["Outcome", "execute_requests", "labelled"]

Outcome = Receipt | OGPUError


def _outcome(
    w3: Web3,
    item: Item,
    account: LocalAccount,
    receipt: Mapping[str, Any],
    head: object,
    retries: int,
    timestamps: bool,
) -> Outcome:
    """The item's ``Receipt``, or the typed error of a status-0 or malformed receipt."""
    try:
        if rpc.to_int(receipt.get("status", 1)) != 1:
            return rc.failed(w3, item.target, account.address, receipt, item.gas, item.tx_hash)
        return rc.build_receipt(w3, receipt, head, retries, timestamp=timestamps)
    except (KeyError, TypeError, ValueError) as exc:  # rpc.MalformedAnswer is a ValueError
        return rc.malformed(item.tx_hash, "receipt", exc)


def execute_requests(
    requests: Sequence[TxRequest],
    signer: LocalAccount,
    *,
    labels: Sequence[str] | None = None,
    max_retries: int = 3,
    receipt_timeout: float = rc.DEFAULT_RECEIPT_TIMEOUT,
    gas_groups: Sequence[Hashable] | None = None,
    timestamps: bool = True,
) -> list[Outcome]:
    """Send generated ``TxRequest`` s from one account with pipelined nonces; return, per
    request, its ``Receipt`` or the typed error that stopped it (an error about a
    transaction that may have landed carries its ``tx_hash``).

    ``labels`` name the requests in error messages (default ``"transaction i"``).
    ``gas_groups[i]`` (default: each request its own) puts requests that do the same
    work under one gas estimate, the one of the member with the most calldata gas.
    ``timestamps=False`` leaves ``Receipt.timestamp`` 0 and reads no block headers.
    Every wait is capped by the ambient ``ogpu.net.Budget``.

    Cost over HTTP (N requests, G gas groups, batches of ``BATCH_LIMIT``):
    ``eth_chainId`` once per Web3; the G estimates and fee data (with
    ``eth_getTransactionCount`` on the account's first use) in ceil((G+2)/100)
    batches; ceil(N/100) broadcast batches; receipt polls of ceil(pending/100)
    batches each; ceil(blocks/100) batches of headers unless ``timestamps=False``; an
    uncertain broadcast adds its settling lookups.

    Raises (before anything is sent):
        TxRevertError subclasses, GasError: an estimate failed (message names the label).
        PublishTimeoutError: the ambient budget ran out before the broadcast.
        ChainNotSupportedError: the node serves another chain.
        RPCError: the node could not be reached, or answered malformed data.
    """
    if not requests:
        return []
    names = (
        list(labels) if labels is not None else [f"transaction {i}" for i in range(len(requests))]
    )
    targets = [pre.target_of(request) for request in requests]
    groups = list(gas_groups) if gas_groups is not None else list(range(len(requests)))
    w3 = b.web3()
    with _deadline.pre_send_reads():
        try:
            chain_id, gas, fees = pre.estimate_all(
                w3, targets, signer.address, names, groups, max_retries
            )
        except (rpc.TransportError, rpc.NodeError) as exc:
            raise b.rpc_error(exc) from None
    items = [Item(target, limit) for target, limit in zip(targets, gas, strict=True)]
    broadcast_all(w3, items, signer, chain_id, fees, max_retries, receipt_timeout)
    hashes = {i: item.tx_hash for i, item in enumerate(items) if item.sent and not item.error}
    found, errors = rc.await_receipts(w3, hashes, receipt_timeout, max_retries)
    headers = rc.block_headers(w3, list(found.values()), max_retries) if timestamps else {}
    outcomes: list[Outcome] = []
    for i, item in enumerate(items):
        receipt = found.get(i)
        error = item.error or errors.get(i)
        if receipt is None or error is not None:
            error = error or TxError(f"{names[i]} was not sent", tx_hash=item.tx_hash or None)
            outcomes.append(labelled(error, names[i]))
            continue
        head = headers.get(rpc.to_int(receipt["blockNumber"]))
        outcome = _outcome(w3, item, signer, receipt, head, max_retries, timestamps)
        outcomes.append(labelled(outcome, names[i]) if isinstance(outcome, OGPUError) else outcome)
    return outcomes
