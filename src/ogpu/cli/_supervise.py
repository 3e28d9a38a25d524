"""Follow the node under a long-running command: say when it is lost, back, or reset.

:class:`ChainWatch` reads the head (one ``eth_getBlockByNumber("latest")`` per
interval) on a daemon thread. It reports, once each: the node stopped answering;
it answers again; its chain went back below what was seen (a devnet restarted
without its state, or any node replaced by a fresh chain), which it also flags
for the command to act on (:meth:`ChainWatch.take_reset`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ogpu.cli._errors import connection_failure, where

__all__ = ["ChainWatch"]

_WHAT = {
    "refused": "connection refused",
    "dns": "host not found",
    "timeout": "no answer",
    "tls": "TLS failed",
    "dropped": "connection dropped",
}


def _head(w3: Any, tag: str | int) -> tuple[int, str] | None:
    from ogpu.chain import rpc

    block = rpc.request(
        w3, "eth_getBlockByNumber", [tag if isinstance(tag, str) else hex(tag), False]
    )
    if not isinstance(block, dict):
        return None
    return rpc.to_int(block["number"]), str(block["hash"])


class ChainWatch:
    """Watch the active chain's node from a daemon thread (see the module doc).

    ``say(text)`` gets each report; ``interval``: seconds between reads.
    """

    def __init__(self, url: str, say: Callable[[str], None], interval: float = 1.0) -> None:
        self.url = url
        self._say = say
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._reset: int | None = None
        self._last: tuple[int, str] | None = None
        self._down = False
        from ogpu.chain.context import carry

        self._thread = threading.Thread(
            target=carry(self._run), name="ogpu-chain-watch", daemon=True
        )

    def start(self) -> ChainWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (returns at once; the thread is a daemon)."""
        self._stop.set()

    def take_reset(self) -> int | None:
        """The head of a reset chain, once (None when no reset happened since the last call)."""
        with self._lock:
            head, self._reset = self._reset, None
            return head

    def _run(self) -> None:
        from ogpu.chain import Web3Manager

        while not self._stop.wait(0 if self._last is None else self._interval):
            try:
                w3 = Web3Manager.get_web3_instance()
                head = _head(w3, "latest")
                if head is None:
                    continue
                self._seen(w3, head)
            except Exception as exc:  # any failure to read the head means "lost"
                if not self._down:
                    self._down = True
                    kind = _WHAT.get(connection_failure(exc) or "", type(exc).__name__)
                    self._say(
                        f"lost the chain at {where(self.url)} ({kind}); waiting for it "
                        f"(checking every {self._interval:g} s)"
                    )

    def _seen(self, w3: Any, head: tuple[int, str]) -> None:
        last, was_down = self._last, self._down
        self._down = False
        if last is not None and (head[0] < last[0] or (was_down and _moved(w3, last))):
            self._last = head
            with self._lock:
                self._reset = head[0]
            self._say(
                f"the chain at {where(self.url)} was reset (now block {head[0]}, "
                f"was {last[0]}): watching again from block {head[0]}"
            )
            return
        self._last = head
        if was_down:
            self._say(f"the chain at {where(self.url)} is back at block {head[0]}")


def _moved(w3: Any, last: tuple[int, str]) -> bool:
    """Whether the block seen last is no longer on the chain (one request)."""
    again = _head(w3, last[0])
    return again is None or again[1] != last[1]
