"""Logs and headers from nodes on different forks (a load balancer that sends each
method to another backend, during a reorganisation): the poller delivers nothing from
the logs node's fork that the headers node does not confirm.

The node is a scripted JSON-RPC server on loopback (``ScriptedServer``): headers come
from chain C, logs from chain C or from chain F, which forked from C below the last
block the watcher covered. Both chains hold a task at block 10 (different hashes);
F has one at 12, C one at 13.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ogpu_bindings.events import nexus
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from ogpu.events import EventPoller, PollerSettings
from ogpu.events._subscription import Subscription

from ..reliability.scripted import ScriptedServer, rpc_node

NEXUS = "0x" + "12" * 20
SOURCE = "0x" + "34" * 20
EVENTS = {"C": {10: 0xC10, 13: 0xC13}, "F": {10: 0xF10, 12: 0xF12}}
FORK = 9  # the first block where F differs from C


def _hash(chain: str, number: int) -> str:
    tag = "f0" if chain == "F" and number >= FORK else "c0"
    return "0x" + tag + f"{number:062x}"


class Nodes:
    """Headers from chain C up to ``head``; logs from ``self.logs`` ("C" or "F")."""

    def __init__(self) -> None:
        self.head = 10
        self.logs = "C"

    def result(self, method: str, params: list[Any]) -> Any:
        if method == "eth_getBlockByNumber":
            number = self.head if params[0] == "latest" else int(params[0], 16)
            if number > self.head:
                return None
            bloom = "ff" if number in EVENTS["C"] else "00"
            return {
                "number": hex(number),
                "hash": _hash("C", number),
                "parentHash": _hash("C", number - 1),
                "logsBloom": "0x" + bloom * 256,
                "timestamp": hex(1_700_000_000 + number),
            }
        assert method == "eth_getLogs", method
        low, high = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        chain = self.logs
        return [
            {
                "address": NEXUS,
                "topics": [nexus.TASK_PUBLISHED_TOPIC],
                "data": "0x" + f"{task:064x}" + "0" * 24 + SOURCE[2:],
                "blockNumber": hex(number),
                "logIndex": "0x0",
                "transactionHash": "0x" + f"{task:064x}",
                "blockHash": _hash(chain, number),
            }
            for number, task in sorted(EVENTS[chain].items())
            if low <= number <= min(high, self.head)
        ]


@pytest.mark.slow
def test_logs_of_another_fork_are_not_delivered() -> None:
    nodes = Nodes()

    async def main(url: str) -> list[tuple[bool, int]]:
        settings = PollerSettings(backoff_initial=0.05, backoff_max=0.1)
        poller = EventPoller(Web3(HTTPProvider(url)), NEXUS, settings)
        sub: Subscription[int] = Subscription(
            topic=nexus.TASK_PUBLISHED_TOPIC,
            decode=nexus.decode_task_published,
            accept=lambda event: int(event.task, 16),
            start=10,
            poll_interval=0.02,
            next_block=10,
        )
        seen: list[tuple[bool, int]] = []

        async def consume() -> None:  # takes each item at once, as a watcher does
            while True:
                seen.append(await sub.next())

        async def polls(count: int) -> None:
            target = poller.poll_count + count
            while poller.poll_count < target:
                await asyncio.sleep(0.02)

        poller.subscribe(sub)
        consumer = asyncio.ensure_future(consume())
        try:
            await asyncio.wait_for(polls(5), 30)
            nodes.head, nodes.logs = 13, "F"
            await asyncio.wait_for(polls(20), 30)  # F's task at 12 must not come
            nodes.logs = "C"
            await asyncio.wait_for(polls(20), 30)
        finally:
            consumer.cancel()
            poller.unsubscribe(sub)
        return seen

    with ScriptedServer(rpc_node(nodes.result)) as server:
        seen = asyncio.run(main(server.url))
    # C's tasks, each once; nothing of F's, no removal notice.
    assert seen == [(False, 0xC10), (False, 0xC13)]
