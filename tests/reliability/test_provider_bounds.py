"""The provider runtime's work per task is bounded: slow tasks cannot starve the others.

A real ``ProviderRuntime`` on the devnet (through the fault proxy, no faults), a real
source service, and tasks whose config URLs point at servers that drip their answer
one byte per half second (allowed by ``fetch_allow``: reaching them is not the point
here). The run slot count is 1, so any stage that held a run slot while fetching
would serialise everything behind the drips.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ogpu.ipfs import publish_to_ipfs
from ogpu.provider import ProviderRuntime, RuntimeEvent, RuntimeSettings
from ogpu.service.testing import serve_in_thread

from ..helpers.wait import free_port
from .conftest import Net
from .echo import echo_service, registered_source, service_config
from .hostile import HostileServer

pytestmark = pytest.mark.slow

Row = Callable[..., None]
FETCH_TIMEOUT = 6.0
CONFIG = b'{"function_name": "echo", "data": {"text": "dripped"}}'


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[float, RuntimeEvent]] = []
        self.cond = threading.Condition()

    def __call__(self, event: RuntimeEvent) -> None:
        with self.cond:
            self.items.append((time.monotonic(), event))
            self.cond.notify_all()

    def final(self, task: str, timeout: float) -> tuple[float, RuntimeEvent]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, event in self.items:
                    if event.task == task and event.kind in ("submitted", "failed", "skipped"):
                        return at, event
                left = deadline - time.monotonic()
                assert left > 0, [e.message for _, e in self.items if e.task == task]
                self.cond.wait(left)


@pytest.fixture
def drips() -> Iterator[list[HostileServer]]:
    servers = [HostileServer("drip-json", interval=0.5, payload=CONFIG).__enter__() for _ in (1, 2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.mark.parametrize("dripping", [2, 4])
def test_dripping_configs_do_not_delay_a_good_task(
    net: Net, drips: list[HostileServer], dripping: int, row: Row
) -> None:
    source = registered_source(net)
    service = echo_service()
    port = free_port()
    config = service_config(port)
    events = Events()
    with serve_in_thread(service, config) as running:
        running.wait_ready()
        settings = RuntimeSettings(
            service_url=running.base_url,
            callback_port=port,
            poll_interval=0.1,
            max_concurrent_tasks=1,
            max_concurrent_fetches=dripping + 1,
            fetch_timeout=FETCH_TIMEOUT,
            fetch_allow=tuple(f"http://127.0.0.1:{d.port}" for d in drips),
        )
        runtime = ProviderRuntime(
            net.provider.account, settings, sources=[source.address], on_event=events
        )
        with runtime:
            slow = [
                net.task(source, config=f"{drips[i % 2].url}/ipfs/x{i}").address
                for i in range(dripping)
            ]
            good_url = publish_to_ipfs({"function_name": "echo", "data": {"text": "fast"}})
            started = time.monotonic()
            good = net.task(source, config=good_url).address
            done_at, done = events.final(good, timeout=FETCH_TIMEOUT + 20)
            slow_ends = [events.final(task, timeout=FETCH_TIMEOUT + 20) for task in slow]
    assert done.kind == "submitted", done.message
    took = done_at - started
    assert took < FETCH_TIMEOUT, took
    assert all(event.kind == "failed" for _, event in slow_ends)
    assert all(at > done_at for at, _ in slow_ends)  # the good task did not wait for them
    assert all(event.elapsed <= FETCH_TIMEOUT + 1 for _, event in slow_ends)
    row(
        area="provider bounds",
        case=f"{dripping} dripping task configs + 1 good task, 1 run slot",
        injected=f"{dripping} config URLs dripping one byte per 0.5s; fetch_timeout "
        f"{FETCH_TIMEOUT:g}s",
        outcome=f"the good task submitted within {FETCH_TIMEOUT:g}s, before the slow ones "
        f"failed (each within {FETCH_TIMEOUT + 1:g}s of being seen)",
    )
