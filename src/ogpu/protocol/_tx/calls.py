"""The engine's reads: retried when transient, batched where they can be.

Reads are retried under the one :class:`ogpu.net.RetryPolicy` shape, inside the
ambient budget (see ``clock``); broadcasts never go through here (a lost broadcast is
settled by its hash, see ``send``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ogpu import net
from ogpu.chain import rpc
from ogpu.protocol import _bindings as b

if TYPE_CHECKING:
    from web3 import Web3


#: First pause between retries of a read, in seconds (doubling, with jitter).
RETRY_PAUSE = 0.05
#: Items per JSON-RPC batch (hosted nodes commonly cap batches at 100).
BATCH_LIMIT = 100
_TRANSIENT = ("rate limit", "too many requests", "timeout", "timed out", "temporarily", "try again")
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = BATCH_LIMIT) -> list[Sequence[T]]:
    """``items`` in slices of at most ``size``. No I/O."""
    return [items[i : i + size] for i in range(0, len(items), size)]


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
    """One read, retried when transient.

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


def each(w3: Web3, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """``calls`` one by one (a node that refuses batches); each result or its failure."""
    return [item for call in calls for item in rpc.batch(w3, [call])]


def batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]], retries: int) -> list[Any]:
    """One JSON-RPC batch (each item its result or its ``rpc`` failure), retried on
    transport failures; a node refusing batches gets the calls one by one.

    Raises:
        RPCError: no answer within the retries and the ambient budget.
    """

    def attempt(_: net.Budget) -> list[Any]:
        try:
            return rpc.batch(w3, calls)
        except rpc.TransportError as exc:
            raise net.Transient(b.rpc_error(exc)) from None
        except rpc.NodeError:
            return each(w3, calls)

    return net.run_with_retry(
        attempt, policy=policy(retries), budget=net.effective(None, None), what="batch"
    )


def batches(w3: Web3, calls: Sequence[tuple[str, list[Any]]], retries: int) -> list[Any]:
    """``calls`` in batches of ``BATCH_LIMIT`` (see ``batch``), answers in order.

    Raises:
        RPCError: a batch got no answer within the retries and the ambient budget.
    """
    answers: list[Any] = []
    for chunk in chunks(calls):
        answers += batch(w3, chunk, retries)
    return answers
