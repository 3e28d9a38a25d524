"""Helpers of the watcher reliability tests: a chain driver, a ledger, a consumed watch.

``Chain`` writes straight to the in-process devnet (one event = one block) and reads
its logs; ``Watch`` consumes one ``watch_task_published`` into a ``Ledger`` (yielded
events in, ``on_removed`` notices out); ``through`` points the SDK at a ``ReplicaProxy``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from ogpu.chain import ChainConfig, ChainId, NonceManager, Web3Manager
from ogpu.devnet import CLIENTS, load_artifact
from ogpu.devnet.chain import Devnet
from ogpu.events import TaskPublishedEvent, watch_task_published

from ..helpers.streams import FAST, shared_poller, until
from .chainview import ReplicaProxy

STEP = 60.0
Key = tuple[int, int, str]


class Chain:
    """Writes straight to the in-process chain (one event = one block), reads its logs."""

    def __init__(self, devnet: Devnet) -> None:
        self.devnet = devnet
        w3 = devnet.w3
        d = devnet.deployment
        self.w3 = w3
        self.nexus = w3.eth.contract(d.nexus, abi=load_artifact("Nexus").abi)
        self.controller = w3.eth.contract(d.controller, abi=load_artifact("Controller").abi)
        self.vault = w3.eth.contract(d.vault, abi=load_artifact("Vault").abi)
        self.client = CLIENTS[0].address
        self.lock = devnet.lock  # eth-tester is not thread-safe: the server takes it too

    def _send(self, call: Any, value: int = 0) -> Any:
        with self.lock:
            tx = call.transact({"from": self.client, "value": value})
            receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        assert receipt["status"] == 1
        return receipt

    def source(self) -> str:
        params = (self.client, "https://e.invalid/m.json", 1, 1000, 0, 3600, False, "", 0, 0)
        receipt = self._send(self.nexus.functions.publishSource(params))
        (event,) = self.nexus.events.SourcePublished().process_receipt(receipt, errors=DISCARD)
        self._send(self.vault.functions.deposit(self.client), value=10**18)
        return str(event["args"]["source"])

    def publish(self, source: str) -> int:
        """One TaskPublished in a block of its own; returns the block number."""
        expiry = self.devnet.timestamp() + 3600
        call = self.controller.functions.publishTask((source, "https://c.invalid", expiry, 10**3))
        return int(self._send(call)["blockNumber"])

    def mine(self, n: int) -> None:
        if n > 0:
            with self.lock:
                self.devnet.mine(n)

    def head(self) -> int:
        return self.devnet.block_number()

    def events(self, source: str, start: int) -> list[Key]:
        with self.lock:
            logs = self.nexus.events.TaskPublished().get_logs(from_block=start, to_block="latest")
        return [
            (e["blockNumber"], e["logIndex"], Web3.to_hex(e["transactionHash"]))
            for e in logs
            if e["args"]["source"] == source
        ]


@dataclass
class Ledger:
    """What a watcher told its caller: events live now, repeats, bad removals."""

    live: list[Key] = field(default_factory=list)
    yielded: int = 0
    removed: int = 0
    repeats: int = 0
    unknown_removals: int = 0
    heads_at_yield: list[tuple[int, int]] = field(default_factory=list)

    def add(self, event: TaskPublishedEvent, head: int) -> None:
        key = (event.block_number, event.log_index, event.transaction_hash)
        self.yielded += 1
        self.heads_at_yield.append((event.block_number, head))
        if key in self.live:
            self.repeats += 1
        else:
            self.live.append(key)

    def remove(self, event: TaskPublishedEvent) -> None:
        key = (event.block_number, event.log_index, event.transaction_hash)
        self.removed += 1
        if key in self.live:
            self.live.remove(key)
        else:
            self.unknown_removals += 1


@contextmanager
def through(devnet: Devnet, proxy: ReplicaProxy) -> Iterator[None]:
    NonceManager.clear_all()
    ChainConfig.use_devnet(devnet.deployment, rpc=proxy.start().url)
    try:
        yield
    finally:
        proxy.stop()
        Web3Manager.set_web3_instance(ChainId.OGPU_DEVNET, None)
        ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)


class Watch:
    """One ``watch_task_published`` consumed into a ledger, in the running loop."""

    def __init__(self, chain: Chain, source: str, **kwargs: Any) -> None:
        self.ledger = Ledger()
        self.chain = chain
        self.stream = watch_task_published(
            source, poll_interval=FAST, on_removed=self.ledger.remove, **kwargs
        )
        self.task = asyncio.ensure_future(self._consume())

    async def _consume(self) -> None:
        async for event in self.stream:
            self.ledger.add(event, self.chain.head())

    async def settle(self, expected: Callable[[], list[Key]], timeout: float = STEP) -> None:
        """Wait until the ledger equals the chain's events (fails the test after ``timeout``)."""
        try:
            await until(lambda: sorted(self.ledger.live) == expected(), timeout)
        except asyncio.TimeoutError:
            poller = shared_poller()
            state = {"cursor": poller.cursor, "polls": poller.poll_count}
            raise AssertionError(
                f"ledger {self.ledger} != chain {expected()} (head {self.chain.head()}, "
                f"poller {state})"
            ) from None

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.stream.aclose()  # type: ignore[attr-defined]


async def publish_many(chain: Chain, source: str, count: int, gap: int = 0) -> list[int]:
    blocks = []
    for _ in range(count):
        blocks.append(await asyncio.to_thread(chain.publish, source))
        await asyncio.to_thread(chain.mine, gap)
    return blocks


def counts(ledger: Ledger, expected: list[Key]) -> str:
    lost = len(set(expected) - set(ledger.live))
    return (
        f"{len(expected)} events: {lost} lost, {ledger.repeats} repeated, "
        f"{ledger.removed} removal notices"
    )
