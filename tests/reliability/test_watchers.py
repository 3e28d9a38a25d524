"""Watchers never lose or repeat an event: lagging replicas, rewound chains, confirmations.

The chain is the session devnet (eth-tester) behind its JSON-RPC server; the SDK reads
it through ``ReplicaProxy`` (``chainview.py``), a loopback proxy that answers as a
replica some blocks behind, per HTTP request or for ``eth_getLogs`` alone. A rewind is
real: the chain is reverted to a snapshot (its later blocks dropped) and different
events are mined in their place, as a node restarted from older saved state does.

Each watcher's output is kept as a ledger: a yielded event joins it (a repeat if it is
there already), a removal notice (``on_removed``) takes it out (an error if it is not
there). At the end the ledger must equal the events the chain holds, read directly.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from ogpu.chain import ChainConfig
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.ipfs import publish_to_ipfs
from ogpu.provider import ProviderRuntime, RuntimeEvent, RuntimeSettings
from ogpu.service.testing import serve_in_thread

from ..helpers.streams import joined
from ..helpers.wait import free_port
from .chainview import ReplicaProxy
from .conftest import Net
from .echo import echo_service, registered_source, service_config
from .watching import (
    FAST,
    STEP,
    Chain,
    Ledger,
    Watch,
    counts,
    publish_many,
    through,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fast_backoff")]

Row = Callable[..., None]


# -- lagging replicas --------------------------------------------------------------------------

LAGS = [
    ("every request 1 block behind, logs past its head clamped", (1,), "clamp", False),
    ("every request 2 blocks behind, logs past its head clamped", (2,), "clamp", False),
    ("every request 5 blocks behind, logs past its head clamped", (5,), "clamp", False),
    ("eth_getLogs 1 block behind the head and headers", (1,), "clamp", True),
    ("eth_getLogs 2 blocks behind the head and headers", (2,), "clamp", True),
    ("eth_getLogs 5 blocks behind the head and headers", (5,), "clamp", True),
    ("eth_getLogs 1 block behind, [] for a range past its head", (1,), "empty", True),
    ("eth_getLogs 5 blocks behind, [] for a range past its head", (5,), "empty", True),
    ("replicas alternate: 0 and 1 block behind", (0, 1), "clamp", False),
    ("replicas alternate: 0 and 5 blocks behind, [] past the head", (0, 5), "empty", False),
    ("replicas alternate: 0 and 3 blocks behind, logs only", (0, 3), "clamp", True),
    ("replicas rotate: 0, 2 and 5 blocks behind, errors past the head", (0, 2, 5), "error", False),
    ("eth_getLogs 2 blocks behind, an error for a range past its head", (2,), "error", True),
]
EVENTS = 12
# from_block=None on the cases where the first poll's head comes from a lagging node.
NONE_STARTS = {LAGS[i][0] for i in (0, 2, 4, 7, 9, 11)}


@pytest.mark.parametrize(
    ("case", "lags", "beyond", "logs_only", "start"),
    [(*c, "explicit") for c in LAGS] + [(*c, "none") for c in LAGS if c[0] in NONE_STARTS],
    ids=[f"explicit-{c[0]}" for c in LAGS] + [f"none-{c[0]}" for c in LAGS if c[0] in NONE_STARTS],
)
def test_lagging_replicas_lose_and_repeat_nothing(
    devnet: Devnet,
    upstream: RpcServer,
    row: Row,
    case: str,
    lags: tuple[int, ...],
    beyond: str,
    logs_only: bool,
    start: str,
) -> None:
    chain = Chain(devnet)
    source = chain.source()
    first = chain.head() + 1
    proxy = ReplicaProxy(upstream.url, lags, beyond=beyond, logs_only=logs_only)

    async def main() -> Ledger:
        kwargs = {"from_block": first} if start == "explicit" else {}
        watch = Watch(chain, source, **kwargs)
        await joined(1)
        begin = first if start == "explicit" else chain.head() + 1
        await publish_many(chain, source, EVENTS, gap=0)
        # The replicas catch up only as the chain moves on.
        await asyncio.to_thread(chain.mine, max(lags) + 1)
        await watch.settle(lambda: chain.events(source, begin))
        await asyncio.sleep(10 * FAST)  # nothing more may come
        await watch.close()
        assert len(watch.ledger.live) == EVENTS
        return watch.ledger

    with through(devnet, proxy):
        ledger = asyncio.run(main())
    assert ledger.repeats == ledger.removed == ledger.unknown_removals == 0
    row(
        area="watchers",
        case=f"lagging replica, from_block {'explicit' if start == 'explicit' else 'None'}",
        injected=case,
        outcome=counts(ledger, ledger.live),
    )


# -- rewinds -----------------------------------------------------------------------------------

REWINDS = [
    (1, 1, 2, 0),
    (5, 3, 4, 0),
    (5, 5, 1, 0),
    (20, 4, 6, 0),
    (64, 8, 5, 0),
    (64, 8, 12, 0),
    (5, 3, 4, 2),
]


@pytest.mark.parametrize(("depth", "before", "after", "lag"), REWINDS)
def test_rewound_chain_removes_and_redelivers(
    devnet: Devnet,
    upstream: RpcServer,
    row: Row,
    depth: int,
    before: int,
    after: int,
    lag: int,
) -> None:
    """``before`` events in the last ``depth`` blocks are dropped; ``after`` others replace them."""
    chain = Chain(devnet)
    source = chain.source()
    first = chain.head() + 1
    lags = (0, lag) if lag else (0,)
    proxy = ReplicaProxy(upstream.url, lags)

    async def main() -> tuple[Ledger, int]:
        watch = Watch(chain, source, from_block=first)
        await publish_many(chain, source, 3)  # events that survive the rewind
        snapshot = chain.devnet.snapshot()
        fork = chain.head() + 1
        gap = (depth - before) // before
        await publish_many(chain, source, before, gap=gap)
        await asyncio.to_thread(chain.mine, depth - (chain.head() - fork + 1))
        assert chain.head() - fork + 1 == depth
        await asyncio.to_thread(chain.mine, lag)
        await watch.settle(lambda: chain.events(source, first))
        dropped = len(chain.events(source, fork))
        assert dropped == before == watch.ledger.yielded - 3

        chain.devnet.revert(snapshot)
        await publish_many(chain, source, after)
        await asyncio.to_thread(chain.mine, lag + 1)
        await watch.settle(lambda: chain.events(source, first))
        await asyncio.sleep(10 * FAST)
        await watch.close()
        return watch.ledger, dropped

    with through(devnet, proxy):
        ledger, dropped = asyncio.run(main())
    expected = chain.events(source, first)
    assert ledger.live == expected
    assert ledger.removed == dropped
    assert ledger.repeats == ledger.unknown_removals == 0
    row(
        area="watchers",
        case=f"chain rewound {depth} blocks" + (f", replicas 0 and {lag} behind" if lag else ""),
        injected=f"revert to a snapshot: {before} delivered events dropped, {after} different "
        "ones mined in their place",
        outcome=f"{ledger.removed} removal notices (on_removed), {after} new events delivered; "
        + counts(ledger, expected),
    )


# -- confirmations -----------------------------------------------------------------------------


@pytest.mark.parametrize("confirmations", [0, 1, 3])
def test_confirmations_deliver_deep_enough_blocks_only(
    devnet: Devnet, upstream: RpcServer, row: Row, confirmations: int
) -> None:
    chain = Chain(devnet)
    source = chain.source()
    first = chain.head() + 1
    proxy = ReplicaProxy(upstream.url, (0, 1))

    async def main() -> Ledger:
        watch = Watch(chain, source, from_block=first, confirmations=confirmations)
        await publish_many(chain, source, 4)
        snapshot = chain.devnet.snapshot()
        await publish_many(chain, source, 1)  # the newest block: a 1-block rewind drops it
        await asyncio.sleep(20 * FAST)
        chain.devnet.revert(snapshot)
        await publish_many(chain, source, 2)
        await asyncio.to_thread(chain.mine, confirmations + 1)
        await watch.settle(lambda: chain.events(source, first))
        await asyncio.sleep(10 * FAST)
        await watch.close()
        return watch.ledger

    with through(devnet, proxy):
        ledger = asyncio.run(main())
    assert ledger.repeats == ledger.unknown_removals == 0
    assert all(head - block >= confirmations for block, head in ledger.heads_at_yield)
    if confirmations >= 1:
        assert ledger.removed == 0, "a block under the confirmation depth was delivered"
    row(
        area="watchers",
        case=f"confirmations={confirmations}",
        injected="replicas 0 and 1 block behind; the newest block rewound once",
        outcome=f"every event yielded >= {confirmations} blocks below the head; "
        + counts(ledger, ledger.live),
    )


def test_from_block_none_yields_only_new_events(
    devnet: Devnet, upstream: RpcServer, row: Row
) -> None:
    chain = Chain(devnet)
    source = chain.source()
    own = chain.publish(source)  # publish, then watch: the head block holds our own task
    assert chain.head() == own
    proxy = ReplicaProxy(upstream.url, (0, 1))

    async def main() -> Ledger:
        watch = Watch(chain, source)
        await joined(1)
        await publish_many(chain, source, 3)
        await asyncio.to_thread(chain.mine, 2)
        await watch.settle(lambda: chain.events(source, own + 1))
        await asyncio.sleep(10 * FAST)
        await watch.close()
        return watch.ledger

    with through(devnet, proxy):
        ledger = asyncio.run(main())
    assert all(block > own for block, _, _ in ledger.live)
    assert ledger.repeats == ledger.removed == 0
    row(
        area="watchers",
        case="publish, then watch with from_block=None",
        injected="the head block holds the caller's own task; replicas 0 and 1 behind",
        outcome=f"own task not yielded; {len(ledger.live)} later events, each once",
    )


# -- the provider runtime ----------------------------------------------------------------------


def test_provider_runtime_serves_every_task_once_through_lagging_replicas(
    net: Net, row: Row
) -> None:
    """A real ``ProviderRuntime`` (and service) reading the chain through replicas 0 and 2
    blocks behind: every task published after it started is seen and served exactly once."""
    source = registered_source(net)
    service = echo_service()
    replica = ReplicaProxy(net.rpc.url, (0, 2)).start()
    ChainConfig.use_devnet(net.devnet.deployment, rpc=replica.url)
    port = free_port()
    config = service_config(port)
    seen: list[RuntimeEvent] = []
    done = threading.Event()
    count = 5

    def on_event(event: RuntimeEvent) -> None:
        seen.append(event)
        if sum(1 for e in seen if e.kind == "submitted") >= count:
            done.set()

    try:
        with serve_in_thread(service, config) as running:
            running.wait_ready()
            settings = RuntimeSettings(
                service_url=running.base_url, callback_port=port, poll_interval=FAST
            )
            runtime = ProviderRuntime(
                net.provider.account, settings, sources=[source.address], on_event=on_event
            )
            with runtime:
                url = publish_to_ipfs({"function_name": "echo", "data": {"text": "lag"}})
                tasks = [net.task(source, config=url).address for _ in range(count)]
                net.devnet.mine(3)  # the lagging replica reaches the last task's block
                assert done.wait(STEP), [(e.kind, e.message) for e in seen]
                stats = runtime.stats()
    finally:
        replica.stop()
    per_task = {
        t.lower(): [e.kind for e in seen if (e.task or "").lower() == t.lower()] for t in tasks
    }
    assert all(
        kinds.count("task") == 1 and kinds.count("submitted") == 1 for kinds in per_task.values()
    ), per_task
    assert stats["seen"] == count
    row(
        area="watchers",
        case="provider runtime (watch_task_published inside)",
        injected="replicas 0 and 2 blocks behind, alternating; a real service",
        outcome=f"{count} tasks: each seen once and submitted once; 0 lost",
    )
