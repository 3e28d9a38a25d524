"""The JSON-RPC side of the event poller: block headers, log batches, bloom checks.

Every call goes through :mod:`ogpu.chain.rpc` (the SDK's own HTTP transport, or an
in-process provider called inline). Failures are its ``NodeError`` /
``TransportError``; a malformed header or log is a ``MalformedAnswer``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from ogpu.chain import rpc as _raw

_RANGE_ERROR_HINTS = ("range", "limit", "too many", "more than", "exceed", "too large", "size")
_BLOOM_BYTES = 256


@dataclass(frozen=True)
class Header:
    """What the poller keeps of a block: number, hash, parent hash and logs bloom."""

    number: int
    hash: str
    parent: str
    bloom: bytes


def _hex(value: Any, method: str) -> str:
    return "0x" + _raw.to_bytes(value, method).hex()


def parse_header(value: Any) -> Header | None:
    """A block object (or null) of ``eth_getBlockByNumber`` as a :class:`Header`. No I/O.

    Raises:
        MalformedAnswer: a block without a usable number, hash, parent hash or bloom.
    """
    method = "eth_getBlockByNumber"
    if value is None:  # ogpu.chain.rpc checked the rest is an object
        return None
    raw_bloom = value.get("logsBloom")
    if isinstance(raw_bloom, int) and not isinstance(raw_bloom, bool) and raw_bloom >= 0:
        # In-process providers (eth-tester) give the bloom as an integer.
        raw_bloom = raw_bloom.to_bytes(_BLOOM_BYTES, "big") if raw_bloom < 1 << 2048 else b""
    bloom = _raw.to_bytes(raw_bloom, method)
    if len(bloom) != _BLOOM_BYTES:
        raise _raw.MalformedAnswer(method, "malformed answer: logsBloom is not 256 bytes")
    return Header(
        number=_raw.to_int(value.get("number"), method),
        hash=_hex(value.get("hash"), method),
        parent=_hex(value.get("parentHash"), method),
        bloom=bloom,
    )


def position(log: Mapping[str, Any]) -> tuple[int, int]:
    """(block number, log index) of a log. Raises MalformedAnswer."""
    return _raw.to_int(log.get("blockNumber"), "eth_getLogs"), _raw.to_int(
        log.get("logIndex"), "eth_getLogs"
    )


def log_block_hash(log: Mapping[str, Any]) -> str | None:
    """The log's ``blockHash`` as lowercase ``0x`` hex (None when the node omits it)."""
    value = log.get("blockHash")
    return None if value is None else _hex(value, "eth_getLogs")


def topic0(log: Mapping[str, Any]) -> str:
    topics = log.get("topics")
    if not topics:
        return ""
    first = topics[0]
    text = first.hex() if isinstance(first, (bytes, bytearray)) else str(first)
    text = text.lower()
    return text if text.startswith("0x") else "0x" + text


def looks_like_range_error(error: BaseException) -> bool:
    """A JSON-RPC error answer (not a transport failure) that complains about size."""
    if not isinstance(error, (ValueError, _raw.NodeError)):  # as rpc.batch returns them
        return False
    text = str(error).lower()
    return any(hint in text for hint in _RANGE_ERROR_HINTS)


