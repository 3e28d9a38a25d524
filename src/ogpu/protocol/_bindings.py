"""Access to the generated bindings of the active chain, and the read helpers.

Reads go through ``ogpu.chain.rpc`` (raw JSON-RPC, no web3 middleware) so a
getter costs exactly one request; several reads use ``ogpu.chain.multicall``
(one request, one block). A lagging replica's "block not found" is asked again
by the transport's one read retry loop. Paginated lists: ``_paging``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ogpu_bindings.runtime import ContractCall, check_address

from ogpu.chain import multicall, rpc
from ogpu.chain.config import ChainConfig
from ogpu.chain.web3 import Web3Manager
from ogpu.types.errors import (
    AbiDecodeError,
    InvalidAmountError,
    OGPUError,
    RPCError,
)

if TYPE_CHECKING:
    from web3 import Web3

    from ogpu.chain.transport import HttpTransport

T = TypeVar("T")

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: Items fetched per paginated call (as official 0.2.3); the chunks share one request.
CHUNK_SIZE = 100

_UINT256_MAX = 2**256 - 1
#: Bytes budgeted for an answer of unbounded size (a struct holding a URL or a list) when
#: grouping calls into aggregates: room for a few hundred characters.
DYNAMIC_OUTPUT_SIZE = 1024


def network() -> str:
    """ABI set of the active chain (``"mainnet"`` or ``"testnet"``). No RPC."""
    return ChainConfig.get_network()


def singleton(name: str) -> str:
    """Address of a singleton (``"NEXUS"``...) on the active chain. No RPC."""
    return ChainConfig.get_contract_address(name)


def web3() -> Web3:
    """Web3 of the active chain. No RPC."""
    return Web3Manager.get_web3_instance()


def endpoint() -> Web3 | HttpTransport:
    """What reads call on the active chain: a pinned Web3 (one the user passed, or an
    in-process provider), else the SDK's HTTP transport of the chain's URL. No RPC;
    loads no web3 unless one is pinned."""
    return Web3Manager.get_endpoint()


def checksum(value: object, param: str) -> str:
    """Validate and checksum an address argument. No RPC.

    Raises:
        InvalidAddressError: not a 20-byte hex address (or a bad checksum).
    """
    return check_address(value, param)


def uint(value: object, param: str, minimum: int = 0) -> int:
    """Validate a uint256 argument (at least ``minimum``). No RPC.

    Raises:
        InvalidAmountError: not an int, or outside minimum..2**256-1.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmountError(f"{param} must be an int, got {type(value).__name__}", param=param)
    if not minimum <= value <= _UINT256_MAX:
        raise InvalidAmountError(
            f"{param} must be between {minimum} and 2**256-1, got {value}",
            param=param,
            value=value,
            minimum=minimum,
            maximum=_UINT256_MAX,
        )
    return value


def rpc_error(exc: rpc.NodeError | rpc.TransportError) -> RPCError:
    """Wrap an internal RPC failure. No RPC."""
    return RPCError(f"RPC {exc.method} failed: {exc}", method=exc.method, cause=str(exc))


def revert_error(data: bytes, contract: str | None, function: str | None) -> OGPUError:
    """Decode revert data through the generated tables. No RPC."""
    from ogpu_bindings.errors import decode_revert

    return cast(OGPUError, decode_revert(data, contract=contract, function=function))


def decode_answer(
    call: ContractCall[T], raw: bytes, not_found: Callable[[], OGPUError] | None
) -> T:
    """Decode one answer of ``call``. No RPC.

    Raises:
        the ``not_found()`` error, else AbiDecodeError: undecodable data.
    """
    try:
        return call.decode(raw)
    except OGPUError:
        if not_found is not None:
            raise not_found() from None
        raise
    except Exception as exc:
        if not_found is not None:
            raise not_found() from None
        raise AbiDecodeError(
            f"cannot decode the answer of {call.signature}: {exc}", signature=call.signature
        ) from None


