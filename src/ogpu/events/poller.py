"""One shared ``eth_getLogs`` poller per event loop and (RPC endpoint, Nexus address).

Design:

- Plain ``eth_blockNumber`` + ``eth_getLogs`` over a block cursor. No node-side
  filters (``eth_newFilter``): they expire and vanish behind load balancers.
- Every poll fetches the Nexus logs of all subscribed event types for the new
  block range once (in chunks of at most ``max_block_range`` blocks) and fans
  them out to the subscribers, so K watchers cost one ``eth_getLogs`` per poll,
  not K. The poll interval is the smallest of the subscribers' intervals and
  runs from the end of one poll to the start of the next.
- One schedule for everyone: joining does not poll. A new subscriber (with a
  ``from_block``, or at the last head the poller saw) is served by the next
  scheduled poll, whose range starts low enough to include its history. Only a
  new poller polls at once: one ``eth_blockNumber`` that resolves the starts
  and bounds the first range; the first logs come with the next poll.
- Steady state (HTTP node, no confirmation depth, the range within one chunk):
  one JSON-RPC batch per poll carrying ``eth_blockNumber`` and
  ``eth_getLogs(low, "latest")``, ``low`` being the lowest block any subscriber
  still needs (capped at the last head seen). A batch is not atomic, so the
  head it reports does not bound the range ``"latest"`` covered. The stream
  therefore only moves to just past max(head seen by an earlier request,
  highest returned log block), both certainly covered; logs re-read in the
  overlap next time are dropped by the per-subscriber dedupe below. Otherwise
  (in-process provider, confirmations, a long catch-up) a poll is
  ``eth_blockNumber`` followed by chunked ``eth_getLogs`` calls.
- RPC failures are retried forever with exponential backoff; a subscriber's
  next block only moves past a range once its logs were delivered, and each
  subscriber drops anything at or before the last (block, log index) it
  received, so nothing is lost or repeated across outages.

HTTP: the blocking web3 calls of the SDK's own ``Web3`` (``ogpu.chain``) run in
a worker thread via ``asyncio.to_thread``; in-process providers (eth-tester) are
called inline. Chosen over ``AsyncWeb3``/aiohttp because it reuses the exact
provider the rest of the SDK is configured with (URL, pooled session, retries,
in-process devnet, which has no async provider), needs no per-loop aiohttp
session to open and close, and with one shared poller per loop costs a single
thread hop per poll regardless of the number of watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.providers.rpc import HTTPProvider

from ogpu.chain import rpc as _raw
from ogpu.types import InvalidAddressError, InvalidInputError

logger = logging.getLogger("ogpu.events")

E = TypeVar("E")

DEFAULT_MAX_BLOCK_RANGE = 1000
# Blocks of slack the batched "latest" poll keeps below the chunk size: the chain
# may have grown since the last head was seen.
_BATCH_HEADROOM = 32
_RANGE_ERROR_HINTS = ("range", "limit", "too many", "more than", "exceed", "too large", "size")


@dataclass(frozen=True)
class PollerSettings:
    """Chunk size, confirmation depth and RPC-failure backoff of a poller.

    ``confirmations``: blocks to stay behind the head (0 = read up to the head).
    """

    max_block_range: int = DEFAULT_MAX_BLOCK_RANGE
    confirmations: int = 0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_block_range", "confirmations"):
            value = getattr(self, name)
            minimum = 1 if name == "max_block_range" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise InvalidInputError(
                    f"{name} must be an int >= {minimum}, got {value!r}", param=name
                )
        for name in ("backoff_initial", "backoff_max"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise InvalidInputError(
                    f"{name} must be a positive number, got {value!r}", param=name
                )


_settings = PollerSettings()


def set_poller_settings(settings: PollerSettings) -> None:
    """Use ``settings`` for shared pollers created from now on. No RPC."""
    global _settings
    if not isinstance(settings, PollerSettings):
        raise InvalidInputError("settings must be a PollerSettings", param="settings")
    _settings = settings


def get_poller_settings() -> PollerSettings:
    """Settings applied to newly created shared pollers. No RPC."""
    return _settings


class _Failed:
    """Queued to a subscriber when the poller itself crashed (a bug, not an RPC failure)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@dataclass(eq=False)
