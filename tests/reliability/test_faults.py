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

from typing import Any

import pytest

from ogpu.client import TaskInput, publish_task, publish_tasks
from ogpu.devnet.store import StoreServer
from ogpu.protocol import Source
from ogpu.types import (
    ChainNotSupportedError,
    NonceError,
    ReceiptTimeoutError,
    RPCError,
    TxMayHaveLandedError,
)

from ..helpers.proxy import Fault
from .conftest import CLIENT_TIMEOUT, Net
from .writes import (
    RAW,
    SLOW,
    Scenario,
    Step,
    info_for,
    on_send,
    publish_batch,
    publish_one,
)

pytestmark = pytest.mark.slow


SCENARIOS = [
    on_send(
        "drop-before-send",
        "connection dropped before eth_sendRawTransaction is forwarded (once)",
        Fault.DROP_BEFORE,
    ),
    on_send(
        "drop-after-send",
        "connection dropped after eth_sendRawTransaction reached the node (once)",
        Fault.DROP_AFTER,
    ),
    on_send(
        "502-before-send",
        "502 Bad Gateway instead of forwarding eth_sendRawTransaction (once)",
        Fault.HTTP_502,
    ),
    on_send(
        "502-after-send",
        "502 Bad Gateway after eth_sendRawTransaction reached the node (once)",
        Fault.HTTP_502_AFTER,
    ),
    on_send(
        "garbage-after-send",
        "non-JSON 200 answer after eth_sendRawTransaction reached the node (once)",
        Fault.GARBAGE_AFTER,
    ),
    on_send(
        "slow-answer-send",
        f"eth_sendRawTransaction forwarded, answer {SLOW}s late (client timeout "
        f"{CLIENT_TIMEOUT}s, once)",
        Fault.SLOW_AFTER,
        {"delay": SLOW},
    ),
    on_send(
        "slow-request-send",
        f"eth_sendRawTransaction held {SLOW}s then forwarded (client timeout "
        f"{CLIENT_TIMEOUT}s, once)",
        Fault.SLOW_BEFORE,
        {"delay": SLOW},
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
    on_send(
        "duplicate-first-answer",
        "eth_sendRawTransaction delivered twice; client gets the first answer",
        Fault.DUPLICATE,
    ),
    on_send(
        "duplicate-second-answer",
        "eth_sendRawTransaction delivered twice; client gets the second answer "
        "('nonce too low': the first delivery was mined)",
        Fault.DUPLICATE,
        {"answer_second": True},
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
    on_send(
        "send-blackholed",
        "every eth_sendRawTransaction dropped before forwarding",
        Fault.DROP_BEFORE,
        {"times": None},
        expect=TxMayHaveLandedError,
        landed=False,
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
        receipt_timeout=3.0,  # the window an unsettled send is looked up in
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


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_publish_task_under_fault(
    net: Net, source: Source, short_timeout: None, scenario: Scenario, row: Any
) -> None:
    publish_one(net, source, scenario, row)


def test_unknown_outcome_is_resolved_by_looking_up_the_hash(
    net: Net, source: Source, short_timeout: None, row: Any
) -> None:
    """The documented recovery after ``TxMayHaveLandedError``: look the hash up, then retry
    only if it is not on chain. The retry signs again and lands once."""
    info = info_for(net, source)
    net.rpc.add(RAW, Fault.DROP_BEFORE, times=None)
    with pytest.raises(TxMayHaveLandedError) as caught:
        publish_task(info, signer=net.client.account)
    net.rpc.clear()
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


# publish_tasks reads no block after the broadcast (its receipts need no block time)
BATCH_SCENARIOS = [s for s in SCENARIOS if s.id != "block-not-found-after-send"]


@pytest.mark.parametrize("scenario", BATCH_SCENARIOS, ids=[s.id for s in BATCH_SCENARIOS])
def test_publish_tasks_under_fault(
    net: Net, source: Source, short_timeout: None, scenario: Scenario, row: Any
) -> None:
    """Each TaskInfo ends as one task or a typed error (a per-task error that may have
    landed carries its hash, checked against the chain); never a task twice; and the
    account keeps working afterwards (no nonce gap left behind)."""
    publish_batch(net, source, scenario, row)


def test_a_node_of_another_chain_gets_nothing_pinned(
    net: Net, source: Source, store: StoreServer, short_timeout: None, row: Any
) -> None:
    info = info_for(net, source)
    info.config = TaskInput(function_name="predict", data={"text": "for another chain"})
    pinned = len(store.store)
    net.rpc.add("eth_chainId", Fault.WRONG_CHAIN, times=None, chain_id=1)
    for call in (
        lambda: publish_task(info, signer=net.client.account),
        lambda: publish_tasks([info], signer=net.client.account),
    ):
        with pytest.raises(ChainNotSupportedError):
            call()
    assert len(store.store) == pinned
    assert net.rpc.count(RAW) == 0
    row(
        area="faults",
        case="wrong-chain-pins-nothing",
        injected="the node answers eth_chainId 0x1 (another chain)",
        outcome="ChainNotSupportedError before the upload: nothing pinned, 0 transactions",
    )
