"""Write-path fault scenarios shared by the reliability tests (test support).

A ``Scenario`` installs ``FaultProxy`` rules (``Step`` s); ``publish_one`` runs
``publish_task`` under it and ``publish_batch`` runs ``publish_tasks`` (``BATCH`` tasks),
then check the promise against the chain: exactly one task per call (per task), or a
typed error; an error that may have landed carries the hash and the chain is checked
against it; never a task twice. Each records a ``docs/RELIABILITY.md`` row.

The fixtures these need (``source``, ``short_timeout``) are in ``conftest.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from ogpu.chain import ChainId, NonceManager, Web3Manager
from ogpu.client import PublishTasksError, TaskInfo, TaskInput, publish_task, publish_tasks
from ogpu.protocol import Source, Task
from ogpu.types import ChainNotSupportedError, OGPUError, TxMayHaveLandedError, TxRpcError

from ..helpers.proxy import Fault
from .conftest import Net

__all__ = [
    "BATCH",
    "CARRY_HASH",
    "HASH",
    "RAW",
    "SLACK",
    "SLOW",
    "Publish",
    "Scenario",
    "Step",
    "each_publisher",
    "info_for",
    "inject",
    "on_send",
    "publish_batch",
    "publish_one",
]

#: Errors about a transaction that was sent: they carry its hash, checked against the chain.
CARRY_HASH = (TxMayHaveLandedError, TxRpcError)
SLOW = 2.5
SLACK = 1.0
HASH = re.compile(r"^0x[0-9a-f]{64}$")
RAW = "eth_sendRawTransaction"


@dataclass(frozen=True)
class Step:
    method: str
    fault: Fault
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    id: str
    injected: str
    steps: tuple[Step, ...]
    # None: a task is published; a tuple: any of these classes
    expect: type[OGPUError] | tuple[type[OGPUError], ...] | None = None
    landed: bool | None = None  # for a CARRY_HASH error with a hash: whether it is on chain
    same_bytes: bool = False  # every broadcast that reached the node carried one signed tx
    receipt_timeout: float = 30.0
    exact: bool = False  # the error is exactly ``expect`` (not a subclass)
    timeout: float | None = None  # the call's timeout=; it must end within it + SLACK


def on_send(
    id: str, injected: str, fault: Fault, options: dict[str, Any] | None = None, **more: Any
) -> Scenario:
    """A scenario of one fault on ``eth_sendRawTransaction`` (``options``: the rule's, e.g.
    ``times``); every broadcast that reached the node must carry the same signed bytes."""
    return Scenario(id, injected, (Step(RAW, fault, options or {}),), same_bytes=True, **more)


def inject(net: Net, scenario: Scenario) -> None:
    """Install ``scenario``'s faults on a clean proxy, and forget cached nonces (a fresh
    process: the nonce is read from the node). No RPC."""
    net.rpc.clear()
    NonceManager.clear_all()
    for step in scenario.steps:
        net.rpc.add(step.method, step.fault, **step.options)


def info_for(net: Net, source: Source, expires_in: int = 600) -> TaskInfo:
    """A task for ``source`` that expires ``expires_in`` s after the chain's (or the
    wall clock's, if later) now. Reads the latest block straight from the node."""
    return net.task_info(source, data={"text": "hello"}, expires_in=expires_in)


def _outcome(error: OGPUError | None, tasks: list[str], sent: int, reached: int) -> str:
    wire = f"{sent} broadcast(s) sent, {reached} reached the node"
    if error is None:
        return f"1 task; {wire}"
    if isinstance(error, CARRY_HASH) and error.tx_hash:
        landed = "it landed: 1 task" if tasks else "it did not land: 0 tasks"
        return f"{type(error).__name__} carrying tx_hash ({landed}); {wire}"
    return f"{type(error).__name__}; 0 tasks; {wire}"


def publish_one(
    net: Net, source: Source, scenario: Scenario, row: Any, area: str = "faults"
) -> None:
    """``publish_task`` under ``scenario``: exactly one task, or the expected typed error
    (one carrying the hash is checked against the chain); never two tasks."""
    info = info_for(net, source)
    nonce_before = net.nonce(net.client)
    inject(net, scenario)

    error: OGPUError | None = None
    task: Task | None = None
    started = time.monotonic()
    try:
        task = publish_task(
            info,
            signer=net.client.account,
            receipt_timeout=scenario.receipt_timeout,
            timeout=scenario.timeout,
        )
    except OGPUError as exc:
        error = exc
    seconds = _within(scenario, time.monotonic() - started)
    applied = list(net.rpc.applied)
    raw_forwarded = list(net.rpc.raw_forwarded)
    sent, reached = net.rpc.count(RAW), net.rpc.delivered(RAW)
    net.rpc.clear()  # the network heals

    tasks = net.published_tasks(source.address)
    assert applied, "the fault never triggered"
    assert len(tasks) <= 1, f"{len(tasks)} tasks published for one call"
    assert source.get_task_count() == len(tasks)
    assert net.nonce(net.client) == nonce_before + len(tasks)
    if scenario.same_bytes:
        assert len(set(raw_forwarded)) <= 1, "a second transaction was signed"

    if scenario.expect is None:
        assert error is None, f"unexpected {error!r}"
        assert task is not None and tasks == [task.address]
    else:
        assert error is not None and _fits(scenario, error), (
            f"expected {scenario.expect}, got {error!r}"
        )
        if isinstance(error, TxMayHaveLandedError) or (
            isinstance(error, CARRY_HASH) and scenario.landed is not None
        ):
            assert error.tx_hash is not None and HASH.match(error.tx_hash)
            assert error.tx_hash in str(error)
            receipt = net.receipt(error.tx_hash)
            assert (receipt is not None) is scenario.landed
            assert len(tasks) == (1 if scenario.landed else 0)
        else:
            assert tasks == []
    row(
        area=area,
        case=scenario.id,
        injected=scenario.injected,
        outcome=_outcome(error, tasks, sent, reached) + seconds,
    )