class Subscription(Generic[E]):
    """One watcher's interest: an event topic, a decoder/filter and a delivery queue.

    ``start`` is the first block (``None`` until the poller resolves it to a head);
    ``next_block`` the first block not yet fetched for this subscriber.
    """

    topic: str
    decode: Callable[[Any], Any]
    accept: Callable[[Any], E | None]
    start: int | None
    poll_interval: float
    queue: asyncio.Queue[E | _Failed] = field(default_factory=asyncio.Queue)
    next_block: int = 0
    last_position: tuple[int, int] = (-1, -1)

    async def get(self) -> E:
        """Next event for this subscriber (waits). Re-raises a poller crash."""
        item = await self.queue.get()
        if isinstance(item, _Failed):
            raise item.error
        return item


def _position(log: Mapping[str, Any]) -> tuple[int, int]:
    return _raw.to_int(log["blockNumber"]), _raw.to_int(log["logIndex"])


def _topic0(log: Mapping[str, Any]) -> str:
    topics = log.get("topics")
    if not topics:
        return ""
    first = topics[0]
    text = first.hex() if isinstance(first, (bytes, bytearray)) else str(first)
    text = text.lower()
    return text if text.startswith("0x") else "0x" + text


def _looks_like_range_error(error: BaseException) -> bool:
    """A JSON-RPC error answer (not a transport failure) that complains about size."""
    if not isinstance(error, (Web3RPCError, ValueError, _raw.NodeError)):
        return False
    text = str(error).lower()
    return any(hint in text for hint in _RANGE_ERROR_HINTS)


