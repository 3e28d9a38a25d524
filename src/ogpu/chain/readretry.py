"""Reads asked again when a lagging replica of a load-balanced RPC answers them.

The public mainnet RPC is load-balanced (docs/MAINNET.md): a replica that lags
answers ``block 0x… not found`` for a block another replica has just reported
(official ogpu 0.2.3 retries it once, after 1 s: ``_TRANSIENT_RPC_PATTERNS``).
The SDK pins multi-request reads to one explicit block, so it meets this answer
whenever it lands on such a replica. It is a JSON-RPC error, not a transport
failure, so ``ogpu.chain.transport`` (which retries dropped connections, timeouts
and HTTP 429/5xx of reads within the call's budget) does not retry it; this
module does: ``READ_ATTEMPTS`` tries in all, ``PAUSES`` seconds apart (0.75 s in
all). Reads only; a broadcast never comes here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ogpu.chain import rpc

if TYPE_CHECKING:
    from ogpu.chain.rpc import Endpoint

T = TypeVar("T")

#: Tries per read, the first included.
READ_ATTEMPTS = 5
#: Seconds between tries.
PAUSES = (0.05, 0.1, 0.2, 0.4)

# "block 0x1a not found" (public RPC), "header not found" (geth), "unknown block" (erigon,
# nethermind): the replica asked does not have the block yet.
_LAGGING = re.compile(r"block\s+\S*\s*not found|header not found|unknown block", re.IGNORECASE)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a lagging replica's answer, which another try may not get. No I/O.

    Dropped connections and timeouts are the transport's to retry (within its budget);
    reverts and other node errors are final.
    """
    return isinstance(exc, rpc.NodeError) and bool(_LAGGING.search(exc.message))


def retrying(read: Callable[[], T]) -> T:
    """Run ``read``; on a lagging replica's answer run it again, up to ``READ_ATTEMPTS``.

    Raises whatever the last try raised.
    """
    for pause in PAUSES[: READ_ATTEMPTS - 1]:
        try:
            return read()
        except rpc.NodeError as exc:
            if not is_transient(exc):
                raise
        time.sleep(pause)
    return read()


def request(endpoint: Endpoint, method: str, params: list[Any]) -> Any:
    """``rpc.request`` under this retry (reads only).

    Raises:
        rpc.ExecutionReverted / rpc.NodeError / rpc.TransportError: as ``rpc.request``.
    """
    return retrying(lambda: rpc.request(endpoint, method, params))