BATCH = 3


def _within(scenario: Scenario, seconds: float) -> str:
    """Check the wall-clock promise of a scenario with a timeout; the row's text for it
    (the limit, not the measured time: the generated page stays the same across runs)."""
    if scenario.timeout is None:
        return ""
    limit = scenario.timeout + SLACK
    assert seconds <= limit, f"{scenario.id}: {seconds:.2f}s > {limit:g}s"
    return f"; within {limit:g}s (timeout {scenario.timeout:g}s)"


def _fits(scenario: Scenario, error: OGPUError) -> bool:
    """``error`` is of the scenario's class (exactly, with ``exact``)."""
    expect = scenario.expect
    if expect is None:
        return False
    classes = expect if isinstance(expect, tuple) else (expect,)
    return type(error) in classes if scenario.exact else isinstance(error, classes)


def _expected(scenario: Scenario, error: OGPUError | None) -> bool:
    """The call's outcome fits the scenario: all published, or the scenario's error class,
    raised before sending or reported per task in ``PublishTasksError``."""
    if scenario.expect is None:
        return error is None
    if isinstance(error, PublishTasksError):
        return all(_fits(scenario, e) for e in error.errors.values())
    return error is not None and _fits(scenario, error)


def publish_batch(
    net: Net, source: Source, scenario: Scenario, row: Any, area: str = "faults"
) -> None:
    """Each TaskInfo ends as one task or a typed error (a per-task error that may have
    landed carries its hash, checked against the chain); never a task twice; and the
    account keeps working afterwards (no nonce gap left behind)."""
    infos = [info_for(net, source) for _ in range(BATCH)]
    for i, info in enumerate(infos):
        info.config = TaskInput(function_name="predict", data={"text": f"batch {i}"})
    inject(net, scenario)

    error: OGPUError | None = None
    returned: list[Task | None] = [None] * BATCH
    started = time.monotonic()
    try:
        returned = list(
            publish_tasks(
                infos,
                signer=net.client.account,
                receipt_timeout=scenario.receipt_timeout,
                timeout=scenario.timeout,
            )
        )
    except PublishTasksError as exc:
        error, returned = exc, exc.tasks
    except OGPUError as exc:
        error = exc
    seconds = _within(scenario, time.monotonic() - started)
    applied = list(net.rpc.applied)
    net.rpc.clear()

    tasks = net.published_tasks(source.address)
    assert applied, "the fault never triggered"
    texts = [Task(t).get_metadata()["data"]["text"] for t in tasks]
    assert len(texts) == len(set(texts)), f"a task was published twice: {texts}"
    assert set(texts) <= {f"batch {i}" for i in range(BATCH)}
    assert _expected(scenario, error), f"{scenario.id}: unexpected {error!r}"
    landed_unknown = 0
    if isinstance(error, PublishTasksError):
        for i, failure in error.errors.items():
            assert returned[i] is None
            if isinstance(failure, CARRY_HASH) and failure.tx_hash:
                assert HASH.match(failure.tx_hash) and failure.tx_hash in str(failure)
                landed_unknown += net.receipt(failure.tx_hash) is not None
    published = [t for t in returned if t is not None]
    assert sorted(t.address for t in published) == sorted(
        t for t in tasks if t in {p.address for p in published}
    )
    assert len(tasks) == len(published) + landed_unknown
    # the account is not stuck behind a gap: the next publish lands, with the SDK's cache
    if scenario.expect is ChainNotSupportedError:
        Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, net.rpc.url)  # forget chain id 1
    after = publish_task(info_for(net, source), signer=net.client.account)
    assert net.published_tasks(source.address)[-1] == after.address
    row(
        area=area,
        case=f"batch-{scenario.id}",
        injected=f"publish_tasks × {BATCH}: {scenario.injected}",
        outcome=(
            f"{len(tasks)} of {BATCH} tasks, none twice; "
            + ("no error" if error is None else type(error).__name__)
            + "; the account keeps working"
            + seconds
        ),
    )


#: ``publish_one`` or ``publish_batch``.
Publish = Callable[..., None]

#: Runs a test once per write path: ``publish_task`` (``TxExecutor``) through
#: ``publish_one`` and ``publish_tasks`` (the pipelined engine) through ``publish_batch``.
each_publisher = pytest.mark.parametrize(
    "publish", [publish_one, publish_batch], ids=["publish_task", "publish_tasks"]
)
