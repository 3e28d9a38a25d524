"""Receipts: waiting for one (bounded by wall clock), building ``Receipt``, explaining
a status-0 receipt, decoding logs.

A malformed answer after the broadcast never escapes raw: ``malformed`` turns it into
a typed error carrying the transaction's hash.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ogpu_bindings

from ogpu.abi.keccak import to_checksum_address
from ogpu.chain import rpc
from ogpu.protocol._revert import decode_failure
from ogpu.protocol._tx import clock
from ogpu.protocol._tx.calls import batch, chunks, read
from ogpu.protocol._tx.prepare import Target, call_object
from ogpu.protocol._tx.send import Peek, mined
from ogpu.types.errors import (
    GasError,
    OGPUError,
    RPCError,
    TxError,
    TxReceiptTimeoutError,
    TxRpcError,
)
from ogpu.types.receipt import RawLog, Receipt

if TYPE_CHECKING:
    from web3 import Web3

#: Seconds to wait for a receipt before ``TxReceiptTimeoutError``.
DEFAULT_RECEIPT_TIMEOUT = 120.0
#: First and largest pause between receipt polls, in seconds.
POLL_INTERVAL = (0.02, 1.0)
#: Malformed receipts in a row before the wait gives up (a replica may recover).
MALFORMED_LIMIT = 3
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


def malformed(tx_hash: str, what: str, detail: object) -> TxRpcError:
    """The typed error (an ``RPCError`` carrying the hash) of a malformed answer about the
    sent transaction ``tx_hash``. No I/O."""
    reason = f"malformed {what}: {detail}"
    return TxRpcError(
        message=f"malformed answer from the node about {tx_hash} ({reason}); "
        "look the hash up before sending again",
        reason=reason,
        tx_hash=tx_hash,
        method="eth_getTransactionReceipt",
        cause=str(detail),
    )


def receipt_timeout(tx_hash: str, seconds: float) -> TxReceiptTimeoutError:
    """No receipt within ``seconds`` (a ``ReceiptTimeoutError`` with the hash). No I/O."""
    return TxReceiptTimeoutError(
        message=f"no receipt for {tx_hash} after {seconds:.0f}s; it may still be mined",
        tx_hash=tx_hash,
        timeout=seconds,
    )


def _receipt_and_head(w3: Web3, tx_hash: str) -> tuple[object, object]:
    """The receipt answer and the latest header answer (each may be an ``rpc`` failure)."""
    calls: list[tuple[str, list[Any]]] = [
        ("eth_getTransactionReceipt", [tx_hash]),
        ("eth_getBlockByNumber", ["latest", False]),
    ]
    try:
        found, head = rpc.batch(w3, calls)
    except (rpc.NodeError, rpc.TransportError) as exc:
        found, head = rpc.batch(w3, calls[:1])[0], exc
    return found, head


def _polls(seconds: float) -> Iterator[None]:
    """One step per poll, for ``seconds``: pauses between steps grow from
    ``POLL_INTERVAL[0]`` to ``POLL_INTERVAL[1]``; none after the step that ends the wait
    (the caller stops iterating) or once the time is up."""
    deadline = time.monotonic() + seconds
    pause, longest = POLL_INTERVAL
    while True:
        yield
        if time.monotonic() >= deadline:
            return
        clock.pause(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, longest)


def wait_receipt(
    w3: Web3, tx_hash: str, timeout: float, peek: Peek | None = None
) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """The mined receipt and the latest header seen with it (None if unknown). Polls with
    growing pauses, never past ``timeout`` nor the ambient budget.

    Raises:
        TxReceiptTimeoutError: no receipt in time (carries the hash).
        TxRpcError: the node kept answering malformed receipts (carries the hash).
    """
    seconds = clock.left(timeout)
    if peek is not None:
        seen, header = peek
        if seen is not None and mined(seen):
            return seen, header
        clock.pause(min(POLL_INTERVAL[0], seconds))
    bad = 0
    for _ in _polls(seconds):
        found, head = _receipt_and_head(w3, tx_hash)
        if isinstance(found, Mapping) and mined(found):
            return found, head if isinstance(head, Mapping) else None
        bad = bad + 1 if isinstance(found, rpc.MalformedAnswer) else 0
        if bad >= MALFORMED_LIMIT:
            raise malformed(tx_hash, "eth_getTransactionReceipt", found)
    raise receipt_timeout(tx_hash, seconds)


def await_receipts(
    w3: Web3,
    hashes: Mapping[int, str],
    timeout: float,
    retries: int,
) -> tuple[dict[int, Mapping[str, Any]], dict[int, OGPUError]]:
    """The mined receipts of the transactions ``hashes`` (by key), polled in batches of
    ``BATCH_LIMIT`` with growing pauses until ``timeout`` or the ambient budget.
    Returns (receipts, errors): a hash without a receipt gets ``TxReceiptTimeoutError``,
    one answered malformed ``MALFORMED_LIMIT`` times in a row a ``TxRpcError``, each
    carrying the hash."""
    seconds = clock.left(timeout)
    found: dict[int, Mapping[str, Any]] = {}
    errors: dict[int, OGPUError] = {}
    bad: dict[int, int] = {}
    pending = list(hashes)
    for _ in _polls(seconds):
        for chunk in chunks(pending):
            calls = [("eth_getTransactionReceipt", [hashes[key]]) for key in chunk]
            try:
                answers = batch(w3, calls, retries)
            except OGPUError:
                answers = [None] * len(chunk)
            for key, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, Mapping) and mined(answer):
                    found[key] = answer
                bad[key] = bad.get(key, 0) + 1 if isinstance(answer, rpc.MalformedAnswer) else 0
                if bad[key] >= MALFORMED_LIMIT:
                    errors[key] = malformed(hashes[key], "receipt", answer)
        pending = [key for key in pending if key not in found and key not in errors]
        if not pending:
            break  # no pause after the poll that found the last one
    for key in pending:
        errors[key] = receipt_timeout(hashes[key], seconds)
    return found, errors


def block_headers(
    w3: Web3, receipts: Sequence[Mapping[str, Any]], retries: int
) -> dict[int, Mapping[str, Any]]:
    """The headers of the blocks ``receipts`` were mined in, by number, in batches (a
    failed batch or header is left out: the block time is a convenience)."""
    numbers = set()
    for found in receipts:
        try:
            numbers.add(rpc.to_int(found["blockNumber"]))
        except (KeyError, ValueError):
            continue
    headers: dict[int, Mapping[str, Any]] = {}
    for chunk in chunks(sorted(numbers)):
        try:
            answers = batch(w3, [("eth_getBlockByNumber", [hex(n), False]) for n in chunk], retries)
        except OGPUError:
            continue
        for number, answer in zip(chunk, answers, strict=True):
            if isinstance(answer, Mapping):
                headers[number] = answer
    return headers


def _hex(value: Any) -> str:
    """``0x`` hex of bytes or of a hex string (web3 gives bytes, a node ``0x`` text)."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") or not text else "0x" + text


