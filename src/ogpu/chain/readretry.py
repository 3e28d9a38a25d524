"""The retry policy of reads (``eth_call``, ``eth_blockNumber``, their JSON-RPC batches).

The public mainnet RPC is load-balanced (docs/MAINNET.md): a replica that lags
answers ``block 0x… not found`` for a block another replica has just reported,
and connections drop under load (official ogpu 0.2.3 retries both once, after
1 s: ``_TRANSIENT_RPC_PATTERNS``). A read is side-effect free, so it is asked
again: ``READ_ATTEMPTS`` tries in all, pausing ``PAUSES`` seconds between them.
A read timeout is not retried (the caller's wall clock would double), and a
broadcast never comes here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ogpu.chain import rpc

if TYPE_CHECKING:
    from web3 import Web3

T = TypeVar("T")

#: Tries per read, the first included.
READ_ATTEMPTS = 5
#: Seconds between tries (0.75 s in all).
PAUSES = (0.05, 0.1, 0.2, 0.4)

# "block 0x1a not found" (public RPC), "header not found" (geth), "unknown block" (erigon,
# nethermind): the replica asked does not have the block yet.
_LAGGING = re.compile(r"block\s+\S*\s*not found|header not found|unknown block", re.IGNORECASE)
# requests' words for a connection that dropped before an answer came back.
_DROPPED = re.compile(
    r"connection aborted|remote ?end closed|connection reset|broken pipe|incomplete ?read|"
    r"chunkedencodingerror",
    re.IGNORECASE,
)


def is_transient(exc: BaseException) -> bool:
    """Whether asking the same read again may succeed: a lagging replica or a dropped
    connection (never a revert, a timeout or a malformed answer). No I/O."""
    if isinstance(exc, rpc.NodeError):
        return bool(_LAGGING.search(exc.message))
    if isinstance(exc, rpc.TransportError):
        return bool(_DROPPED.search(exc.detail)) and "timeout" not in exc.detail.lower()
    return False


def retrying(read: Callable[[], T]) -> T:
    """Run ``read``; on a transient failure run it again, up to ``READ_ATTEMPTS`` times.

    Raises whatever the last try raised.
    """
    for pause in PAUSES[: READ_ATTEMPTS - 1]:
        try:
            return read()
        except (rpc.NodeError, rpc.TransportError) as exc:
            if not is_transient(exc):
                raise
        time.sleep(pause)
    return read()


def request(w3: Web3, method: str, params: list[Any]) -> Any:
    """``rpc.request`` under the read retry policy (reads only).

    Raises:
        rpc.ExecutionReverted / rpc.NodeError / rpc.TransportError: as ``rpc.request``.
    """
    return retrying(lambda: rpc.request(w3, method, params))
