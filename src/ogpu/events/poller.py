"""One shared ``eth_getLogs`` poller per event loop and (RPC endpoint, Nexus address).

Design:

- No node-side filters (``eth_newFilter``: they expire and vanish behind load
  balancers) and never ``"latest"`` in ``eth_getLogs``: every range is explicit.
- One poll is one JSON-RPC batch (one HTTP request): ``eth_getLogs`` over the range
  for every subscribed event type, then the head block's header, the headers of the
  range's blocks from 32 below the known head on (only those known to exist when
  tied, below) and the kept block below the range: K watchers cost one request per
  poll. The range runs from
  the lowest block a subscriber needs to 3-31 blocks past the last head (twice the
  blocks the measured rate gives since it was read); a fully proven range short of
  the head is followed by another poll at once.
- A block counts as covered only when the answer proves it: by its header, whose
  logs bloom must find a subscribed event in the logs wherever it says the block
  may hold one (with that block's hash), or by a later block of the same answer: a
  header, or logs naming their block hash (a node's logs index holds every block
  below its newest). A replica whose logs lag its head (load-balanced nodes), or
  that answers ``[]`` for blocks it does not have, therefore delays events, never
  loses them: uncovered blocks are asked again by the next poll. Logs prove blocks
  only when tied: the same answer holds the logs of the last block covered, with its
  kept hash (its logs node is on the kept chain); then the blocks mined since the
  last poll cost no header read.
- The hashes of covered blocks that the answers named (headers, logs) are kept, 128
  at most. Each poll reads the newest kept block below its range after the logs: a
  hash (or parent hash) that differs from a kept one means the chain was rewound
  (a reorg, or a node restarted from older state): one more batch finds the last
  kept block still on the chain, the stream rewinds to the block after it, every
  watcher gets a removal notice for each event it took from the dropped blocks
  (``on_removed``), and the new blocks' events are delivered.
- A subscriber with ``confirmations=N`` is delivered only blocks at least N below
  the head; the shared range reaches back far enough for it.
- One schedule for everyone: joining does not poll. A new poller's first request
  reads the head; a subscriber without ``from_block`` starts after the head read by
  the next poll (only new events). The poll interval is the smallest of the
  subscribers' intervals, from the end of one poll to the start of the next.
- RPC failures are retried forever with exponential backoff; each subscriber drops
  anything at or before the last (block, log index) it received.

HTTP requests run in a worker thread (``asyncio.to_thread``) through the SDK's own
transport (:mod:`ogpu.chain.rpc`); in-process providers (eth-tester) are called inline
and read the head before the range (no speculation: they answer past-the-head ranges
with an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import weakref
from collections.abc import Mapping
from typing import Any, TypeVar

from ogpu_bindings.runtime import check_address
from web3 import Web3

from ogpu.events._rpc import (
    Answer,
    BloomFilter,
    Header,
    Rpc,
    block_hash,
    endpoint_key,
    first_replaced,
    log_block_hash,
    logs_at,
    looks_like_range_error,
    position,
)
from ogpu.events._settings import (
    DEFAULT_MAX_BLOCK_RANGE,
    PollerSettings,
    get_poller_settings,
    set_poller_settings,
)
from ogpu.events._subscription import Subscription, deliver

__all__ = [
    "DEFAULT_MAX_BLOCK_RANGE",
    "EventPoller",
    "PollerSettings",
    "Subscription",
    "endpoint_key",
    "get_poller_settings",
    "set_poller_settings",
]

logger = logging.getLogger("ogpu.events")

E = TypeVar("E")

KEPT_HASHES = 128  # covered blocks whose hashes are kept: rewinds this deep are exact
_HEADER_SPAN = 32  # headers asked per poll (the top of the range), bloom-checked
_AHEAD = 3  # blocks asked past the last head seen: new blocks arrive in the same poll
_BLOOM_TRIES = 4  # polls a bloom may match with no log before it counts as a false positive
_BLOOM_DEPTH = 12  # ... and blocks below the head it must be by then


class EventPoller:
    """Polls one node for one Nexus contract's logs and fans them out to subscribers.

    Use :meth:`shared` to get the per-event-loop instance the watchers use.
    All methods must be called from the event loop the poller belongs to.
    """

    def __init__(
        self, w3: Web3, nexus_address: str, settings: PollerSettings | None = None
    ) -> None:
        self.nexus_address = check_address(nexus_address, "nexus_address")
        self._rpc = Rpc(w3)
        self.settings = settings or get_poller_settings()
        self._chunk = self.settings.max_block_range
        self._subs: list[Subscription[Any]] = []
        self._speculate = self._rpc.batches
        # (blocks, seconds) between heads, halved at each: the rate that sizes the range.
        self._rate = (0.0, 0.0)
        self._head_at = 0.0
        self._forget()
        self._polls = 0
        self._rewinds = 0
        self._removed = 0
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

    @property
    def rewinds(self) -> tuple[int, int]:
        """(rewinds, removal notices queued) since this poller was created."""
        return self._rewinds, self._removed

    def subscribe(self, subscription: Subscription[E]) -> Subscription[E]:
        """Register ``subscription`` on the shared schedule. No RPC here.

        A subscriber without a start block starts after the head the next poll reads
        (only new events). It joins the next scheduled poll, which also fetches any
        history from its start. The schedule is moved only to honour a shorter
        ``poll_interval``; a new poller polls at once (it reads the head).
        """
        now = time.monotonic()
        subscription.confirmations = max(subscription.confirmations, self.settings.confirmations)
        self._subs.append(subscription)
        if self._task is None:
            self._due = now
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ogpu-events-poller-{self.nexus_address}"
            )
            return subscription
        due = now + subscription.poll_interval
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
                    again = await self._poll()
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
                self._due = time.monotonic() + (0.0 if again else self._interval())
        except Exception as exc:
            logger.exception("event poller of %s crashed", self.nexus_address)
            for sub in self._subs:
                sub.fail(exc)
        finally:
            self._task = None
            self._forget()

    def _forget(self) -> None:
        """The stream's position and the chain it saw, as a new poller has them."""
        self._cursor: int | None = None
        self._latest: int | None = None
        self._hashes: dict[int, str] = {}
        self._tie: int | None = None  # the last block covered, when logs named its hash
        self._suspects: dict[tuple[int, str], int] = {}
        # Top of the next range after an unproven answer: a node that answers [] or an
        # error for a range past its own head is asked for less until it has the block.
        self._ceiling: int | None = None
        self._due = 0.0

    def _see_head(self, latest: Header, read_at: float) -> None:
        """Note the head (and the block rate); resolve pending starts; set the cursor."""
        if self._latest is not None and read_at > self._head_at:
            blocks, seconds = self._rate
            moved = max(0, latest.number - self._latest)
            self._rate = (blocks / 2 + moved, seconds / 2 + read_at - self._head_at)
        self._latest, self._head_at = latest.number, read_at
        for sub in self._subs:
            if sub.start is None:
                sub.start = sub.next_block = latest.number + 1
        if self._cursor is None and self._subs:
            self._cursor = min([latest.number + 1, *(s.next_block for s in self._subs)])

    def _ahead(self, now: float) -> int:
        """Blocks to ask past the head: twice those the rate expects since it was read."""
        blocks, seconds = self._rate
        expected = blocks / seconds * (now - self._head_at) if seconds > 0 else 0.0
        return min(_HEADER_SPAN - 1, max(_AHEAD, math.ceil(2 * expected)))

    async def _poll(self) -> bool:
        """One poll. Returns True when another should follow at once (more is known)."""
        if self._latest is None or not self._speculate:
            # A fresh poller reads the head first (nothing else: its range needs it);
            # without speculation every poll does, so its range ends at a real head.
            self._see_head(await self._rpc.latest(), time.monotonic())
            if self._speculate:
                return False
        subs = [s for s in self._subs if s.start is not None]
        if not subs or self._cursor is None or self._latest is None:
            return False
        low = max(min(self._cursor, *(s.next_block for s in subs)), 0)
        # Blocks past the head are proven by their logs only when the same logs answer
        # holds the kept block below them (the tie); else by a header each.
        tied = self._speculate and self._tie == low - 1 and self._chunk > 1
        now = time.monotonic()
        ahead = self._ahead(now) if self._speculate else 0
        high = min((low - 1 if tied else low) + self._chunk - 1, max(low, self._latest + ahead))
        if self._ceiling is not None:
            high = max(low, min(high, self._ceiling))
        fetch = self._speculate or self._latest >= low
        answer = await self._rpc.poll(
            self._header_numbers(low, high, tied),
            (low - 1 if tied else low, high) if fetch else None,
            self.nexus_address,
            sorted({s.topic for s in subs}),
        )
        self._see_head(answer.latest, now)
        mismatch = first_replaced(self._hashes, [answer.latest, *answer.headers.values()])
        if mismatch is not None:
            await self._rewind(mismatch)
            return True
        if not fetch:
            return False
        return self._take(answer, subs, (low, high), tied)

    def _header_numbers(self, low: int, high: int, tied: bool) -> list[int]:
        """The range's blocks from 32 below the known head (replicas lag by a few blocks,
        not 32) up to the head if ``tied``, else to its top, and the kept blocks that tie
        it to the chain read before: the one below it and, if the head is behind it, the
        newest at or below the head."""
        known = self._latest if self._latest is not None else high
        top = min(high, known) if tied else high
        anchors = {low - 1, max((n for n in self._hashes if n <= known), default=-1)}
        below = sorted(n for n in anchors if n in self._hashes and n < low)
        return below + list(range(max(low, min(high, known) - _HEADER_SPAN + 1), top + 1))

    def _take(
        self, answer: Answer, subs: list[Subscription[Any]], span: tuple[int, int], tied: bool
    ) -> bool:
        low, high = span
        logs = answer.logs
        if isinstance(logs, Exception):
            if looks_like_range_error(logs) and self._chunk > 1:
                self._chunk = max(1, self._chunk // 2)
                logger.info("node refused the block range; chunk size now %d", self._chunk)
                return True
            if high > answer.latest.number and self._speculate:
                # A node that refuses ranges past its head: read the head first from now on.
                logger.info("eth_getLogs past the head failed (%s); head-first polls", logs)
                self._speculate = False
                return True
            if high > low:
                self._ceiling = low + (high - low) // 2
                logger.debug("eth_getLogs failed (%s); asking up to block %d", logs, self._ceiling)
                return False
            raise logs
        assert logs is not None
        tied = tied and block_hash(logs_at(logs, low - 1)) == self._hashes.get(low - 1)
        covered = self._covered(answer, logs, span, subs, tied)
        if covered < low:
            return False
        deliver(logs, subs, low, covered, answer.latest.number)
        self._record(answer, [log for log in logs if low <= position(log)[0]], covered, tied)
        # All asked for came, and the chain is known to go further: fetch the rest now.
        return covered == high and covered < answer.latest.number

    def _covered(
        self,
        answer: Answer,
        logs: list[Mapping[str, Any]],
        span: tuple[int, int],
        subs: list[Subscription[Any]],
        tied: bool,
    ) -> int:
        """The highest block this answer proves it covered from ``low`` (``low - 1``: none).

        A block whose header was asked is proven by it (and its logs bloom); any other by
        a later block of the answer: a header or, when ``tied``, logs naming their block
        hash (a node's logs index holds every block below its newest). The last block
        covered always has a hash from the answer, which the next poll ties itself to."""
        low, high = span
        headers = answer.headers
        found: dict[int, list[Mapping[str, Any]]] = {}
        for log in logs:
            found.setdefault(position(log)[0], []).append(log)
        hashed = {n for n, h in headers.items() if h is not None and low <= n <= high}
        if tied:
            hashed |= {n for n, got in found.items() if low <= n <= high and block_hash(got)}
        first = min((n for n in headers if n >= low), default=low)  # below: a deep catch-up
        bloom = BloomFilter.of(self.nexus_address.lower(), tuple(sorted({s.topic for s in subs})))
        for number in range(low, max(hashed, default=low - 1) + 1):
            got = found.get(number, [])
            header = headers.get(number)
            if number not in headers:
                if got and number > first and number not in hashed:
                    break  # past the head, logs that name no single block hash
                continue
            if header is None:  # a later block exists but this one did not come: another node
                break
            if any(log_block_hash(log) not in (None, header.hash) for log in got):
                break  # these logs are from another fork than the header
            if (
                not got
                and bloom.may_match(header.bloom)
                and not self._false_positive(header, answer.latest.number)
            ):
                self._ceiling = number  # ask no further until its logs come
                break
        else:
            return max(hashed, default=low - 1)
        return max((n for n in hashed if n < number), default=low - 1)

    def _false_positive(self, header: Header, head: int) -> bool:
        """Whether a bloom that matched with no log came back often and deep enough to
        be a false positive rather than a node whose logs lag its headers."""
        key = (header.number, header.hash)
        tries = self._suspects[key] = self._suspects.get(key, 0) + 1
        if tries >= _BLOOM_TRIES and head - header.number >= _BLOOM_DEPTH:
            logger.debug("block %d: logs bloom false positive", header.number)
            return True
        return False

    def _record(
        self, answer: Answer, logs: list[Mapping[str, Any]], covered: int, tied: bool
    ) -> None:
        """Keep the hashes of covered blocks (those the logs name if ``tied``); remember
        whether logs named the last one's; move the cursor past ``covered``."""
        named: list[tuple[int, str | None]] = [
            (h.number, h.hash) for h in (answer.latest, *answer.headers.values()) if h
        ]
        named += [(position(log)[0], log_block_hash(log)) for log in logs if tied]
        self._hashes.update((n, h) for n, h in named if h is not None and n <= covered)
        self._tie = covered if block_hash(logs_at(logs, covered)) else None
        if len(self._hashes) > KEPT_HASHES:
            for number in sorted(self._hashes)[: len(self._hashes) - KEPT_HASHES]:
                del self._hashes[number]
        self._suspects = {k: v for k, v in self._suspects.items() if k[0] > covered}
        if self._ceiling is not None and self._ceiling <= covered:
            self._ceiling = None
        assert self._cursor is not None
        self._cursor = max(self._cursor, covered + 1)
        oldest = min(self._hashes, default=covered + 1)
        for sub in self._subs:
            sub.forget_before(oldest)

    async def _rewind(self, mismatch: int) -> None:
        """Blocks from ``mismatch`` (at least) were replaced: find the last kept block still
        on the chain (one batch), drop what follows, re-deliver it. Removal notices go to
        every subscriber for the events it took from the dropped blocks."""
        below = sorted((n for n in self._hashes if n < mismatch), reverse=True)
        fork = mismatch
        if below:
            current = await self._rpc.headers(below)
            fork = below[-1]
            for number in below:
                header = current[number]
                if header is not None and header.hash == self._hashes[number]:
                    fork = number + 1
                    break
            else:
                logger.warning(
                    "chain rewound deeper than the %d blocks tracked; re-delivering from %d",
                    len(below),
                    fork,
                )
        for number in [n for n in self._hashes if n >= fork]:
            del self._hashes[number]
        self._tie = None
        self._suspects.clear()
        self._ceiling = None
        if self._cursor is not None:
            self._cursor = min(self._cursor, fork)
        removed = sum(sub.rewind(fork) for sub in self._subs)
        self._rewinds += 1
        self._removed += removed
        logger.warning(
            "chain rewound: blocks from %d replaced; %d delivered events removed, "
            "re-delivering from there",
            fork,
            removed,
        )


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], EventPoller]]
_POLLERS = weakref.WeakKeyDictionary()
