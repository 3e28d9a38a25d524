"""Every write with a timeout ends within it + 1 s, whatever the node or gateway does
(issue 16.3, the write paths).

``publish_task(timeout=T)`` and ``publish_tasks(timeout=T)`` run through ``FaultProxy``
with the SDK's default HTTP timeout (30 s, far above ``T``), so only the call's own
budget can bound them: the send never answers, is held and never forwarded, drips its
headers or its answer one byte at a time; every request hangs or drips; receipts hang.
The promise checked: the call ends within ``T + 1`` s with a typed error (one that may
have landed carries the hash, checked against the chain) or the task, never twice.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from ogpu.net import Budget
from ogpu.protocol import Source, vault
from ogpu.types import (
    OGPUError,
    PublishTimeoutError,
    ReceiptTimeoutError,
    RPCError,
    TxError,
    TxMayHaveLandedError,
)

from ..helpers.proxy import Fault
from .conftest import Net
from .writes import (
    CARRY_HASH,
    HASH,
    RAW,
    SLACK,
    Publish,
    Scenario,
    Step,
    each_publisher,
    inject,
    on_send,
)

pytestmark = pytest.mark.slow  # minutes: every case publishes through the proxy

#: A read cut short before the broadcast: RPCError, or PublishTimeoutError (0.2.3's name,
#: raised where the spent budget is recognised: the executor and publish_task's stages).
BEFORE_SEND = (RPCError, PublishTimeoutError)
T = 4.0
HANG = 600.0
DRIP = 0.2
EVERY = (
    "eth_chainId",
    "eth_call",
    "eth_getBlockByNumber",
    "eth_estimateGas",
    "eth_maxPriorityFeePerGas",
    "eth_getTransactionCount",
    RAW,
    "eth_getTransactionReceipt",
    "eth_getTransactionByHash",
)


def _always(delay: float) -> dict[str, Any]:
    return {"delay": delay, "times": None}


def _send(id: str, what: str, fault: Fault, delay: float, landed: bool) -> Scenario:
    """Every ``eth_sendRawTransaction`` ``what``: TxMayHaveLandedError (``landed``: the
    node got the transaction)."""
    injected = f"eth_sendRawTransaction {what} (timeout {T:g}s)"
    expect = TxMayHaveLandedError
    return on_send(id, injected, fault, _always(delay), expect=expect, landed=landed, timeout=T)


def _everything(id: str, what: str, fault: Fault, delay: float) -> Scenario:
    """Every request of ``EVERY`` ``what``: cut short before the broadcast."""
    steps = tuple(Step(m, fault, _always(delay)) for m in EVERY)
    return Scenario(id, f"every request {what} (timeout {T:g}s)", steps, BEFORE_SEND, timeout=T)


def _receipts(id: str, what: str, fault: Fault, delay: float) -> Scenario:
    """The send's own receipt peek answered null, every later poll ``what``: the
    transaction landed, the call ends with ReceiptTimeoutError."""
    steps = (
        Step("eth_getTransactionReceipt", Fault.NULL_RESULT),  # the send's own peek
        Step("eth_getTransactionReceipt", fault, _always(delay)),
    )
    injected = f"the first receipt answer null, every later poll {what} (timeout {T:g}s)"
    expect = ReceiptTimeoutError
    return Scenario(id, injected, steps, expect, landed=True, same_bytes=True, timeout=T)


SCENARIOS = [
    _send(
        "send-never-answers",
        "reached the node, the answer never comes",
        Fault.SLOW_AFTER,
        HANG,
        landed=True,
    ),
    _send("send-held", "held, never forwarded", Fault.SLOW_BEFORE, HANG, landed=False),
    _send(
        "send-drips-headers",
        f"reached the node, the answer's headers drip one byte per {DRIP}s",
        Fault.DRIP_HEADERS_AFTER,
        DRIP,
        landed=True,
    ),
    _send(
        "send-drips-answer",
        f"reached the node, the answer drips one byte per {DRIP}s",
        Fault.DRIP_BODY_AFTER,
        DRIP,
        landed=True,
    ),
    _everything("everything-hangs", "held, never forwarded", Fault.SLOW_BEFORE, HANG),
    _everything(
        "everything-drips-headers",
        f"forwarded, every answer's headers drip one byte per {DRIP}s",
        Fault.DRIP_HEADERS_AFTER,
        DRIP,
    ),
    Scenario(
        "estimate-hangs",
        f"the gas-estimate batch never answers (timeout {T:g}s)",
        (Step("eth_estimateGas", Fault.SLOW_AFTER, _always(HANG)),),
        expect=PublishTimeoutError,  # a pre-send read cut by the budget, on both paths
        timeout=T,
    ),
    _receipts("receipts-hang", "held, never answered", Fault.SLOW_BEFORE, HANG),
    _receipts("receipts-drip", f"drips one byte per {DRIP}s", Fault.DRIP_BODY_AFTER, DRIP),
]
assert issubclass(TxMayHaveLandedError, TxError)  # a per-task error of publish_tasks


@each_publisher
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_a_publish_ends_within_its_timeout(
    net: Net, source: Source, scenario: Scenario, row: Any, publish: Publish
) -> None:
    publish(net, source, scenario, row, area="bounded writes")


DIRECT = [s for s in SCENARIOS if s.id != "estimate-hangs"]


@pytest.mark.parametrize("scenario", DIRECT, ids=[s.id for s in DIRECT])
def test_a_tx_executor_write_ends_within_its_budget_scope(
    net: Net, scenario: Scenario, row: Any
) -> None:
    """``vault.deposit`` (``TxExecutor``) inside ``Budget.after(T).scope()``: the same
    bound; the nonce moves by one exactly when the hash has a receipt."""
    before = net.nonce(net.client)
    inject(net, scenario)
    started = time.monotonic()
    with pytest.raises(OGPUError) as caught, Budget.after(T).scope():
        vault.deposit(net.client.address, 1, signer=net.client.account)
    seconds = time.monotonic() - started
    net.rpc.clear()
    error = caught.value
    assert seconds <= T + SLACK, f"{scenario.id}: {seconds:.2f}s"
    assert isinstance(error, scenario.expect or OGPUError), repr(error)
    if not isinstance(error, CARRY_HASH):
        assert not getattr(error, "tx_hash", None), repr(error)
    landed = 0
    if isinstance(error, TxMayHaveLandedError):
        assert error.tx_hash is not None and HASH.match(error.tx_hash), repr(error)
        landed = net.receipt(error.tx_hash) is not None
        assert landed is scenario.landed
    assert net.nonce(net.client) == before + landed
    row(
        area="bounded writes",
        case=f"deposit-{scenario.id}",
        injected=f"vault.deposit in Budget.after({T:g}).scope(): {scenario.injected}",
        outcome=f"{type(error).__name__}"
        + (" carrying tx_hash" if isinstance(error, TxMayHaveLandedError) else "")
        + f"; {int(landed)} transaction(s) landed; within {T + SLACK:g}s",
    )