def _address(value: object) -> str:
    """The EIP-55 form of a 0x address (web3's checksummed, or a node's lowercase).

    Raises:
        ValueError: not an address.
    """
    text = str(value)
    if not _ADDRESS.match(text):
        raise ValueError(f"not an address: {text[:50]!r}")
    return to_checksum_address(text[2:].lower())


def _raw_log(entry: Mapping[str, Any]) -> RawLog:
    """A log no decoder claims, as ``RawLog`` (missing positions read as 0)."""
    return RawLog(
        address=_address(entry["address"]),
        topics=tuple("0x" + rpc.to_bytes(t, "log").hex() for t in entry.get("topics", [])),
        data=rpc.to_bytes(entry.get("data") or b"", "log"),
        log_index=rpc.to_int(entry.get("logIndex") or 0, "log"),
        block_number=rpc.to_int(entry.get("blockNumber") or 0, "log"),
        transaction_hash="0x" + rpc.to_bytes(entry.get("transactionHash") or b"", "log").hex(),
    )


def decode_logs(entries: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
    """Decode receipt logs (a node's hex answer or web3's values) with the generated
    ``EVENT_DECODERS``; unknown ones stay ``RawLog``. No RPC, no web3.

    Raises:
        ValueError (``rpc.MalformedAnswer`` among them), KeyError, TypeError: a log of the
        wrong shape (the engine turns them into a typed error with the hash).
    """
    decoders = ogpu_bindings.EVENT_DECODERS  # the first use imports the events modules
    out: list[Any] = []
    for entry in entries:
        topics = entry.get("topics") or ()
        first = _hex(topics[0]).lower() if topics else ""
        decoder = decoders.get(first)
        decoded: Any = None
        if decoder is not None:
            try:
                decoded = decoder(entry)
            except Exception:
                decoded = None
        out.append(decoded if decoded is not None else _raw_log(entry))
    return tuple(out)


def _timestamp(w3: Web3, block_number: int, mined_in: str, head: object, retries: int) -> int:
    """The receipt's block time: from ``head`` when it is that block, else one read."""
    block: Any = head
    try:
        if not isinstance(block, Mapping) or not mined_in or _hex(block.get("hash")) != mined_in:
            block = read(w3, "eth_getBlockByNumber", [hex(block_number), False], retries)
        return rpc.to_int(block.get("timestamp", 0)) if isinstance(block, Mapping) else 0
    except (RPCError, rpc.TransportError):
        return 0  # the block time is a convenience: a lagging replica does not fail a write


def build_receipt(
    w3: Web3, found: Mapping[str, Any], head: object, retries: int, *, timestamp: bool = True
) -> Receipt:
    """A ``Receipt`` from a mined receipt answer. One ``eth_getBlockByNumber`` unless
    ``head`` is the receipt's block or ``timestamp=False`` (``Receipt.timestamp`` 0).

    Raises:
        ValueError, KeyError, TypeError: a malformed receipt (see ``decode_logs``).
    """
    if not timestamp:
        return receipt_of(found, 0)
    block_number = rpc.to_int(found["blockNumber"])
    mined_in = _hex(found.get("blockHash") or "")
    return receipt_of(found, _timestamp(w3, block_number, mined_in, head, retries))


def receipt_of(found: Mapping[str, Any], timestamp: int) -> Receipt:
    """A ``Receipt`` from a mined receipt: a node's hex answer or web3's values (bytes,
    ints). No RPC.

    Raises:
        ValueError, KeyError, TypeError: a malformed receipt (see ``decode_logs``).
    """
    to = found.get("to")
    return Receipt(
        tx_hash=_hex(found["transactionHash"]),
        block_number=rpc.to_int(found["blockNumber"]),
        gas_used=rpc.to_int(found["gasUsed"]),
        status=rpc.to_int(found["status"]),
        logs=decode_logs(list(found.get("logs") or [])),
        timestamp=timestamp,
        from_address=_address(found["from"]) if found.get("from") else "",
        to=_address(to) if to else None,
        effective_gas_price=rpc.to_int(found.get("effectiveGasPrice") or 0),
        block_hash=_hex(found.get("blockHash") or ""),
    )


def failed(
    w3: Web3, target: Target, sender: str, found: Mapping[str, Any], gas: int, tx_hash: str
) -> OGPUError:
    """Explain a status-0 receipt by replaying the call at its block. One ``eth_call``."""
    block = rpc.to_int(found["blockNumber"])
    call = call_object(target, sender)
    call["gas"] = hex(gas)
    try:
        rpc.request(w3, "eth_call", [call, hex(block)])
    except rpc.ExecutionReverted as exc:
        error = decode_failure(
            exc.data, target.contract, target.function, target.args, sender, block
        )
        if isinstance(error, TxError):
            error.tx_hash = tx_hash
        return error
    except (rpc.NodeError, rpc.TransportError):
        pass
    if rpc.to_int(found.get("gasUsed", 0)) >= gas:
        return GasError(message=f"transaction {tx_hash} ran out of gas", tx_hash=tx_hash)
    return TxError(f"transaction {tx_hash} failed on chain (status 0)", tx_hash=tx_hash)
