"""The fee fields a transaction is signed with.

EIP-1559 fields (``maxPriorityFeePerGas``, ``maxFeePerGas`` = twice the base fee plus
the tip) when the latest block has a base fee, else a legacy ``gasPrice``. A retry
after an "underpriced" refusal raises them by 25% per step (``bump``), which nodes
accept as a replacement of the same nonce.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ogpu.chain import rpc
from ogpu.protocol._tx.calls import read
from ogpu.types.errors import RPCError

if TYPE_CHECKING:
    from web3 import Web3


#: Priority fee used when the node has no ``eth_maxPriorityFeePerGas``.
FALLBACK_PRIORITY_FEE = 1_000_000_000
#: The reads ``fee_fields`` takes, to put in a batch with others.
FEE_READS: tuple[tuple[str, list[Any]], ...] = (
    ("eth_getBlockByNumber", ["latest", False]),
    ("eth_maxPriorityFeePerGas", []),
)


def fee_fields(w3: Web3, block: Any, tip: Any, retries: int, bump: int = 0) -> dict[str, int]:
    """The fee fields from the answers to ``FEE_READS`` (a failed answer is read again,
    a missing tip falls back to ``FALLBACK_PRIORITY_FEE``), raised 25% per ``bump``.
    One ``eth_gasPrice`` on a chain without a base fee, one more read after a failed block.

    Raises:
        RPCError: a needed read failed.
    """
    if isinstance(block, Exception):
        block = read(w3, "eth_getBlockByNumber", ["latest", False], retries)
    tip = None if isinstance(tip, Exception) else tip
    base = block.get("baseFeePerGas") if isinstance(block, Mapping) else None
    factor_num, factor_den = 5**bump, 4**bump
    if base is not None:
        priority = rpc.to_int(tip) if isinstance(tip, (int, str)) else FALLBACK_PRIORITY_FEE
        priority = priority * factor_num // factor_den
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * rpc.to_int(base) + priority}
    price = rpc.to_int(read(w3, "eth_gasPrice", [], retries), "eth_gasPrice")
    return {"gasPrice": price * factor_num // factor_den}


def fees(w3: Web3, retries: int, bump: int) -> dict[str, int]:
    """Fresh fee fields (see ``fee_fields``). Two reads (plus ``eth_gasPrice``).

    Raises:
        RPCError: the latest block cannot be read.
    """
    block = read(w3, "eth_getBlockByNumber", ["latest", False], retries)
    try:
        tip: Any = read(w3, "eth_maxPriorityFeePerGas", [], 0)
    except RPCError:
        tip = None
    return fee_fields(w3, block, tip, retries, bump)
