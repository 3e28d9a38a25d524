"""Many contract reads in one ``eth_call``, all from the same block.

``aggregate`` sends a single ``eth_call`` without a ``to`` address whose
data is a small hand-assembled init code (nothing is deployed, on any
chain). Executed in the context of one block, the code ``STATICCALL``s each
target in turn and returns the block number followed by every call's
success flag and raw return data. One HTTP request, one block, by
construction; no contract needs to exist at a well-known address.

Why not a JSON-RPC batch of ``eth_call``: nodes do not evaluate a batch
atomically, so with ``"latest"`` a new block can land between two calls;
pinning an explicit block needs the head number first, a second round trip
(or a cached head that may be stale or even pruned).

Payload appended after the code, one record per call:
``target (20 bytes) | calldata length (2 bytes, big endian) | calldata``.
Result: ``block number (32 bytes)``, then per call a 32-byte word
``success << 255 | returndatasize`` followed by the raw return data.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ogpu.chain import rpc

if TYPE_CHECKING:
    from web3 import Web3

    from ogpu.chain.rpc import Endpoint
    from ogpu.chain.transport import HttpTransport

_OPS = {
    "ADD": 0x01,
    "SUB": 0x03,
    "LT": 0x10,
    "ISZERO": 0x15,
    "OR": 0x17,
    "SHL": 0x1B,
    "SHR": 0x1C,
    "CODESIZE": 0x38,
    "CODECOPY": 0x39,
    "RETURNDATASIZE": 0x3D,
    "RETURNDATACOPY": 0x3E,
    "NUMBER": 0x43,
    "POP": 0x50,
    "MLOAD": 0x51,
    "MSTORE": 0x52,
    "JUMP": 0x56,
    "JUMPI": 0x57,
    "GAS": 0x5A,
    "JUMPDEST": 0x5B,
    "DUP1": 0x80,
    "DUP2": 0x81,
    "DUP3": 0x82,
    "DUP4": 0x83,
    "DUP5": 0x84,
    "DUP6": 0x85,
    "SWAP1": 0x90,
    "SWAP2": 0x91,
    "STATICCALL": 0xFA,
    "RETURN": 0xF3,
}

# Stack comments read top first. i = payload cursor, o = output cursor,
# L = payload length. Labels are resolved to PUSH2 targets.
_PROGRAM: tuple[str | tuple[str, int | str], ...] = (
    ("PUSH2", "codelen"), "DUP1", "CODESIZE", "SUB",  # L P
    "DUP1", "SWAP2", ("PUSH1", 0), "CODECOPY",  # mem[0:L] = payload; L
    "NUMBER", "DUP2", "MSTORE",  # mem[L] = block number; L
    "DUP1", ("PUSH1", 32), "ADD", ("PUSH1", 0),  # i=0 o=L+32 L
    ("LABEL", "loop"), "JUMPDEST",
    "DUP3", "DUP2", "LT", "ISZERO", ("PUSH2", "end"), "JUMPI",  # i<L or exit
    "DUP1", ("PUSH1", 20), "ADD", "MLOAD", ("PUSH1", 240), "SHR",  # len i o L
    ("PUSH1", 0), ("PUSH1", 0), "DUP3",  # retSize=0 retOffset=0 argsSize=len
    "DUP5", ("PUSH1", 22), "ADD",  # argsOffset=i+22
    "DUP6", "MLOAD", ("PUSH1", 96), "SHR",  # target
    "GAS", "STATICCALL",  # ok len i o L
    ("PUSH1", 255), "SHL", "RETURNDATASIZE", "OR", "DUP4", "MSTORE",  # mem[o] = header
    "RETURNDATASIZE", ("PUSH1", 0), "DUP5", ("PUSH1", 32), "ADD", "RETURNDATACOPY",
    "SWAP2", "RETURNDATASIZE", "ADD", ("PUSH1", 32), "ADD", "SWAP2",  # o += 32 + rds
    "ADD", ("PUSH1", 22), "ADD",  # i += 22 + len
    ("PUSH2", "loop"), "JUMP",
    ("LABEL", "end"), "JUMPDEST",
    "POP", "DUP2", "SWAP1", "SUB", "SWAP1", "RETURN",  # return mem[L:o]
)  # fmt: skip


def _assemble(program: Sequence[str | tuple[str, int | str]]) -> bytes:
    labels: dict[str, int] = {}
    size = 0
    for item in program:
        if isinstance(item, tuple):
            op, arg = item
            if op == "LABEL":
                labels[str(arg)] = size
            else:
                size += 1 + (2 if op == "PUSH2" else 1)
        else:
            size += 1
    labels["codelen"] = size
    out = bytearray()
    for item in program:
        if isinstance(item, tuple):
            op, arg = item
            if op == "LABEL":
                continue
            value = labels[arg] if isinstance(arg, str) else arg
            if op == "PUSH1":
                out += bytes([0x60, value])
            else:
                out += bytes([0x61]) + value.to_bytes(2, "big")
        else:
            out.append(_OPS[item])
    return bytes(out)


AGGREGATOR_CODE = _assemble(_PROGRAM)
_MAX_CALLDATA = 0xFFFF
#: EIP-3860 caps init code (the whole payload) at 49152 bytes.
MAX_PAYLOAD = 49152
#: EIP-170 caps the bytes a creation may return at 24576.
MAX_OUTPUT = 24576
#: Expected return size of a call when the caller gives none (a word or a short string).
DEFAULT_OUTPUT_SIZE = 160
#: Aggregates per JSON-RPC batch: 32 payloads of at most 96 KiB as hex stay under geth's
#: 5 MiB request body limit (and far under its 1000-item batch limit).
BATCH_AGGREGATES = 32


class CallLike(Protocol):
    """Anything with a target address and calldata (e.g. a generated ``ContractCall``)."""

    @property
    def to(self) -> str: ...

    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True)
class CallResult:
    """Outcome of one aggregated call: success flag and raw return (or revert) data."""

    success: bool
    data: bytes


@dataclass(frozen=True)
class AggregateResult:
    """Each call's result, in request order, and the block context they ran in.

    ``block_number`` is the EVM's ``NUMBER`` during execution. Nodes differ:
    geth and eth-tester run a call at block N with ``NUMBER == N``; others
    (the devnet's JSON-RPC server, hardhat) run it in a child context with
    ``NUMBER == N + 1``. ``state_block`` converts it to the block whose state
    was read. Either way every result comes from the same state.
    """

    block_number: int
    results: tuple[CallResult, ...]


def encode_payload(calls: Sequence[CallLike]) -> bytes:
    """Return the aggregator init code with ``calls`` appended. No RPC.

    Raises:
        ValueError: a target is not a 20-byte address, or the payload exceeds ``MAX_PAYLOAD``.
    """
    out = bytearray(AGGREGATOR_CODE)
    for call in calls:
        target = bytes.fromhex(call.to[2:] if call.to.startswith("0x") else call.to)
        if len(target) != 20:
            raise ValueError(f"call target is not an address: {call.to!r}")
        if len(call.data) > _MAX_CALLDATA:
            raise ValueError("calldata longer than 65535 bytes")
        out += target + len(call.data).to_bytes(2, "big") + call.data
    if len(out) > MAX_PAYLOAD:
        raise ValueError(f"aggregate payload of {len(out)} bytes exceeds {MAX_PAYLOAD}")
    return bytes(out)


def decode_output(output: bytes, count: int) -> AggregateResult:
    """Parse the aggregator's return data for ``count`` calls. No RPC.

    Raises:
        ValueError: the output is truncated or has the wrong number of records.
    """
    if len(output) < 32:
        raise ValueError("aggregate output shorter than one word")
    block_number = int.from_bytes(output[:32], "big")
    cursor = 32
    results: list[CallResult] = []
    while cursor < len(output):
        if cursor + 32 > len(output):
            raise ValueError("aggregate output truncated in a header")
        header = int.from_bytes(output[cursor : cursor + 32], "big")
        success = bool(header >> 255)
        length = header & ((1 << 255) - 1)
        start = cursor + 32
        if start + length > len(output):
            raise ValueError("aggregate output truncated in return data")
        results.append(CallResult(success, bytes(output[start : start + length])))
        cursor = start + length
    if len(results) != count:
        raise ValueError(f"aggregate returned {len(results)} results for {count} calls")
    return AggregateResult(block_number, tuple(results))


def aggregate(
    w3: Endpoint, calls: Sequence[CallLike], block_identifier: str | int = "latest"
) -> AggregateResult:
    """Run every call against one block with a single ``eth_call`` (one HTTP request).

    A reverting call does not fail the batch: its result has ``success=False``
    and carries the revert data. The transport retries transient failures (a lagging
    replica's "block not found" included) under its one read policy.

    Raises:
        ValueError: malformed call or malformed node output.
        rpc.ExecutionReverted / rpc.NodeError / rpc.TransportError: the request failed.
    """
    payload = encode_payload(calls)
    block = hex(block_identifier) if isinstance(block_identifier, int) else block_identifier
    raw = rpc.request(w3, "eth_call", [{"data": "0x" + payload.hex()}, block])
    return decode_output(rpc.to_bytes(raw), len(calls))


_offsets: weakref.WeakKeyDictionary[Web3 | HttpTransport, int] = weakref.WeakKeyDictionary()


def execution_offset(w3: Web3 | HttpTransport) -> int:
    """``NUMBER`` minus the queried block for this node (0 or 1), cached per Web3.

    Two requests (``eth_blockNumber`` and an empty aggregate pinned to that
    block) on first use, none after (a URL's transport keeps it until ``ogpu.reset()``).

    Raises:
        rpc.ExecutionReverted / rpc.NodeError / rpc.TransportError: a request failed.
    """
    cached = _offsets.get(w3)
    if cached is None:
        head = rpc.to_int(rpc.request(w3, "eth_blockNumber", []))
        cached = aggregate(w3, [], head).block_number - head
        _offsets[w3] = cached
    return cached


def state_block(w3: Web3 | HttpTransport, number: int) -> int:
    """The block whose state an aggregate reporting ``NUMBER == number`` read.

    Requests as ``execution_offset`` (first use only).
    """
    return number - execution_offset(w3)


def _is_size_error(exc: Exception) -> bool:
    """The node refused the creation's output (EIP-170) or ran the batch out of gas."""
    text = str(exc).lower()
    markers = ("code size", "codesize", "out of gas", "exceeds allowance")
    return any(marker in text for marker in markers)


def _groups(calls: Sequence[CallLike], output_sizes: Sequence[int] | None) -> list[list[int]]:
    """Indices of ``calls`` cut into groups that fit ``MAX_PAYLOAD`` and ``MAX_OUTPUT``."""
    sizes = list(output_sizes) if output_sizes is not None else []
    groups: list[list[int]] = [[]]
    payload = len(AGGREGATOR_CODE)
    output = 32
    for index, call in enumerate(calls):
        record = 22 + len(call.data)
        produced = 32 + (sizes[index] if index < len(sizes) else DEFAULT_OUTPUT_SIZE)
        if groups[-1] and (payload + record > MAX_PAYLOAD or output + produced > MAX_OUTPUT):
            groups.append([])
            payload, output = len(AGGREGATOR_CODE), 32
        groups[-1].append(index)
        payload += record
        output += produced
    return groups


def _send(w3: Endpoint, items: list[tuple[str, list[Any]]]) -> list[Any]:
    """Answers (results or ``rpc`` exceptions) of ``items``, ``BATCH_AGGREGATES`` per
    JSON-RPC batch; one by one when the node refuses batches.

    Raises:
        rpc.TransportError: a batch got no answer (after the transport's retries).
    """
    answers: list[Any] = []
    for start in range(0, len(items), BATCH_AGGREGATES):
        part = items[start : start + BATCH_AGGREGATES]
        try:
            answers += rpc.batch(w3, part)
        except rpc.NodeError:
            for method, params in part:
                try:
                    answers.append(rpc.request(w3, method, params))
                except (rpc.ExecutionReverted, rpc.NodeError, rpc.TransportError) as exc:
                    answers.append(exc)
    return answers


def aggregate_batch(
    w3: Endpoint, groups: Sequence[Sequence[CallLike]], block: int
) -> list[AggregateResult | Exception]:
    """Run each group as one aggregate at ``block``: all of them in one JSON-RPC batch
    (one HTTP request per ``BATCH_AGGREGATES``; the transport asks again for items a
    lagging replica failed). An item that still fails comes back as its exception
    (``rpc.*`` or ``ValueError`` for malformed output).

    Raises:
        ValueError: a group does not fit one aggregate.
        rpc.TransportError: a batch got no answer.
    """
    params = [[{"data": "0x" + encode_payload(g).hex()}, hex(block)] for g in groups]
    answers = _send(w3, [("eth_call", p) for p in params])
    out: list[AggregateResult | Exception] = []
    for group, answer in zip(groups, answers, strict=True):
        if isinstance(answer, Exception):
            out.append(answer)
            continue
        try:
            out.append(decode_output(rpc.to_bytes(answer), len(group)))
        except (TypeError, ValueError) as exc:
            out.append(ValueError(f"malformed aggregate output: {exc}"))
    return out


def aggregate_all(
    w3: Endpoint,
    calls: Sequence[CallLike],
    block_identifier: str | int = "latest",
    *,
    output_sizes: Sequence[int] | None = None,
) -> AggregateResult:
    """Like ``aggregate`` for any number of calls, still from one block.

    The payload is capped at ``MAX_PAYLOAD`` bytes and the returned data at
    ``MAX_OUTPUT`` (consensus limits on contract creation, which an
    ``eth_call`` without ``to`` is). Calls are grouped using ``output_sizes``
    (expected bytes returned per call, default ``DEFAULT_OUTPUT_SIZE``). One
    group is one request. Several groups (or a group that still returns too
    much or runs out of the node's ``eth_call`` gas cap, which is split in
    half) are pinned to one explicit block (the given number, else the head
    read with one ``eth_blockNumber``) and sent as one JSON-RPC batch
    (``aggregate_batch``: one HTTP request per ``BATCH_AGGREGATES`` groups).

    Raises:
        ValueError: a single call does not fit, or malformed node output.
        rpc.ExecutionReverted / rpc.NodeError / rpc.TransportError: a request failed.
    """
    groups = _groups(calls, output_sizes)
    if len(groups) == 1:
        try:
            return aggregate(w3, calls, block_identifier)
        except (rpc.ExecutionReverted, rpc.NodeError) as exc:
            if not _is_size_error(exc) or len(calls) < 2:
                raise
        half = len(calls) // 2
        groups = [groups[0][:half], groups[0][half:]]
    if isinstance(block_identifier, int):
        pinned = block_identifier
    else:
        pinned = rpc.to_int(rpc.request(w3, "eth_blockNumber", []))
    results: list[CallResult | None] = [None] * len(calls)
    observed: list[int] = []
    while groups:
        outcomes = aggregate_batch(w3, [[calls[i] for i in g] for g in groups], pinned)
        split: list[list[int]] = []
        for group, outcome in zip(groups, outcomes, strict=True):
            if isinstance(outcome, AggregateResult):
                observed.append(outcome.block_number)
                for i, result in zip(group, outcome.results, strict=True):
                    results[i] = result
            elif _is_size_error(outcome) and len(group) >= 2:
                split += [group[: len(group) // 2], group[len(group) // 2 :]]
            else:
                raise outcome
        groups = split
    return AggregateResult(observed[0], tuple(r for r in results if r is not None))
