"""Several processes, one key: every process has its own nonce cache.

How the SDK recovers (also in docs/RELIABILITY.md):

- The executor reads ``eth_getTransactionCount(pending)`` on an account's first
  use and counts locally afterwards. Another process using the key makes that
  count stale: the node answers "nonce too low", the executor checks its own
  hash is unknown, re-reads the nonce and signs again, up to ``max_retries``
  times. Nothing lands twice, because a rejected transaction never lands.
- If collisions outlast the retries, ``NonceError`` is raised; nothing landed.
  Call ``ogpu.chain.fix_nonce()`` (one RPC: re-reads the pending nonce) and
  send again.
- A process that knows another one used the key calls ``fix_nonce()`` before
  sending and avoids the rejected round trip altogether.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ogpu.chain import fix_nonce, get_nonce_info
from ogpu.client import publish_task
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import StoreServer
from ogpu.protocol import Source, vault

from ..helpers.proxy import FaultProxy
from ..helpers.world import ETHER
from .conftest import Net, kept_state, sdk_on

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("nonce_worker.py")
RAW = "eth_sendRawTransaction"
PROCESSES = 3
TASKS_EACH = 2
PAYMENT = 10**15


@pytest.fixture(scope="module")
def source_address(
    devnet_session: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[str]:
    with kept_state(devnet_session), sdk_on(devnet_session, proxy, upstream, store) as world:
        world.fund(world.client, 10 * ETHER)
        yield world.source().address


def _spawn(net: Net, tmp_path: Path, name: str, source: str, count: int, wait: bool) -> Any:
    deployment = net.devnet.deployment
    config = {
        "name": name,
        "rpc": net.rpc.url,
        "deployment": {
            "nexus": deployment.nexus,
            "controller": deployment.controller,
            "terminal": deployment.terminal,
            "vault": deployment.vault,
        },
        "source": source,
        "count": count,
        "expiry": net.now() + 1800,
        "payment": PAYMENT,
        "wait": wait,
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    env = {
        **os.environ,
        "CLIENT_PRIVATE_KEY": net.client.key_hex,
        "OGPU_IPFS_BACKEND": "devnet",
        "OGPU_IPFS_API_URL": net.store_url,
    }
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _line(process: Any) -> dict[str, Any]:
    text = process.stdout.readline()
    if not text:
        raise AssertionError(f"worker died: {process.stderr.read()[-2000:]}")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_processes_sharing_a_key_collide_and_recover(
    net: Net, source_address: str, tmp_path: Path, row: Any
) -> None:
    start = net.nonce(net.client)
    workers = [
        _spawn(net, tmp_path, f"w{i}", source_address, TASKS_EACH, wait=True)
        for i in range(PROCESSES)
    ]
    try:
        ready = [_line(w) for w in workers]
        # every process cached the same next nonce: their first broadcasts collide
        assert {r["nonce"] for r in ready} == {start}
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [_line(w) for w in workers]
        for worker in workers:
            assert worker.wait(timeout=120) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()

    published = [task for result in results for task in result["tasks"]]
    total = PROCESSES * TASKS_EACH
    on_chain = net.published_tasks(source_address)
    assert len(published) == total
    assert sorted(on_chain) == sorted(published)  # each task once, none lost
    assert Source(source_address).get_task_count() == total
    assert net.nonce(net.client) == start + total  # no transaction wasted or duplicated
    sent = net.rpc.count(RAW)
    rejected = sent - total
    assert rejected >= PROCESSES - 1  # the collisions really happened
    nonce_errors = sum(r["nonce_errors"] for r in results)
    row(
        area="concurrency",
        case=f"{PROCESSES}-processes-one-key",
        injected=f"{PROCESSES} processes, one CLIENT_PRIVATE_KEY, each caching the same "
        f"next nonce, publish {TASKS_EACH} tasks each at once",
        outcome=f"{total} tasks, each once; the nonce collisions (at least {PROCESSES - 1} "
        "rejected broadcasts) are recovered by the executor's resync, and by fix_nonce "
        "after a NonceError when they outlast max_retries",
    )
    print(f"measured: {sent} broadcasts for {total} tasks, {nonce_errors} NonceError(s)")


def test_fix_nonce_after_another_process_used_the_key(
    net: Net, source_address: str, tmp_path: Path, row: Any
) -> None:
    vault.deposit(net.client.address, 1, signer=net.client.account)  # caches the nonce
    worker = _spawn(net, tmp_path, "other", source_address, 2, wait=False)
    _line(worker)
    outside = _line(worker)
    assert worker.wait(timeout=120) == 0
    worker.communicate()
    assert len(outside["tasks"]) == 2

    info = get_nonce_info(address=net.client.address)
    assert info["cached_nonce"] == info["mined_nonce"] - 2  # stale by the other's 2 txs
    assert fix_nonce(address=net.client.address) == info["pending_nonce"]
    net.rpc.clear()
    task = publish_task(
        net.task_info(source_address, data={"after": "fix_nonce"}, payment=PAYMENT),
        signer=net.client.account,
    )
    assert net.rpc.count(RAW) == 1  # no collision after fix_nonce
    assert task.address in net.published_tasks(source_address)
    row(
        area="concurrency",
        case="fix-nonce-after-outside-use",
        injected="another process sent 2 transactions with the key; this process's "
        "cache is 2 behind",
        outcome="fix_nonce() re-reads the pending nonce (1 RPC); the next publish_task "
        "sends exactly 1 broadcast",
    )


def test_stale_cache_without_fix_nonce_costs_one_rejected_broadcast(
    net: Net, source_address: str, tmp_path: Path, row: Any
) -> None:
    vault.deposit(net.client.address, 1, signer=net.client.account)
    worker = _spawn(net, tmp_path, "other", source_address, 1, wait=False)
    _line(worker)
    _line(worker)
    assert worker.wait(timeout=120) == 0
    worker.communicate()
    before = net.nonce(net.client)
    net.rpc.clear()

    publish_task(
        net.task_info(source_address, data={"after": "stale"}, payment=PAYMENT),
        signer=net.client.account,
    )

    assert net.rpc.count(RAW) == 2  # the stale nonce is refused, the resync lands
    assert net.rpc.count("eth_getTransactionCount") == 1
    assert net.nonce(net.client) == before + 1
    row(
        area="concurrency",
        case="stale-cache-auto-resync",
        injected="another process sent 1 transaction with the key; no fix_nonce",
        outcome="'nonce too low' then one resync (eth_getTransactionCount) and the "
        "re-signed transaction lands once: 2 broadcasts, 1 task",
    )
