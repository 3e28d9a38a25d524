"""``ogpu.client.publish_task`` under injected network faults.

Every request of the SDK passes ``FaultProxy``; each scenario installs rules,
publishes one task and checks the promise: exactly one task on chain, or a typed
error. A ``TxMayHaveLandedError`` (``ReceiptTimeoutError`` included) carries the
hash, and the chain is checked against it: the hash has a receipt and one task,
or no receipt and no task. Any other error means nothing landed. Never two tasks.

Tasks are counted twice: ``Source.get_task_count()`` through the SDK (after the
network heals) and ``TaskPublished`` logs read from the node directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ogpu.chain import ChainId, NonceManager, Web3Manager
from ogpu.client import PublishTasksError, TaskInfo, TaskInput, publish_task, publish_tasks
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import StoreServer
from ogpu.protocol import Source, Task
from ogpu.types import (
    ChainNotSupportedError,
    NonceError,
    OGPUError,
    ReceiptTimeoutError,
    RPCError,
    TxMayHaveLandedError,
)

from .conftest import Net, kept_state, sdk_on
from .faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.slow

CLIENT_TIMEOUT = 1.0
SLOW = 2.5
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
    expect: type[OGPUError] | None = None  # None: a task is published
    landed: bool | None = None  # for TxMayHaveLandedError: whether the hash is on chain
    same_bytes: bool = False  # every broadcast that reached the node carried one signed tx
    receipt_timeout: float = 30.0


SCENARIOS = [
    Scenario(
        "drop-before-send",
        "connection dropped before eth_sendRawTransaction is forwarded (once)",
        (Step(RAW, Fault.DROP_BEFORE),),
        same_bytes=True,
    ),
    Scenario(
        "drop-after-send",
        "connection dropped after eth_sendRawTransaction reached the node (once)",
        (Step(RAW, Fault.DROP_AFTER),),
        same_bytes=True,
    ),
    Scenario(
        "502-before-send",
        "502 Bad Gateway instead of forwarding eth_sendRawTransaction (once)",
        (Step(RAW, Fault.HTTP_502),),
        same_bytes=True,
    ),
    Scenario(
        "502-after-send",
        "502 Bad Gateway after eth_sendRawTransaction reached the node (once)",
        (Step(RAW, Fault.HTTP_502_AFTER),),
        same_bytes=True,
    ),
    Scenario(
        "garbage-after-send",
        "non-JSON 200 answer after eth_sendRawTransaction reached the node (once)",
        (Step(RAW, Fault.GARBAGE_AFTER),),
        same_bytes=True,
    ),
    Scenario(
        "slow-answer-send",
        f"eth_sendRawTransaction forwarded, answer {SLOW}s late (client timeout "
        f"{CLIENT_TIMEOUT}s, once)",
        (Step(RAW, Fault.SLOW_AFTER, {"delay": SLOW}),),
        same_bytes=True,
    ),
    Scenario(
        "slow-request-send",
        f"eth_sendRawTransaction held {SLOW}s then forwarded (client timeout "
        f"{CLIENT_TIMEOUT}s, once)",
        (Step(RAW, Fault.SLOW_BEFORE, {"delay": SLOW}),),
        same_bytes=True,
    ),
    Scenario(
        "slow-preflight",
        f"gas-estimate batch answered {SLOW}s late (once)",
        (Step("eth_estimateGas", Fault.SLOW_AFTER, {"delay": SLOW}),),
    ),
    Scenario(
        "slow-receipts",
        f"eth_getTransactionReceipt answered {SLOW}s late (twice)",
        (Step("eth_getTransactionReceipt", Fault.SLOW_AFTER, {"delay": SLOW, "times": 2}),),
    ),
    Scenario(
        "duplicate-first-answer",
        "eth_sendRawTransaction delivered twice; client gets the first answer",
        (Step(RAW, Fault.DUPLICATE),),
        same_bytes=True,
    ),
    Scenario(
        "duplicate-second-answer",
        "eth_sendRawTransaction delivered twice; client gets the second answer "
        "('nonce too low': the first delivery was mined)",
        (Step(RAW, Fault.DUPLICATE, {"answer_second": True}),),
        same_bytes=True,
    ),
    Scenario(
        "rate-limited-preflight",
        "JSON-RPC error 'rate limit exceeded' on eth_estimateGas (once)",
        (Step("eth_estimateGas", Fault.RPC_ERROR, {"message": "rate limit exceeded"}),),
    ),
    Scenario(
        "lagging-receipts",
        "lagging replica: eth_getTransactionReceipt null (3 times)",
        (Step("eth_getTransactionReceipt", Fault.NULL_RESULT, {"times": 3}),),
    ),
    Scenario(
        "stale-nonce-once",
        "lagging replica: eth_getTransactionCount one behind (once)",
        (Step("eth_getTransactionCount", Fault.STALE_NONCE),),
    ),
    Scenario(
        "block-not-found-fees",
        "lagging replica: 'block not found' for the fee block in the preflight batch (once)",
        (Step("eth_getBlockByNumber", Fault.BLOCK_NOT_FOUND, {"skip": 1}),),
    ),
    Scenario(
        "block-not-found-after-send",
        "lagging replica: 'block not found' for every block read after the broadcast",
        (
            Step(
                "eth_getBlockByNumber",
                Fault.BLOCK_NOT_FOUND,
                {"times": None, "after": RAW},
            ),
        ),
    ),
    Scenario(
        "lagging-lookup",
        "answer lost after the node mined eth_sendRawTransaction, and the replica "
        "answers null to eth_getTransactionByHash (always)",
        (
            Step(RAW, Fault.DROP_AFTER),
            Step("eth_getTransactionByHash", Fault.NULL_RESULT, {"times": None}),
        ),
        same_bytes=True,
    ),
    Scenario(
        "block-not-found-precheck",
        "lagging replica: 'block not found' for the latest block (once, first read)",
        (Step("eth_getBlockByNumber", Fault.BLOCK_NOT_FOUND),),
    ),
    Scenario(
        "stale-nonce-always",
        "lagging replica: eth_getTransactionCount one behind (always)",
        (Step("eth_getTransactionCount", Fault.STALE_NONCE, {"times": None}),),
        expect=NonceError,
    ),
    Scenario(
        "wrong-chain",
        "the node answers eth_chainId 0x1 (another chain)",
        (Step("eth_chainId", Fault.WRONG_CHAIN, {"times": None, "chain_id": 1}),),
        expect=ChainNotSupportedError,
    ),
    Scenario(
        "502-everything",
        "502 Bad Gateway on every request",
        tuple(
            Step(m, Fault.HTTP_502, {"times": None})
            for m in (
                "eth_call",
                "eth_getBlockByNumber",
                "eth_chainId",
                "eth_estimateGas",
                "eth_getTransactionCount",
                RAW,
            )
        ),
        expect=RPCError,
    ),
    Scenario(
        "send-blackholed",
        "every eth_sendRawTransaction dropped before forwarding",
        (Step(RAW, Fault.DROP_BEFORE, {"times": None}),),
        expect=TxMayHaveLandedError,
        landed=False,
        same_bytes=True,
    ),
    Scenario(
        "send-answer-and-lookups-lost",
        "every eth_sendRawTransaction answer lost after forwarding and every "
        "eth_getTransactionByHash/receipt lookup dropped",
        (
            Step(RAW, Fault.DROP_AFTER, {"times": None}),
            Step("eth_getTransactionByHash", Fault.DROP_BEFORE, {"times": None}),
            Step("eth_getTransactionReceipt", Fault.DROP_BEFORE, {"times": None}),
        ),
        expect=TxMayHaveLandedError,
        landed=True,
        same_bytes=True,
    ),
    Scenario(
        "receipt-never-seen",
        "lagging replica never returns the receipt (null, always; receipt_timeout 1s)",
        (Step("eth_getTransactionReceipt", Fault.NULL_RESULT, {"times": None}),),
        expect=ReceiptTimeoutError,
        landed=True,
        same_bytes=True,
        receipt_timeout=1.0,
    ),
    Scenario(
        "receipt-connection-dropped",
        "every eth_getTransactionReceipt connection dropped (receipt_timeout 1s)",
        (Step("eth_getTransactionReceipt", Fault.DROP_BEFORE, {"times": None}),),
        expect=ReceiptTimeoutError,
        landed=True,
        same_bytes=True,
        receipt_timeout=1.0,
    ),
]


@pytest.fixture
def short_timeout(net: Net, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Build the SDK's Web3 with a short HTTP timeout (``ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT``)."""
    monkeypatch.setattr("ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT", CLIENT_TIMEOUT)
    Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, net.proxy.url)
    yield


