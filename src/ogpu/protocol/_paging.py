"""Reading the on-chain paginated lists as the deployed contracts page them.

The Python API is half-open (``lower`` inclusive, ``upper`` exclusive, ``None`` = all);
the contracts are not (docs/MAINNET.md): ``getAttempters``, ``getAttemptTimestamps``,
``getResponsesOf`` take both bounds inclusive and panic for any index >= length;
``Source.getTasks`` / ``getRegistrants`` also index their result absolutely, so any
``lower > 0`` panics; ``Nexus.getSources`` is unrecorded. So every read starts
with the list's count and never asks for an index at or past it:

1. one aggregated ``eth_call`` reads the count (and fixes the block);
2. one more HTTP request, pinned to that block, reads the items:
   ``Paging.INCLUSIVE``: chunks ``(a, b - 1)`` of ``CHUNK_SIZE``, aggregated and
   batched (``multicall.aggregate_all``); ``Paging.FROM_ZERO``: one plain
   ``eth_call`` of ``(0, end - 1)``, sliced; past ``SINGLE_CALL_ITEMS`` items, or
   when the node refuses that call (its ``eth_call`` gas cap), the per-index public
   getter (``tasks(i)``...) for each index, aggregated and batched;
   ``Paging.EITHER``: requests that never go past the end under either convention,
   the answer's length telling which one the contract has (cached per endpoint).

An empty range (``lower == upper``) costs nothing; an empty list, one request.
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ogpu import net
from ogpu.chain import rpc
from ogpu.protocol import _bindings as b
from ogpu.types.errors import OGPUError, RPCError

if TYPE_CHECKING:
    from ogpu_bindings.runtime import ContractCall
    from web3 import Web3

    from ogpu.chain.transport import HttpTransport

T = TypeVar("T")

#: Largest list read with one ``getTasks(0, n - 1)`` / ``getRegistrants`` call. One call
#: of the reference contract returns at most 22,294 addresses (18,016 before its copy
#: loop became assembly) under geth's default 50,000,000 ``eth_call`` gas cap (measured
#: on the devnet); longer lists are read index by index.
SINGLE_CALL_ITEMS = 16_000


class Paging(enum.Enum):
    """How a contract's ``(lower, upper)`` getter pages."""

    INCLUSIVE = "both bounds inclusive; an index >= length panics"
    FROM_ZERO = "inclusive, result indexed absolutely: only lower == 0 works"
    EITHER = "inclusive or half-open, unknown until read"
    HALF_OPEN = "lower inclusive, upper exclusive"


@dataclass(frozen=True)
class ListGetter(Generic[T]):
    """One on-chain list: its count, its range getter and how that pages.

    ``chunk(lower, upper)`` builds the on-chain call with the contract's own bounds;
    ``item(i)`` the per-index public getter (``FROM_ZERO`` lists read past
    ``SINGLE_CALL_ITEMS`` with it); ``item_size`` is the ABI size of one item.
    """

    count: ContractCall[int]
    chunk: Callable[[int, int], ContractCall[list[T]]]
    paging: Paging
    item: Callable[[int], ContractCall[T]] | None = None
    skip_zero: bool = False
    not_found: Callable[[], OGPUError] | None = None
    item_size: int = 32


_conventions: weakref.WeakKeyDictionary[Web3 | HttpTransport, dict[str, Paging]] = (
    weakref.WeakKeyDictionary()
)


def read_list(getter: ListGetter[T], lower: object, upper: object) -> list[T]:
    """Items ``[lower, upper)`` of the list (``upper=None``: to the end), all from one block.

    Costs: none when ``lower == upper``; one request when the range is empty on chain;
    else two (count, then items), plus two once per endpoint to learn how the node numbers
    call contexts (``multicall.state_block``).

    Raises:
        InvalidAmountError: negative or non-int bounds, or ``upper < lower``.
        the ``not_found()`` error: the count cannot be read (not such a contract).
        RPCError: the node failed, or answered a list of the wrong length.
    """
    low, high = b.bounds(lower, upper)
    if high is not None and high <= low:
        return []
    number, (count,) = b.read_many([getter.count], not_found=getter.not_found)
    total = int(count)
    end = total if high is None else min(high, total)
    if end <= low:
        return []
    block = b.state_block(number)
    if getter.paging is Paging.FROM_ZERO:
        items = _from_zero(getter, low, end, block)
    elif getter.paging is Paging.EITHER:
        items = _either(getter, low, end, total, block)
    else:
        items = _chunks(getter, low, end, block, Paging.INCLUSIVE)
    if getter.skip_zero:
        items = [item for item in items if item != b.ZERO_ADDRESS]
    return items