def _bloom_bits(item: bytes) -> tuple[tuple[int, int], ...]:
    digest = keccak(item)
    bits = []
    for i in (0, 2, 4):
        index = ((digest[i] << 8) | digest[i + 1]) & 2047
        bits.append((_BLOOM_BYTES - 1 - index // 8, 1 << (index % 8)))
    return tuple(bits)


class BloomFilter:
    """Whether a block's logs bloom may hold a log of ``address`` with one of ``topics``."""

    def __init__(self, address: str, topics: Iterable[str]) -> None:
        self._address = _bloom_bits(bytes.fromhex(address[2:]))
        self._topics = [_bloom_bits(bytes.fromhex(t[2:])) for t in topics]

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def of(address: str, topics: tuple[str, ...]) -> BloomFilter:
        """The filter of ``address`` and ``topics``, built once (keccak of each)."""
        return BloomFilter(address, topics)

    def may_match(self, bloom: bytes) -> bool:
        def has(bits: tuple[tuple[int, int], ...]) -> bool:
            return all(bloom[byte] & mask for byte, mask in bits)

        return has(self._address) and any(has(bits) for bits in self._topics)


def first_replaced(kept: Mapping[int, str], headers: Iterable[Header | None]) -> int | None:
    """The lowest kept block that ``headers`` show was replaced (its hash, or the parent
    hash of the block above it, differs from the kept hash), if any. No I/O."""
    found: list[int] = []
    for header in headers:
        if header is None:
            continue
        if kept.get(header.number, header.hash) != header.hash:
            found.append(header.number)
        if kept.get(header.number - 1, header.parent) != header.parent:
            found.append(header.number - 1)
    return min(found, default=None)


def logs_at(logs: Sequence[Mapping[str, Any]], number: int) -> list[Mapping[str, Any]]:
    """The logs of block ``number``. Raises MalformedAnswer."""
    return [log for log in logs if position(log)[0] == number]


def block_hash(logs: Sequence[Mapping[str, Any]]) -> str | None:
    """The one block hash that ``logs`` (of one block) all name; None if one omits it or
    they differ (an answer mixing forks). No I/O."""
    hashes = {log_block_hash(log) for log in logs}
    return hashes.pop() if len(hashes) == 1 else None


@dataclass
class Answer:
    """One poll's batch: the head, the headers asked for, and the logs (or their error)."""

    latest: Header
    headers: dict[int, Header | None]
    logs: list[Mapping[str, Any]] | Exception | None


class Rpc:
    """The calls of the poller, off the event loop for HTTP providers."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self.batches = isinstance(w3.provider, HTTPProvider)

    async def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if self.batches:
            return await asyncio.to_thread(_raw.batch, self._w3, calls)
        return _raw.batch(self._w3, calls)

    async def latest(self) -> Header:
        """The head block's header. Raises NodeError / TransportError."""
        (answer,) = await self._batch([("eth_getBlockByNumber", ["latest", False])])
        return _required(answer)

    async def headers(self, numbers: Sequence[int]) -> dict[int, Header | None]:
        """Headers of ``numbers`` in one batch (None: the node has no such block)."""
        calls = [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]
        return _headers(numbers, await self._batch(calls))

    async def poll(
        self,
        numbers: Sequence[int],
        logs_range: tuple[int, int] | None,
        address: str,
        topics: Sequence[str],
    ) -> Answer:
        """One batch: ``eth_getLogs`` over ``logs_range`` (explicit block numbers, never
        ``"latest"``), then the head and the headers of ``numbers``.

        Raises NodeError / TransportError when the head is not available.
        """
        # The logs first: the headers read after them are on a chain at least as new, so
        # a kept block they confirm is an ancestor of every block the logs came from.
        calls: list[tuple[str, list[Any]]] = []
        if logs_range is not None:
            low, high = logs_range
            params = {
                "fromBlock": hex(low),
                "toBlock": hex(high),
                "address": address,
                "topics": [list(topics)],
            }
            calls.append(("eth_getLogs", [params]))
        calls.append(("eth_getBlockByNumber", ["latest", False]))
        calls += [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]
        answers = await self._batch(calls)
        logs: list[Mapping[str, Any]] | Exception | None = None
        if logs_range is not None:
            logs = answers.pop(0)
        latest = _required(answers[0])
        headers = _headers(numbers, answers[1:])
        # The head: the highest block the batch saw.
        seen = [latest, *(h for h in headers.values() if h is not None)]
        return Answer(max(seen, key=lambda h: h.number), headers, logs)


def _headers(numbers: Sequence[int], answers: Sequence[Any]) -> dict[int, Header | None]:
    """The headers of ``numbers`` in a batch's answers (None: failed, or no such block)."""
    found = zip(numbers, answers, strict=True)
    return {n: None if isinstance(a, Exception) else parse_header(a) for n, a in found}


def _required(answer: Any) -> Header:
    if isinstance(answer, Exception):
        raise answer
    header = parse_header(answer)
    if header is None:
        raise _raw.MalformedAnswer("eth_getBlockByNumber", "malformed answer: no latest block")
    return header


def endpoint_key(w3: Web3) -> str:
    """Identity of the node ``w3`` talks to: the HTTP URL, else the provider object."""
    provider = w3.provider
    if isinstance(provider, HTTPProvider):
        return str(provider.endpoint_uri)
    return f"{type(provider).__name__}@{id(provider):x}"