@pytest.fixture(scope="module")
def source_address(
    devnet_session: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[str]:
    """A funded client and its source, built once for the module."""
    with kept_state(devnet_session):
        with sdk_on(devnet_session, proxy, upstream, store) as world:
            world.fund(world.client)
            address = world.source().address
        yield address


@pytest.fixture
def source(net: Net, source_address: str) -> Source:
    return Source(source_address)


def _info(net: Net, source: Source) -> TaskInfo:
    return TaskInfo(
        source=source.address,
        config=TaskInput(function_name="predict", data={"text": "hello"}),
        expiryTime=net.now() + 600,
        payment=10**16,
    )


def _outcome(error: OGPUError | None, tasks: list[str], sent: int, reached: int) -> str:
    wire = f"{sent} broadcast(s) sent, {reached} reached the node"
    if error is None:
        return f"1 task; {wire}"
    if isinstance(error, TxMayHaveLandedError):
        landed = "it landed: 1 task" if tasks else "it did not land: 0 tasks"
        return f"{type(error).__name__} carrying tx_hash ({landed}); {wire}"
    return f"{type(error).__name__}; 0 tasks; {wire}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_publish_task_under_fault(
    net: Net, source: Source, short_timeout: None, scenario: Scenario, row: Any
) -> None:
    info = _info(net, source)
    nonce_before = net.nonce(net.client)
    net.proxy.clear()
    NonceManager.clear_all()  # a fresh process: the nonce is read from the node
    for step in scenario.steps:
        net.proxy.add(step.method, step.fault, **step.options)

    error: OGPUError | None = None
    task: Task | None = None
    try:
        task = publish_task(
            info, signer=net.client.account, receipt_timeout=scenario.receipt_timeout
        )
    except OGPUError as exc:
        error = exc
    applied = list(net.proxy.applied)
    raw_forwarded = list(net.proxy.raw_forwarded)
    sent, reached = net.proxy.count(RAW), net.proxy.delivered(RAW)
    net.proxy.clear()  # the network heals

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
        assert isinstance(error, scenario.expect), f"expected {scenario.expect}, got {error!r}"
        if isinstance(error, TxMayHaveLandedError):
            assert error.tx_hash is not None and HASH.match(error.tx_hash)
            assert error.tx_hash in str(error)
            receipt = net.receipt(error.tx_hash)
            assert (receipt is not None) is scenario.landed
            assert len(tasks) == (1 if scenario.landed else 0)
        else:
            assert tasks == []
    row(
        area="faults",
        case=scenario.id,
        injected=scenario.injected,
        outcome=_outcome(error, tasks, sent, reached),
    )


