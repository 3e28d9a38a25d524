"""One watcher's interest in the shared poller, and its delivery queue.

The queue holds events in chain order and, after a rewind (a reorganisation, or a
node that came back on another fork), removal notices for events the watcher already
took that are no longer on the chain. Events queued but not yet taken are dropped
silently on a rewind: the watcher never saw them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ogpu.events._rpc import position, topic0

E = TypeVar("E")

logger = logging.getLogger("ogpu.events")

Position = tuple[int, int]
"""(block number, log index)."""

_AFTER_ALL_LOGS = 2**62


class _Failed:
    """Queued when the poller itself crashed (a bug, not an RPC failure)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@dataclass(eq=False)
class Subscription(Generic[E]):
    """A watcher: an event topic, a decoder/filter, a confirmation depth and a queue.

    ``start`` is the first block (``None`` until the poller resolves it to the block
    after a head it read); ``next_block`` the first block not yet delivered.
    """

    topic: str
    decode: Callable[[Any], Any]
    accept: Callable[[Any], E | None]
    start: int | None
    poll_interval: float
    confirmations: int = 0
    next_block: int = 0
    last_position: Position = (-1, -1)
    _pending: deque[tuple[bool, Position, E] | _Failed] = field(default_factory=deque)
    _taken: deque[tuple[Position, E]] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, position: Position, event: E) -> None:
        """Queue ``event`` found at ``position``. No I/O."""
        self.last_position = position
        self._pending.append((False, position, event))
        self._ready.set()

    def fail(self, error: BaseException) -> None:
        self._pending.append(_Failed(error))
        self._ready.set()

    async def next(self) -> tuple[bool, E]:
        """(removed, event): the next event, or a removal notice for one taken before.

        Waits. Re-raises a poller crash.
        """
        while not self._pending:
            self._ready.clear()
            await self._ready.wait()
        item = self._pending.popleft()
        if isinstance(item, _Failed):
            raise item.error
        removed, position, event = item
        if not removed:
            self._taken.append((position, event))
        return removed, event

    def rewind(self, block: int) -> int:
        """Blocks from ``block`` on are no longer on the chain: drop their queued events,
        queue removal notices for the ones already taken (newest first), and deliver
        from ``block`` again. Returns the number of notices queued. No I/O."""
        kept = deque(
            item
            for item in self._pending
            if isinstance(item, _Failed) or item[0] or item[1][0] < block
        )
        self._pending = kept
        removed = 0
        while self._taken and self._taken[-1][0][0] >= block:
            position, event = self._taken.pop()
            self._pending.append((True, position, event))
            removed += 1
        if removed:
            self._ready.set()
        if self.start is not None:
            self.next_block = max(self.start, min(self.next_block, block))
        self.last_position = min(self.last_position, (block - 1, _AFTER_ALL_LOGS))
        return removed

    def forget_before(self, block: int) -> None:
        """Stop tracking taken events below ``block`` (a rewind cannot reach them)."""
        while self._taken and self._taken[0][0][0] < block:
            self._taken.popleft()


def deliver(
    logs: list[Mapping[str, Any]],
    subs: list[Subscription[Any]],
    low: int,
    covered: int,
    head: int,
) -> None:
    """Queue to each subscription the events of ``logs`` in blocks ``low``..``covered``
    that it has not had, at least its confirmations below ``head``. No I/O."""
    usable = []
    for log in logs:
        if log.get("removed"):
            continue
        where = position(log)
        if low <= where[0] <= covered:
            usable.append((where, log))
    usable.sort(key=lambda item: item[0])
    limits = {id(s): min(covered, head - s.confirmations) for s in subs}
    for where, log in usable:
        topic = topic0(log)
        decoded: dict[int, Any] = {}
        for sub in subs:
            if sub.topic != topic or not sub.next_block <= where[0] <= limits[id(sub)]:
                continue
            if where <= sub.last_position:
                continue
            key = id(sub.decode)
            if key not in decoded:
                try:
                    decoded[key] = sub.decode(log)
                except Exception as exc:
                    logger.warning("skipping undecodable log at %s: %s", where, exc)
                    decoded[key] = None
            raw = decoded[key]
            event = None if raw is None else sub.accept(raw)
            if event is None:
                sub.last_position = where
            else:
                sub.put(where, event)
    for sub in subs:
        sub.next_block = max(sub.next_block, limits[id(sub)] + 1)
