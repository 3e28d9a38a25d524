"""Shared protocol helpers: ``load_contract`` and the generic ``_paginated_call``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar, cast

from ogpu._lazy import lazy_imports
from ogpu.chain.config import ChainConfig
from ogpu.chain.networks import SINGLETONS
from ogpu.protocol import _bindings as b
from ogpu.types.errors import InvalidInputError

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress
    from web3.contract import Contract

T = TypeVar("T")


def load_contract(abi_name: str, address: str | None = None) -> Contract:
    """A web3 ``Contract`` for an ABI of the active chain. No RPC.

    ``address=None`` resolves the four singletons (``"NexusAbi"``,
    ``"ControllerAbi"``, ``"TerminalAbi"``, ``"VaultAbi"``); instance ABIs
    (``"SourceAbi"``, ``"TaskAbi"``, ``"ResponseAbi"``) need ``address``.

    Raises:
        ValueError: no address given for a non-singleton ABI (an ``InvalidInputError``).
        FileNotFoundError: no such ABI for the active chain.
        InvalidAddressError: malformed ``address``.
    """
    abi = ChainConfig.load_abi(abi_name)
    if address is None:
        key = abi_name.removesuffix("Abi").upper()  # "NexusAbi": the NEXUS singleton
        if key not in SINGLETONS:
            raise InvalidInputError(
                f"{abi_name} is not a singleton ABI; pass address=", param="address"
            )
        address = ChainConfig.get_contract_address(key)
    checked = b.checksum(address, "address")
    return b.web3().eth.contract(address=cast("ChecksumAddress", checked), abi=abi)


def _paginated_call(
    count_fn: Callable[[], int],
    fetch_fn: Callable[[int, int], Iterable[T]],
    lower: int = 0,
    upper: int | None = None,
    chunk_size: int = b.CHUNK_SIZE,
    fetch_from_zero: bool = False,
) -> list[T]:
    """Items ``[lower, upper)`` (``upper=None``: all) of a paginated read, as official 0.2.3.

    ``fetch_fn(lo, hi)`` takes **both bounds inclusive**, as the deployed getters do
    (docs/MAINNET.md): items ``[lower, upper)`` are fetched as ``fetch_fn(a, b - 1)``
    per chunk of ``chunk_size``. With ``fetch_from_zero`` (getters that panic for any
    ``lower > 0``, like ``Source.getTasks``) it is one ``fetch_fn(0, upper - 1)``,
    sliced. ``count_fn`` is always called (unlike official 0.2.3, also when ``upper``
    is given), so no index at or past the end is ever asked for; an empty range calls
    nothing, an empty list only ``count_fn``. Zero-address items are dropped.

    Costs whatever the callables cost (one call each). The instance classes use the
    batched ``_paging.read_list`` instead.

    Raises:
        InvalidAmountError: bad bounds. InvalidInputError: ``chunk_size`` is not > 0.
    """
    low, high = b.bounds(lower, upper)
    step = b.uint(chunk_size, "chunk_size")
    if step == 0:
        raise InvalidInputError("chunk_size must be > 0", param="chunk_size")
    if high is not None and high <= low:
        return []
    total = int(count_fn())
    end = total if high is None else min(high, total)
    if end <= low:
        return []
    if fetch_from_zero:
        items = list(fetch_fn(0, end - 1))[low:end]
    else:
        items = []
        for start in range(low, end, step):
            items.extend(fetch_fn(start, min(start + step, end) - 1))
    return [item for item in items if item != b.ZERO_ADDRESS]


# -- names 0.2.3's ``ogpu.protocol._base`` defines, loaded on first access ----------------------
# (code written for it imports ``TxExecutor`` from here; the executor loads web3, so lazily)
if TYPE_CHECKING:
    from ogpu.protocol._bindings import ZERO_ADDRESS as ZERO_ADDRESS
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.protocol._revert import REVERT_PATTERN_MAP as REVERT_PATTERN_MAP
    from ogpu.protocol._revert import decode_revert as decode_revert
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