def test_unknown_outcome_is_resolved_by_looking_up_the_hash(
    net: Net, source: Source, short_timeout: None, row: Any
) -> None:
    """The documented recovery after ``TxMayHaveLandedError``: look the hash up, then retry
    only if it is not on chain. The retry signs again and lands once."""
    info = _info(net, source)
    net.proxy.add(RAW, Fault.DROP_BEFORE, times=None)
    with pytest.raises(TxMayHaveLandedError) as caught:
        publish_task(info, signer=net.client.account)
    net.proxy.clear()
    tx_hash = caught.value.tx_hash
    assert tx_hash is not None and net.receipt(tx_hash) is None
    assert net.call("eth_getTransactionByHash", [tx_hash]) is None

    task = publish_task(info, signer=net.client.account)

    assert net.published_tasks(source.address) == [task.address]
    assert source.get_task_count() == 1
    row(
        area="faults",
        case="recovery-after-unknown-outcome",
        injected="every broadcast dropped, then the network heals",
        outcome="TxMayHaveLandedError; hash not on chain, so the caller retries: 1 task",
    )


# -- publish_tasks: the pipelined path under the same faults ---------------------------------

BATCH = 3


def _expected(scenario: Scenario, error: OGPUError | None) -> bool:
    """The call's outcome fits the scenario: all published, or the scenario's error class,
    raised before sending or reported per task in ``PublishTasksError``."""
    if scenario.expect is None:
        return error is None
    if isinstance(error, PublishTasksError):
        return all(isinstance(e, scenario.expect) for e in error.errors.values())
    return isinstance(error, scenario.expect)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_publish_tasks_under_fault(
    net: Net, source: Source, short_timeout: None, scenario: Scenario, row: Any
) -> None:
    """Each TaskInfo ends as one task or a typed error (a per-task error that may have
    landed carries its hash, checked against the chain); never a task twice; and the
    account keeps working afterwards (no nonce gap left behind)."""
    infos = [_info(net, source) for _ in range(BATCH)]
    for i, info in enumerate(infos):
        info.config = TaskInput(function_name="predict", data={"text": f"batch {i}"})
    net.proxy.clear()
    NonceManager.clear_all()
    for step in scenario.steps:
        net.proxy.add(step.method, step.fault, **step.options)

    error: OGPUError | None = None
    returned: list[Task | None] = [None] * BATCH
    try:
        returned = list(
            publish_tasks(
                infos, signer=net.client.account, receipt_timeout=scenario.receipt_timeout
            )
        )
    except PublishTasksError as exc:
        error, returned = exc, exc.tasks
    except OGPUError as exc:
        error = exc
    applied = list(net.proxy.applied)
    net.proxy.clear()

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
            if isinstance(failure, TxMayHaveLandedError) and failure.tx_hash:
                assert HASH.match(failure.tx_hash) and failure.tx_hash in str(failure)
                landed_unknown += net.receipt(failure.tx_hash) is not None
    published = [t for t in returned if t is not None]
    assert sorted(t.address for t in published) == sorted(
        t for t in tasks if t in {p.address for p in published}
    )
    assert len(tasks) == len(published) + landed_unknown
    # the account is not stuck behind a gap: the next publish lands, with the SDK's cache
    if scenario.expect is ChainNotSupportedError:
        Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, net.proxy.url)  # forget chain id 1
    after = publish_task(_info(net, source), signer=net.client.account)
    assert net.published_tasks(source.address)[-1] == after.address
    row(
        area="faults",
        case=f"batch-{scenario.id}",
        injected=f"publish_tasks × {BATCH}: {scenario.injected}",
        outcome=(
            f"{len(tasks)} of {BATCH} tasks, none twice; "
            + ("no error" if error is None else type(error).__name__)
            + "; the account keeps working"
        ),
    )


def test_a_node_of_another_chain_gets_nothing_pinned(
    net: Net, source: Source, store: StoreServer, short_timeout: None, row: Any
) -> None:
    info = _info(net, source)
    info.config = TaskInput(function_name="predict", data={"text": "for another chain"})
    pinned = len(store.store)
    net.proxy.add("eth_chainId", Fault.WRONG_CHAIN, times=None, chain_id=1)
    for call in (
        lambda: publish_task(info, signer=net.client.account),
        lambda: publish_tasks([info], signer=net.client.account),
    ):
        with pytest.raises(ChainNotSupportedError):
            call()
    assert len(store.store) == pinned
    assert net.proxy.count(RAW) == 0
    row(
        area="faults",
        case="wrong-chain-pins-nothing",
        injected="the node answers eth_chainId 0x1 (another chain)",
        outcome="ChainNotSupportedError before the upload: nothing pinned, 0 transactions",
    )
