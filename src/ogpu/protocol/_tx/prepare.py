"""Before anything is signed: the chain id, the gas estimate (the preflight) and the fees.

A revert or an unaffordable transaction surfaces here as a typed error, before any
nonce is used. Reads are retried under the one :class:`ogpu.net.RetryPolicy` shape,
inside the ambient budget (see ``clock``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import TxRequest

from ogpu import net
from ogpu.chain import rpc
from ogpu.chain.config import ChainConfig
from ogpu.protocol import _bindings as b
from ogpu.protocol._revert import decode_failure
from ogpu.types.errors import ChainNotSupportedError, GasError, RPCError

if TYPE_CHECKING:
    from web3 import Web3

#: Gas limit = estimate * GAS_MARGIN (rounded up).
GAS_MARGIN = 1.2
#: Priority fee used when the node has no ``eth_maxPriorityFeePerGas``.
FALLBACK_PRIORITY_FEE = 1_000_000_000
#: First pause between retries of a read, in seconds (doubling, with jitter).
RETRY_PAUSE = 0.05

_TRANSIENT = ("rate limit", "too many requests", "timeout", "timed out", "temporarily", "try again")
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


def is_transient(failure: object) -> bool:
    """Whether a read's failure is worth asking again (no answer, or a busy node)."""
    if isinstance(failure, rpc.TransportError):
        return True
    if isinstance(failure, rpc.NodeError):
        text = failure.message.lower()
        return any(marker in text for marker in _TRANSIENT)
    return False


def policy(retries: int) -> net.RetryPolicy:
    """The retry policy of the engine's reads: ``retries`` retries after the first try."""
    return net.RetryPolicy(max_attempts=retries + 1, backoff_initial=RETRY_PAUSE, backoff_max=1.0)


def read(w3: Web3, method: str, params: list[Any], retries: int) -> Any:
    """One read, retried when transient (never used for broadcasts).

    Raises:
        RPCError: no answer within the retries and the ambient budget, or a node error.
    """

    def attempt(_: net.Budget) -> Any:
        try:
            return rpc.request(w3, method, params)
        except (rpc.NodeError, rpc.TransportError) as exc:
            error = b.rpc_error(exc)
            raise (net.Transient(error) if is_transient(exc) else error) from None

    return net.run_with_retry(
        attempt, policy=policy(retries), budget=net.effective(None, None), what=method
    )


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


def fee_fields(w3: Web3, block: Any, tip: Any, retries: int, bump: int) -> dict[str, int]:
    """EIP-1559 fields when the block has a base fee, else a legacy gas price; ``bump``
    raises them by 25% per step. One ``eth_gasPrice`` on a chain without a base fee."""
    base = block.get("baseFeePerGas") if isinstance(block, Mapping) else None
    factor_num, factor_den = 5**bump, 4**bump
    if base is not None:
        priority = rpc.to_int(tip) if isinstance(tip, (int, str)) else FALLBACK_PRIORITY_FEE
        priority = priority * factor_num // factor_den
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * rpc.to_int(base) + priority}
    price = rpc.to_int(read(w3, "eth_gasPrice", [], retries), "eth_gasPrice")
    return {"gasPrice": price * factor_num // factor_den}


def fees(w3: Web3, retries: int, bump: int) -> dict[str, int]:
    """Fresh fee fields (see ``fee_fields``). One or two RPCs (plus ``eth_gasPrice``)."""
    block = read(w3, "eth_getBlockByNumber", ["latest", False], retries)
    try:
        tip: Any = read(w3, "eth_maxPriorityFeePerGas", [], 0)
    except RPCError:
        tip = None
    return fee_fields(w3, block, tip, retries, bump)


def _each(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """``calls`` one by one (a node that refuses batches); each result or its failure."""
    return [item for call in calls for item in rpc.batch(w3, [call])]


def prepare(w3: Web3, target: Target, sender: str, retries: int) -> tuple[int, dict[str, int]]:
    """The gas limit and fee fields of ``target``: one JSON-RPC batch (estimate, latest
    block, priority fee), retried when transient.

    Raises:
        TxRevertError subclasses: the call reverts. GasError: the estimate failed.
        RPCError: the node could not be reached.
    """
    call = call_object(target, sender)
    calls: list[tuple[str, list[Any]]] = [
        ("eth_estimateGas", [call]),
        ("eth_getBlockByNumber", ["latest", False]),
        ("eth_maxPriorityFeePerGas", []),
    ]

    def attempt(_: net.Budget) -> list[Any]:
        try:
            answers = rpc.batch(w3, calls)
        except rpc.TransportError as exc:
            raise net.Transient(b.rpc_error(exc)) from None
        except rpc.NodeError:
            answers = _each(w3, calls)
        if is_transient(answers[0]):
            raise net.Transient(b.rpc_error(answers[0]))
        return answers

    estimate, block, tip = net.run_with_retry(
        attempt, policy=policy(retries), budget=net.effective(None, None), what="eth_estimateGas"
    )
    gas = checked_estimate(estimate, target, sender)
    if isinstance(block, Exception):
        block = read(w3, "eth_getBlockByNumber", ["latest", False], retries)
    tip = None if isinstance(tip, Exception) else tip
    return gas_limit(gas), fee_fields(w3, block, tip, retries, 0)


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