def _ranges(low: int, end: int) -> list[tuple[int, int]]:
    return [(a, min(a + b.CHUNK_SIZE, end)) for a in range(low, end, b.CHUNK_SIZE)]


def _wrong_length(call: ContractCall[Any], got: int, wanted: str) -> RPCError:
    return RPCError(
        f"{call.signature} at {call.to} returned {got} items, expected {wanted}: "
        "the contract does not page as recorded (docs/MAINNET.md)",
        method="eth_call",
    )


def _pages(
    getter: ListGetter[T], calls: Sequence[ContractCall[list[T]]], block: int, items: int
) -> list[list[T]]:
    sizes = [64 + getter.item_size * items] * len(calls)
    _, pages = b.read_many(calls, not_found=getter.not_found, block=block, output_sizes=sizes)
    return pages


def _chunks(getter: ListGetter[T], low: int, end: int, block: int, paging: Paging) -> list[T]:
    """``[low, end)`` in chunks: ``(a, b - 1)`` for inclusive getters, ``(a, b)`` for
    half-open ones; one batched request."""
    ranges = _ranges(low, end)
    shift = 1 if paging is Paging.INCLUSIVE else 0
    calls = [getter.chunk(a, z - shift) for a, z in ranges]
    items: list[T] = []
    pages = _pages(getter, calls, block, b.CHUNK_SIZE)
    for call, (a, z), page in zip(calls, ranges, pages, strict=True):
        if len(page) != z - a:
            raise _wrong_length(call, len(page), str(z - a))
        items.extend(page)
    return items


def _from_zero(getter: ListGetter[T], low: int, end: int, block: int) -> list[T]:
    """``(0, end - 1)`` in one call, sliced; index by index when too long for one call."""
    if end <= SINGLE_CALL_ITEMS or getter.item is None:
        call = getter.chunk(0, end - 1)
        try:
            page = b.read(call, not_found=getter.not_found, block=block)
        except RPCError as exc:
            cause = exc.__cause__  # a node's lasting refusal: over its eth_call gas cap
            refused = isinstance(cause, rpc.NodeError) and not net.is_transient_reply(cause.message)
            if getter.item is None or not refused:
                raise
            return _by_index(getter, low, end, block)
        if len(page) != end:
            raise _wrong_length(call, len(page), str(end))
        return page[low:end]
    return _by_index(getter, low, end, block)


def _by_index(getter: ListGetter[T], low: int, end: int, block: int) -> list[T]:
    """``item(i)`` for each index, aggregated and batched."""
    assert getter.item is not None
    calls = [getter.item(i) for i in range(low, end)]
    sizes = [getter.item_size] * len(calls)
    _, items = b.read_many(calls, not_found=getter.not_found, block=block, output_sizes=sizes)
    return items


def _either(getter: ListGetter[T], low: int, end: int, total: int, block: int) -> list[T]:
    """A getter whose convention is unknown: learnt from the first read, then cached."""
    known = _conventions.setdefault(b.endpoint(), {})
    paging = known.get(getter.count.to)
    if paging is not None:
        return _chunks(getter, low, end, block, paging)
    # Each range [a, z) asks (a, min(z, total - 1)): never past the end either way. An
    # inclusive getter answers one item more than a half-open one.
    ranges = _ranges(low, end)
    calls = [getter.chunk(a, min(z, total - 1)) for a, z in ranges]
    pages = _pages(getter, calls, block, b.CHUNK_SIZE + 1)
    items: list[T] = []
    for call, (a, z), page in zip(calls, ranges, pages, strict=True):
        asked = min(z, total - 1) - a
        if len(page) == asked + 1:
            paging = Paging.INCLUSIVE
        elif len(page) == asked:
            paging = Paging.HALF_OPEN
        else:
            raise _wrong_length(call, len(page), f"{asked} or {asked + 1}")
        if known.setdefault(getter.count.to, paging) is not paging:
            raise _wrong_length(call, len(page), f"{asked} or {asked + 1} (consistently)")
        items.extend(page[: z - a])
    if paging is Paging.HALF_OPEN and end == total:
        items.extend(_chunks(getter, total - 1, total, block, Paging.HALF_OPEN))
    return items