def read(
    call: ContractCall[T],
    *,
    not_found: Callable[[], OGPUError] | None = None,
    block: str | int = "latest",
) -> T:
    """Run one view call. One ``eth_call``.

    Raises:
        the ``not_found()`` error: the call reverted or returned undecodable data.
        TxRevertError subclasses: the call reverted (without ``not_found``).
        AbiDecodeError: undecodable answer (without ``not_found``).
        RPCError: the request failed.
    """
    block_id = hex(block) if isinstance(block, int) else block
    try:
        raw = rpc.request(
            endpoint(), "eth_call", [{"to": call.to, "data": "0x" + call.data.hex()}, block_id]
        )
    except rpc.ExecutionReverted as exc:
        if not_found is not None:
            raise not_found() from None
        raise revert_error(exc.data, None, None) from None
    except (rpc.NodeError, rpc.TransportError) as exc:
        raise rpc_error(exc) from exc
    try:
        data = rpc.to_bytes(raw)
    except TypeError:
        raise RPCError(f"malformed eth_call answer: {raw!r}", method="eth_call") from None
    return decode_answer(call, data, not_found)


@contextmanager
def _aggregated(what: str) -> Iterator[None]:
    """Map the failures of one aggregated ``eth_call`` (``what``) to RPCError."""
    try:
        yield
    except (rpc.NodeError, rpc.TransportError) as exc:
        raise rpc_error(exc) from exc
    except rpc.ExecutionReverted as exc:
        raise RPCError(f"the node refused {what}: {exc.message}", method="eth_call") from None
    except ValueError as exc:  # the answer did not decode as an aggregate's
        raise RPCError(f"malformed answer to {what}: {exc}", method="eth_call") from None


def aggregate(
    calls: Sequence[ContractCall[Any]],
    block: str | int = "latest",
    output_sizes: Sequence[int] | None = None,
) -> multicall.AggregateResult:
    """Run view calls against one block, undecoded (``read_many`` decodes). One
    ``eth_call`` for everything that fits one aggregate (``multicall.aggregate_all``).

    Raises:
        RPCError: the node failed, refused the aggregate or answered malformed.
    """
    with _aggregated("the aggregated read"):
        return multicall.aggregate_all(endpoint(), calls, block, output_sizes=output_sizes)


def _value(
    call: ContractCall[T],
    result: multicall.CallResult,
    not_found: Callable[[], OGPUError] | None,
) -> T:
    if not result.success:
        if not_found is not None:
            raise not_found()
        raise revert_error(result.data, None, None)
    return decode_answer(call, result.data, not_found)


def read_many(
    calls: Sequence[ContractCall[Any]],
    *,
    not_found: Callable[[], OGPUError] | None = None,
    block: str | int = "latest",
    output_sizes: Sequence[int] | None = None,
) -> tuple[int, list[Any]]:
    """Run view calls against one block; return ``(block_number, results)``.

    One ``eth_call`` for everything that fits ``multicall.MAX_PAYLOAD`` /
    ``MAX_OUTPUT`` (snapshots always do). ``output_sizes`` defaults to each
    call's ``output_size`` (``DYNAMIC_OUTPUT_SIZE`` for a string, bytes or list).

    Raises:
        as ``read``.
    """
    if not calls:
        return 0, []
    if output_sizes is None:
        output_sizes = [
            DYNAMIC_OUTPUT_SIZE if c.output_size is None else c.output_size for c in calls
        ]
    outcome = aggregate(calls, block, output_sizes)
    values = [_value(c, r, not_found) for c, r in zip(calls, outcome.results, strict=True)]
    return outcome.block_number, values


def read_fields(
    calls: Mapping[str, ContractCall[Any]],
    *,
    not_found: Callable[[], OGPUError] | None = None,
) -> dict[str, Any]:
    """Run the view calls of a snapshot against one block (``read_many``): each field's
    decoded value, plus ``block_number``. One ``eth_call``.

    Raises:
        as ``read``.
    """
    block, values = read_many(list(calls.values()), not_found=not_found)
    return {**dict(zip(calls, values, strict=True)), "block_number": block}


def state_block(number: int) -> int:
    """The block an aggregate reporting ``NUMBER == number`` read (``multicall.state_block``).

    Two requests once per Web3, none after. Raises RPCError.
    """
    with _aggregated("an empty read"):
        return multicall.state_block(endpoint(), number)


def bounds(lower: object, upper: object) -> tuple[int, int | None]:
    """Validate pagination bounds. No RPC.

    Raises:
        InvalidAmountError: negative or non-int bounds, or ``upper < lower``.
    """
    low = uint(lower, "lower")
    if upper is None:
        return low, None
    high = uint(upper, "upper")
    if high < low:
        raise InvalidAmountError(
            f"upper ({high}) must be >= lower ({low})", param="upper", value=high, minimum=low
        )
    return low, high