class _Rpc:
    """The JSON-RPC calls the poller needs, off the event loop for HTTP providers."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._threaded = isinstance(w3.provider, HTTPProvider)

    @property
    def batches(self) -> bool:
        """Whether a JSON-RPC batch is one HTTP request (HTTP providers only)."""
        return self._threaded

    async def _run(self, fn: Callable[[], E]) -> E:
        if self._threaded:
            return await asyncio.to_thread(fn)
        return fn()

    async def block_number(self) -> int:
        return int(await self._run(lambda: self._w3.eth.block_number))

    async def get_logs(
        self, from_block: int, to_block: int, address: str, topics: Sequence[str]
    ) -> list[Mapping[str, Any]]:
        params: Any = {
            "fromBlock": from_block,
            "toBlock": to_block,
            "address": address,
            "topics": [list(topics)],
        }
        return list(await self._run(lambda: self._w3.eth.get_logs(params)))

    async def head_and_logs_to_latest(
        self, from_block: int, address: str, topics: Sequence[str]
    ) -> tuple[int, list[Mapping[str, Any]] | Exception]:
        """``eth_blockNumber`` + ``eth_getLogs(from_block, "latest")`` in one batch.

        Returns the head and the logs, or the exception the ``eth_getLogs`` part
        failed with. Raises when the head is not available.
        """
        params = {
            "fromBlock": hex(from_block),
            "toBlock": "latest",
            "address": address,
            "topics": [list(topics)],
        }
        calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", []), ("eth_getLogs", [params])]
        head, logs = await self._run(lambda: _raw.batch(self._w3, calls))
        if isinstance(head, Exception):
            raise head
        if isinstance(logs, Exception):
            return _raw.to_int(head), logs
        if not isinstance(logs, list):
            return _raw.to_int(head), _raw.TransportError("eth_getLogs", "answer is not a list")
        return _raw.to_int(head), logs


def endpoint_key(w3: Web3) -> str:
    """Identity of the node ``w3`` talks to: the HTTP URL, else the provider object."""
    provider = w3.provider
    if isinstance(provider, HTTPProvider):
        return str(provider.endpoint_uri)
    return f"{type(provider).__name__}@{id(provider):x}"


class EventPoller:
    """Polls one node for one Nexus contract's logs and fans them out to subscribers.

    Use :meth:`shared` to get the per-event-loop instance the watchers use.
    All methods must be called from the event loop the poller belongs to.
    """

    def __init__(
        self, w3: Web3, nexus_address: str, settings: PollerSettings | None = None
    ) -> None:
        if not isinstance(nexus_address, str) or not is_address(nexus_address):
            raise InvalidAddressError(
                f"nexus_address is not an address: {nexus_address!r}", param="nexus_address"
            )
        self._rpc = _Rpc(w3)
        self.nexus_address = to_checksum_address(nexus_address)
        self.settings = settings or _settings
        self._chunk = self.settings.max_block_range
        self._subs: list[Subscription[Any]] = []
        self._cursor: int | None = None
        self._head: int | None = None
        self._batch_ok = self._rpc.batches and self.settings.confirmations == 0
        self._due = 0.0
        self._polls = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @classmethod
    def shared(cls, w3: Web3, nexus_address: str) -> EventPoller:
        """The poller of the running event loop for (``w3``'s endpoint, ``nexus_address``).

        No RPC. Must be called from a coroutine.
        """
        loop = asyncio.get_running_loop()
        pollers = _POLLERS.setdefault(loop, {})
        key = (endpoint_key(w3), str(nexus_address).lower())
        poller = pollers.get(key)
        if poller is None:
            poller = cls(w3, nexus_address)
            pollers[key] = poller
        return poller

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    @property
    def pending_count(self) -> int:
        """Subscribers whose start block is not resolved yet (they wait for a head)."""
        return sum(1 for s in self._subs if s.start is None)

    @property
    def cursor(self) -> int | None:
        """Next block the shared stream will fetch (None while idle)."""
        return self._cursor

    @property
    def running(self) -> bool:
        """Whether the polling task is alive (it ends with the last subscriber)."""
        return self._task is not None

    @property
    def poll_count(self) -> int:
        """Polls completed since this poller was created (failed attempts excluded)."""
        return self._polls

    def subscribe(self, subscription: Subscription[E]) -> Subscription[E]:
        """Register ``subscription`` on the shared schedule. No RPC here.

        A subscriber without a start block starts at the last head the poller saw;
        it joins the next scheduled poll, which also fetches any history from its
        start (one request when the range fits ``max_block_range``). The schedule is
        moved only to honour a shorter ``poll_interval``, or at once when the start
        needs a head and the poller has none yet (a new poller's first poll).
        """
        now = time.monotonic()
        if subscription.start is None and self._head is not None:
            subscription.start = subscription.next_block = max(self._head, 0)
        self._subs.append(subscription)
        if self._task is None:
            self._due = now
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ogpu-events-poller-{self.nexus_address}"
            )
            return subscription
        due = now if subscription.start is None else now + subscription.poll_interval
        if due < self._due:
            self._due = due
            self._wake.set()
        return subscription

    def unsubscribe(self, subscription: Subscription[Any]) -> None:
        """Stop delivering to ``subscription``; the task ends with the last one. No RPC."""
        if subscription in self._subs:
            self._subs.remove(subscription)
        self._wake.set()

    def _interval(self) -> float:
        return min((s.poll_interval for s in self._subs), default=1.0)

    async def _run(self) -> None:
        backoff = self.settings.backoff_initial
        try:
            while self._subs:
                delay = self._due - time.monotonic()
                if delay > 0:
                    self._wake.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                    continue
                try:
                    await self._poll()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    logger.warning(
                        "event poll of %s failed (%s: %s); retrying in %.1fs",
                        self.nexus_address,
                        type(exc).__name__,
                        exc,
                        backoff,
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.settings.backoff_max)
                    continue
                backoff = self.settings.backoff_initial
                self._polls += 1
                # The interval runs from the end of a poll, as a sleep between polls.
                self._due = time.monotonic() + self._interval()
        except Exception as exc:
            logger.exception("event poller of %s crashed", self.nexus_address)
            for sub in self._subs:
                sub.queue.put_nowait(_Failed(exc))
        finally:
            self._task = None
            self._cursor = None
            self._head = None
            self._due = 0.0

    async def _poll(self) -> None:
        if self._batch_ok:
            if self._head is None:
                await self._learn_head()
                return
            low = self._batch_low()
            if low is not None:
                await self._poll_batched(low)
                return
        await self._poll_two_step()

    def _resolve_starts(self, head: int) -> None:
        for sub in self._subs:
            if sub.start is None:
                sub.start = sub.next_block = max(head, 0)

    def _stream_cursor(self, head: int) -> int:
        """The cursor, set first on a fresh poller: the lowest subscriber start, never
        past ``head + 1`` (blocks below the cursor count as fetched)."""
        if self._cursor is None:
            self._cursor = min([max(head + 1, 0), *(s.next_block for s in self._subs)])
        return self._cursor

    def _advance(self, subs: list[Subscription[Any]], covered: int) -> None:
        """Blocks up to ``covered`` were fetched (and delivered) for every one of ``subs``."""
        for sub in subs:
            sub.next_block = max(sub.next_block, covered + 1)
        cursor = self._cursor
        self._cursor = covered + 1 if cursor is None else max(cursor, covered + 1)

    async def _learn_head(self) -> None:
        """First poll of a batching poller: one ``eth_blockNumber``, no logs.

        It resolves the start of subscribers without one and bounds the range of the
        first batch, which runs on the schedule (so ``max_block_range`` holds for it).
        """
        head = await self._rpc.block_number()
        self._head = head
        self._resolve_starts(head)
        self._stream_cursor(head)

    def _batch_low(self) -> int | None:
        """``fromBlock`` of a batched poll, or None when the range may not fit one chunk."""
        head, cursor = self._head, self._cursor
        if head is None or cursor is None or not self._subs:
            return None
        # Nodes refuse a fromBlock past "latest"; ``head`` cannot be, and the few
        # logs re-read below a subscriber's next block are dropped by ``_dispatch``.
        low = max(min(cursor, head, *(s.next_block for s in self._subs)), 0)
        if head + 1 - low + _BATCH_HEADROOM > self._chunk:
            return None
        return low

    async def _poll_batched(self, low: int) -> None:
        """One request: ``eth_blockNumber`` + ``eth_getLogs(low, "latest")`` for all subscribers."""
        subs = list(self._subs)
        known, cursor = self._head, self._cursor
        assert known is not None and cursor is not None
        topics = sorted({s.topic for s in subs})
        head, logs = await self._rpc.head_and_logs_to_latest(low, self.nexus_address, topics)
        self._head = head
        self._resolve_starts(head)
        if isinstance(logs, Exception):
            if head < low:
                return  # the head went back (a restarted node): nothing to fetch yet
            if not _looks_like_range_error(logs):
                logger.info("batched eth_getLogs to 'latest' failed (%s); two-step polls", logs)
                self._batch_ok = False
            await self._fetch(low, head, subs)
            return
        # Certainly covered: blocks up to a head seen by an earlier request, the
        # highest block a log came from, and what earlier polls fetched.
        highest = max((_position(log)[0] for log in logs), default=low - 1)
        covered = max(known, highest, cursor - 1)
        self._dispatch(logs, subs, low, covered)
        self._advance(subs, covered)

    async def _poll_two_step(self) -> None:
        """``eth_blockNumber``, then ``eth_getLogs`` over the new range in chunks."""
        head = await self._rpc.block_number() - self.settings.confirmations
        self._head = head
        self._resolve_starts(head)
        subs = list(self._subs)
        if not subs:
            return
        cursor = self._stream_cursor(head)
        low = max(min(cursor, *(s.next_block for s in subs)), 0)
        if head >= low:
            await self._fetch(low, head, subs)

    async def _fetch(self, low: int, high: int, subs: list[Subscription[Any]]) -> None:
        start = low
        topics = sorted({s.topic for s in subs})
        while start <= high:
            end = min(high, start + self._chunk - 1)
            try:
                logs = await self._rpc.get_logs(start, end, self.nexus_address, topics)
            except Exception as exc:
                if self._chunk > 1 and _looks_like_range_error(exc):
                    self._chunk = max(1, self._chunk // 2)
                    logger.info("node refused the block range; chunk size now %d", self._chunk)
                    continue
                raise
            self._dispatch(logs, subs, start, end)
            self._advance(subs, end)
            start = end + 1

    def _dispatch(
        self, logs: list[Mapping[str, Any]], subs: list[Subscription[Any]], low: int, high: int
    ) -> None:
        usable = []
        for log in logs:
            if log.get("removed"):
                continue
            position = _position(log)
            if low <= position[0] <= high:
                usable.append((position, log))
        usable.sort(key=lambda item: item[0])
        for position, log in usable:
            topic = _topic0(log)
            decoded: dict[int, Any] = {}
            for sub in subs:
                if sub.topic != topic or position[0] < sub.next_block:
                    continue
                if position <= sub.last_position:
                    continue
                key = id(sub.decode)
                if key not in decoded:
                    try:
                        decoded[key] = sub.decode(log)
                    except Exception as exc:
                        logger.warning("skipping undecodable log at %s: %s", position, exc)
                        decoded[key] = None
                raw = decoded[key]
                if raw is None:
                    continue
                event = sub.accept(raw)
                sub.last_position = position
                if event is not None:
                    sub.queue.put_nowait(event)


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], EventPoller]]
_POLLERS = weakref.WeakKeyDictionary()
