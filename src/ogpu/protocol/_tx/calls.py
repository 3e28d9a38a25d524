"""The engine's reads: retried when transient, batched where they can be.

Reads are retried by the transport's one loop (``ogpu.chain.transport.READS`` with
``retries + 1`` tries, each within the HTTP timeout), inside the ambient budget (see
``clock``); broadcasts never go through here (a lost broadcast is settled by its hash,
see ``send``).
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
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = BATCH_LIMIT) -> list[Sequence[T]]:
    """``items`` in slices of at most ``size``. No I/O."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def is_transient(failure: object) -> bool:
    """Whether a read's failure is worth asking again (no answer, or what
    ``net.is_transient_reply`` calls transient: the transport's own test). No I/O."""
    if isinstance(failure, rpc.TransportError):
        return True
    return isinstance(failure, rpc.NodeError) and net.is_transient_reply(failure.message)


def read(w3: Web3, method: str, params: list[Any], retries: int) -> Any:
    """One read; the transport asks again while transient (``retries`` times at most).

    Raises:
        RPCError: no answer within the retries and the ambient budget, or a node error.
    """
    try:
        return rpc.request(
            w3, method, params, budget=net.effective(None, None), attempts=retries + 1
        )
    except (rpc.NodeError, rpc.TransportError) as exc:
        raise b.rpc_error(exc) from None


def each(w3: Web3, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """``calls`` one by one (a node that refuses batches); each result or its failure."""
    return [item for call in calls for item in rpc.batch(w3, [call])]


def batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]], retries: int) -> list[Any]:
    """One JSON-RPC batch (each item its result or its ``rpc`` failure); the transport
    asks again while transient (``retries`` times at most); a node refusing batches gets
    the calls one by one.

    Raises:
        RPCError: no answer within the retries and the ambient budget.
    """
    try:
        return rpc.batch(w3, calls, budget=net.effective(None, None), attempts=retries + 1)
    except rpc.TransportError as exc:
        raise b.rpc_error(exc) from None
    except rpc.NodeError:
        return each(w3, calls)


def batches(w3: Web3, calls: Sequence[tuple[str, list[Any]]], retries: int) -> list[Any]:
    """``calls`` in batches of ``BATCH_LIMIT`` (see ``batch``), answers in order.

    Raises:
        RPCError: a batch got no answer within the retries and the ambient budget.
    """
    answers: list[Any] = []
    for chunk in chunks(calls):
        answers += batch(w3, chunk, retries)
    return answers
