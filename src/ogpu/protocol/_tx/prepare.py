"""Before anything is signed: the chain id and the gas estimates (the preflight).

A revert or an unaffordable transaction surfaces here as a typed error, before any
nonce is used. ``prepare`` serves one transaction, ``estimate_all`` a batch of them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import TxRequest

from ogpu.chain import rpc
from ogpu.chain.config import ChainConfig
from ogpu.chain.context import current
from ogpu.protocol import _bindings as b
from ogpu.protocol._revert import decode_failure
from ogpu.protocol._tx.calls import batch, batches, is_transient, read
from ogpu.protocol._tx.fees import FEE_READS, fee_fields
from ogpu.types.errors import ChainNotSupportedError, GasError, OGPUError

if TYPE_CHECKING:
    from web3 import Web3

#: Gas limit = estimate * GAS_MARGIN (rounded up).
GAS_MARGIN = 1.2

_chain_ids: weakref.WeakKeyDictionary[Web3, int] = weakref.WeakKeyDictionary()
_chain_ids_lock = threading.Lock()


@dataclass(frozen=True)
class Target:
    """What a transaction calls: the encoded call and how to name it in messages."""

    to: str
    data: bytes
    value: int
    contract: str | None
    function: str | None
    args: tuple[Any, ...]
    context: str


def target_of(request: TxRequest, context: str | None = None) -> Target:
    """The ``Target`` of a generated ``TxRequest``. No RPC."""
    return Target(
        to=request.to,
        data=bytes(request.data),
        value=request.value,
        contract=request.contract,
        function=request.function,
        args=tuple(request.args),
        context=context or f"{request.contract}.{request.function}",
    )


def call_object(target: Target, sender: str) -> dict[str, str]:
    """The JSON-RPC call object of ``target`` sent by ``sender``. No RPC."""
    return {
        "from": sender,
        "to": target.to,
        "data": "0x" + target.data.hex(),
        "value": hex(target.value),
    }


def gas_limit(estimate: int) -> int:
    """The gas limit signed for an estimate (``GAS_MARGIN`` above it). No RPC."""
    return int(estimate * GAS_MARGIN) + 1


def chain_id_of(w3: Web3, retries: int = 3) -> int:
    """The node's chain id, cached per Web3 instance. One RPC the first time.

    Raises:
        ChainNotSupportedError: the node serves another chain than the active one.
        RPCError: the node cannot be reached, or answered something not a chain id.
    """
    cached = _chain_ids.get(w3)
    if cached is None:
        cached = rpc.to_int(read(w3, "eth_chainId", [], retries), "eth_chainId")
        with _chain_ids_lock:
            _chain_ids[w3] = cached
    expected = int(ChainConfig.get_current_chain())
    if cached != expected:
        raise ChainNotSupportedError(
            message=f"the RPC node serves chain id {cached}, but the active chain is {expected}",
            chain_id=cached,
        )
    return cached


def prepare(w3: Web3, target: Target, sender: str, retries: int) -> tuple[int, dict[str, int]]:
    """The gas limit and fee fields of ``target``: one JSON-RPC batch (estimate, latest
    block, priority fee), retried when transient.

    Raises:
        TxRevertError subclasses: the call reverts. GasError: the estimate failed.
        RPCError: the node could not be reached.
    """
    calls = [("eth_estimateGas", [call_object(target, sender)]), *FEE_READS]
    estimate, block, tip = batch(w3, calls, retries)
    gas = checked_estimate(estimate, target, sender)
    return gas_limit(gas), fee_fields(w3, block, tip, retries)


def estimate_once(w3: Web3, call: dict[str, str]) -> Any:
    """One ``eth_estimateGas``: its result or its ``rpc`` failure (returned, not raised)."""
    try:
        return rpc.request(w3, "eth_estimateGas", [call])
    except (rpc.ExecutionReverted, rpc.NodeError, rpc.TransportError) as exc:
        return exc


def checked_estimate(estimate: Any, target: Target, sender: str) -> int:
    """The gas estimate, or the typed error its failure means (a revert is decoded). No RPC.

    Raises:
        TxRevertError subclasses, GasError, RPCError.
    """
    if isinstance(estimate, rpc.ExecutionReverted):
        raise decode_failure(
            estimate.data, target.contract, target.function, target.args, sender, None
        )
    if isinstance(estimate, rpc.TransportError):
        raise b.rpc_error(estimate)
    if isinstance(estimate, rpc.NodeError):
        if "insufficient funds" in estimate.message.lower():
            raise GasError(message=f"{sender} cannot pay for gas and value: {estimate.message}")
        raise GasError(message=f"gas estimation failed: {estimate.message}")
    return rpc.to_int(estimate, "eth_estimateGas")


# -- many transactions ----------------------------------------------------------------------


def _nonzero(data: bytes) -> int:
    return len(data) - data.count(0)


def _representatives(targets: Sequence[Target], groups: Sequence[Hashable]) -> list[int]:
    """Per group, the index of its member with the most non-zero calldata bytes (the
    highest intrinsic gas: 16 per non-zero byte against 4 per zero byte). No I/O."""
    best: dict[Hashable, int] = {}
    for i, (target, group) in enumerate(zip(targets, groups, strict=True)):
        known = best.get(group)
        if known is None or _nonzero(target.data) > _nonzero(targets[known].data):
            best[group] = i
    return list(best.values())


def _first_use_reads(chain_id: int, sender: str) -> list[tuple[str, list[Any]]]:
    """The account's pending nonce when the nonce book has none yet: a read that can
    ride with the estimates (the batch path holds the account for the whole batch;
    one-transaction writes leave it to ``NonceManager.reserve``, which reads it once
    for concurrent threads)."""
    if current().nonces.slot(chain_id, sender).next_nonce is not None:
        return []
    return [("eth_getTransactionCount", [sender, "pending"])]


def _remember(
    chain_id: int, calls: Sequence[tuple[str, list[Any]]], answers: Sequence[Any]
) -> None:
    """Load the nonce book with what ``_first_use_reads`` read (a failed read is left to
    ``NonceManager.reserve``)."""
    for (_, params), answer in zip(calls, answers, strict=True):
        if isinstance(answer, Exception):
            continue
        slot = current().nonces.slot(chain_id, params[0])
        with slot.lock:
            if slot.next_nonce is None:
                slot.load(rpc.to_int(answer, "eth_getTransactionCount"))


def estimate_all(
    w3: Web3,
    targets: Sequence[Target],
    sender: str,
    labels: Sequence[str],
    groups: Sequence[Hashable],
    retries: int,
) -> tuple[int, list[int], dict[str, int]]:
    """(chain id, gas limits, fee fields) of many transactions: the chain id (one RPC
    once per Web3), then one estimate per gas group and the fee data, with the pending
    nonce on the account's first use, in one batch per ``BATCH_LIMIT`` calls.

    A group's members share the limit of its representative (the member with the most
    calldata gas): the caller vouches that they do the same work (the same function of
    the same contract with the same argument sizes, from the same state).

    Raises:
        ChainNotSupportedError: the node serves another chain.
        TxRevertError subclasses, GasError (the message starts with the label).
        RPCError: the node could not be reached.
    """
    chain_id = chain_id_of(w3, retries)  # a node of another chain is asked nothing else
    reps = _representatives(targets, groups)
    first = _first_use_reads(chain_id, sender)
    calls = [
        *first,
        *(("eth_estimateGas", [call_object(targets[i], sender)]) for i in reps),
        *FEE_READS,
    ]
    answers = batches(w3, calls, retries)
    _remember(chain_id, first, answers[: len(first)])
    *estimates, block, tip = answers[len(first) :]
    limits: dict[Hashable, int] = {}
    for i, estimate in zip(reps, estimates, strict=True):
        if is_transient(estimate):
            estimate = estimate_once(w3, call_object(targets[i], sender))
        try:
            limits[groups[i]] = gas_limit(checked_estimate(estimate, targets[i], sender))
        except OGPUError as exc:
            raise labelled(exc, labels[i]) from None
    return chain_id, [limits[group] for group in groups], fee_fields(w3, block, tip, retries)


def labelled(error: OGPUError, label: str) -> OGPUError:
    """``error`` with its message prefixed by ``label`` (which item of a batch). No I/O."""
    error.message = f"{label}: {error.message}"
    error.args = (error.message,)
    return error
