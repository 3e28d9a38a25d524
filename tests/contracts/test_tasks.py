"""Task lifecycle: publish, attempt, respond, confirm/auto-finalize, cancel, expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils.crypto import keccak

from ogpu.devnet import ADMIN, AGENTS, CLIENTS, MASTERS, PROVIDERS

ETHER = 10**18
PAYMENT = 10**16
ZERO = "0x" + "00" * 20
CPU = 1
NEW, ATTEMPTED, RESPONDED, CANCELED, EXPIRED, FINALIZED = range(6)
SUBMITTED, CONFIRMED = 0, 1
MANUAL_CONFIRMATION, FIRST_RESPONSE = 0, 1

CLIENT = CLIENTS[0]
P1, P2, P3 = PROVIDERS


@dataclass
class Market:
    manual: Any
    first: Any


@pytest.fixture
def market(suite) -> Market:
    """Two sources of CLIENT (manual / first-response), three paired providers on both."""
    suite.deposit(CLIENT, 10 * ETHER)
    manual = suite.publish_source(CLIENT, deliveryMethod=MANUAL_CONFIRMATION)
    first = suite.publish_source(CLIENT, deliveryMethod=FIRST_RESPONSE)
    for master, provider in zip(MASTERS, PROVIDERS, strict=True):
        suite.pair(master, provider)
        suite.register(provider, manual, provider)
        suite.register(provider, first, provider)
    return Market(manual=manual, first=first)


def _status(task: Any) -> int:
    status: int = task.functions.getStatus().call()
    assert task.functions.status().call() == status
    return status


@pytest.mark.slow
def test_manual_confirmation_lifecycle(suite, market) -> None:
    n, c = suite.nexus.functions, suite.controller.functions
    expiry = suite.now() + 600
    receipt = suite.transact(
        CLIENT, c.publishTask((market.manual.address, "ipfs://cfg", expiry, PAYMENT))
    )
    (published,) = suite.events(receipt, suite.nexus, "TaskPublished")
    assert published["source"] == market.manual.address
    task = suite.task(published["task"])
    t = task.functions
    assert t.owner().call() == CLIENT.address
    assert t.taskParams().call() == [market.manual.address, "ipfs://cfg", expiry, PAYMENT]
    assert (t.getSource().call(), t.getPayment().call(), t.getExpiryTime().call()) == (
        market.manual.address,
        PAYMENT,
        expiry,
    )
    assert t.getDeliveryMethod().call() == t.deliveryMethod().call() == MANUAL_CONFIRMATION
    assert _status(task) == NEW
    assert market.manual.functions.getTasks(0, 0).call() == [task.address]
    assert market.manual.functions.getTaskCount().call() == 1
    # Escrow: liquid -> frozen.
    assert suite.buckets(CLIENT.address)["balance"] == 10 * ETHER - PAYMENT
    assert suite.buckets(CLIENT.address)["frozen"] == PAYMENT
    suite.check_vault_invariant()

    receipt = suite.attempt(P1, task, P1, suggested=PAYMENT // 2)
    assert suite.event_names(receipt, suite.nexus) == ["Attempted", "TaskStatusChanged"]
    assert suite.events(receipt, suite.nexus, "Attempted") == [
        {"task": task.address, "provider": P1.address, "suggestedPayment": PAYMENT // 2}
    ]
    assert suite.events(receipt, suite.nexus, "TaskStatusChanged") == [
        {"task": task.address, "status": ATTEMPTED}
    ]
    attempt_time = suite.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    receipt = suite.attempt(P2, task, P2)
    assert suite.event_names(receipt, suite.nexus) == ["Attempted"]
    assert _status(task) == ATTEMPTED
    assert t.getAttemptCount().call() == 2
    assert t.getAttempters(0, 1).call() == [P1.address, P2.address]
    assert t.attempters(1).call() == P2.address
    assert t.getAttempterId(P2.address).call() == t.attempterId(P2.address).call() == 2
    assert t.getAttempterId(P3.address).call() == 0
    timestamps = t.getAttemptTimestamps(0, 1).call()
    assert timestamps[0] == attempt_time == t.attemptTimestamps(0).call()
    assert timestamps[1] > attempt_time

    response1, receipt = suite.submit(P1, task, P1, "ipfs://answer-1", payment=PAYMENT)
    assert suite.event_names(receipt, suite.nexus) == ["ResponseSubmitted", "TaskStatusChanged"]
    assert suite.events(receipt, suite.nexus, "TaskStatusChanged") == [
        {"task": task.address, "status": RESPONDED}
    ]
    r1 = response1.functions
    assert r1.getResponseParams().call() == (task.address, P1.address, "ipfs://answer-1", PAYMENT)
    assert r1.responseParams().call() == [task.address, P1.address, "ipfs://answer-1", PAYMENT]
    assert r1.getStatus().call() == r1.status().call() == SUBMITTED
    assert not r1.confirmedFinal().call()
    assert r1.owner().call() == suite.nexus.address
    submitted_at = suite.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert r1.responseTimestamp().call() == submitted_at
    assert t.isAlreadySubmitted(keccak(text="ipfs://answer-1")).call()
    assert not t.isAlreadySubmitted(keccak(text="ipfs://other")).call()
    assert t.responseOf(P1.address).call() == response1.address
    assert _status(task) == RESPONDED

    response2, receipt = suite.submit(P2, task, P2, "ipfs://answer-2")
    assert suite.event_names(receipt, suite.nexus) == ["ResponseSubmitted"]
    assert t.getResponsesOf(0, 1).call() == [response1.address, response2.address]
    assert t.getResponsesOf(1, 1).call() == [response2.address]
    assert t.winningProvider().call() == ZERO

    # The client picks the second response.
    receipt = suite.transact(CLIENT, c.confirmResponse(response2.address))
    assert suite.event_names(receipt, suite.nexus) == [
        "ResponseStatusChanged",
        "TaskStatusChanged",
    ]
    assert suite.events(receipt, suite.nexus, "ResponseStatusChanged") == [
        {"response": response2.address, "status": CONFIRMED}
    ]
    assert suite.events(receipt, suite.nexus, "TaskStatusChanged") == [
        {"task": task.address, "status": FINALIZED}
    ]
    assert response2.functions.getStatus().call() == CONFIRMED
    assert response2.functions.confirmedFinal().call()
    assert r1.getStatus().call() == SUBMITTED
    assert _status(task) == FINALIZED
    assert t.winningProvider().call() == P2.address
    assert suite.buckets(P2.address)["balance"] == PAYMENT
    assert suite.vault.functions.totalEarningsOf(P2.address).call() == PAYMENT
    assert suite.vault.functions.totalEarningsOf(P1.address).call() == 0
    assert suite.buckets(CLIENT.address)["frozen"] == 0
    assert suite.buckets(CLIENT.address)["balance"] == 10 * ETHER - PAYMENT

    suite.reverts(CLIENT, c.confirmResponse(response2.address), "AlreadyConfirmed")
    suite.reverts(CLIENT, c.confirmResponse(response1.address), "AlreadyFinalized")
    suite.reverts(P3, n.attempt(task.address, P3.address, 0), "AlreadyFinalized")
    suite.reverts(P1, n.submitResponse((task.address, P1.address, "x", 0)), "AlreadyFinalized")
    suite.reverts(CLIENT, c.cancelTask(task.address), "AlreadyFinalized")
    # The winner can take the payment out.
    suite.transact(P2, suite.vault.functions.withdraw(PAYMENT))


def test_first_response_finalizes_in_the_same_transaction(suite, market) -> None:
    task = suite.publish_task(CLIENT, market.first, payment=PAYMENT)
    assert task.functions.getDeliveryMethod().call() == FIRST_RESPONSE
    suite.attempt(P1, task, P1)
    suite.attempt(P2, task, P2)
    response, receipt = suite.submit(P2, task, P2, "ipfs://fast")
    assert suite.event_names(receipt, suite.nexus) == [
        "ResponseSubmitted",
        "TaskStatusChanged",
        "ResponseStatusChanged",
        "TaskStatusChanged",
    ]
    statuses = [e["status"] for e in suite.events(receipt, suite.nexus, "TaskStatusChanged")]
    assert statuses == [RESPONDED, FINALIZED]
    assert response.functions.getStatus().call() == CONFIRMED
    assert _status(task) == FINALIZED
    assert task.functions.winningProvider().call() == P2.address
    assert suite.vault.functions.totalEarningsOf(P2.address).call() == PAYMENT
    assert suite.buckets(P2.address)["balance"] == PAYMENT
    suite.reverts(
        P1,
        suite.nexus.functions.submitResponse((task.address, P1.address, "late", 0)),
        "AlreadyFinalized",
    )


def test_publish_task_checks(suite, market) -> None:
    c = suite.controller.functions
    source = market.manual.address
    # Every revert check mines a block, so read the chain time each time.
    suite.reverts(
        CLIENT, c.publishTask((source, "c", suite.now() + 600, 10**15 - 1)), "PaymentTooLow"
    )
    # eth_call runs at the latest block's time, the mined tx at the pending one's.
    latest = suite.devnet.timestamp()
    suite.reverts(CLIENT, c.publishTask((source, "c", latest, PAYMENT)), "Expired")
    suite.reverts(
        CLIENT, c.publishTask((CLIENT.address, "c", suite.now() + 60, PAYMENT)), "UnknownSource"
    )
    poor = CLIENTS[1]
    suite.deposit(poor, PAYMENT - 1)
    suite.reverts(
        poor, c.publishTask((source, "c", suite.now() + 600, PAYMENT)), "InsufficientBalance"
    )
    # Anyone with funds may publish to an active source; the task belongs to them.
    suite.deposit(poor, 1)
    task = suite.publish_task(poor, market.manual, payment=PAYMENT)
    assert task.functions.owner().call() == poor.address
    assert suite.buckets(poor.address) == {
        "balance": 0,
        "frozen": PAYMENT,
        "lockup": 0,
        "unbonding": 0,
        "sanction": 0,
    }
    # Exactly maxExpiryDuration from the block's time is the longest allowed expiry.
    suite.reverts(
        CLIENT, c.publishTask((source, "c", suite.now() + 3601, PAYMENT)), "ExpiryTooLong"
    )
    receipt = suite.transact(CLIENT, c.publishTask((source, "c", suite.now() + 3600, PAYMENT)))
    assert suite.events(receipt, suite.nexus, "TaskPublished")


def test_attempt_checks(suite, market) -> None:
    n = suite.nexus.functions
    task = suite.publish_task(CLIENT, market.manual)
    other_source = suite.publish_source(CLIENTS[1])
    foreign = suite.publish_task(CLIENT, other_source)
    suite.reverts(P1, n.attempt(foreign.address, P1.address, 0), "NotRegistered")
    suite.reverts(P1, n.attempt(CLIENT.address, P1.address, 0), "UnknownTask")
    suite.reverts(AGENTS[0], n.attempt(task.address, P1.address, 0), "NotAuthorized")
    suite.reverts(MASTERS[1], n.attempt(task.address, P1.address, 0), "NotAuthorized")
    # The master acts for its provider.
    suite.attempt(MASTERS[0], task, P1)
    suite.reverts(P1, n.attempt(task.address, P1.address, 0), "AlreadyAttempted")
    suite.submit(P1, task, P1, "done")
    suite.reverts(P2, n.attempt(task.address, P2.address, 0), "AlreadyResponded")


def test_submit_checks(suite, market) -> None:
    n = suite.nexus.functions
    task = suite.publish_task(CLIENT, market.manual)
    suite.reverts(P1, n.submitResponse((task.address, P1.address, "a", 0)), "NotAttempted")
    suite.attempt(P1, task, P1)
    suite.attempt(P2, task, P2)
    suite.reverts(P3, n.submitResponse((task.address, P1.address, "a", 0)), "NotAuthorized")
    suite.reverts(P1, n.submitResponse((ZERO, P1.address, "a", 0)), "UnknownTask")
    suite.submit(P1, task, P1, "same-data")
    # The same data twice is refused, and one response per provider.
    suite.reverts(
        P2, n.submitResponse((task.address, P2.address, "same-data", 0)), "AlreadySubmitted"
    )
    suite.reverts(
        P1, n.submitResponse((task.address, P1.address, "new-data", 0)), "AlreadySubmitted"
    )
    suite.submit(P2, task, P2, "other-data")


def test_confirm_checks(suite, market) -> None:
    c = suite.controller.functions
    task = suite.publish_task(CLIENT, market.manual)
    suite.attempt(P1, task, P1)
    response, _ = suite.submit(P1, task, P1, "r")
    suite.reverts(CLIENTS[1], c.confirmResponse(response.address), "NotOwner")
    suite.reverts(AGENTS[0], c.confirmResponse(response.address), "NotOwner")
    suite.reverts(CLIENT, c.confirmResponse(CLIENTS[1].address), "UnknownResponse")
    suite.reverts(CLIENT, c.confirmResponse(suite.vault.address), "UnknownResponse")
    # An agent of the client may confirm.
    suite.transact(CLIENT, suite.terminal.functions.setAgent(AGENTS[0].address, True))
    receipt = suite.transact(AGENTS[0], c.confirmResponse(response.address))
    assert suite.events(receipt, suite.nexus, "TaskStatusChanged") == [
        {"task": task.address, "status": FINALIZED}
    ]
    assert task.functions.winningProvider().call() == P1.address


def test_cancel_task(suite, market) -> None:
    c = suite.controller.functions
    task = suite.publish_task(CLIENT, market.manual, payment=PAYMENT)
    suite.reverts(CLIENTS[1], c.cancelTask(task.address), "NotOwner")
    suite.reverts(CLIENT, c.cancelTask(CLIENTS[1].address), "UnknownTask")
    receipt = suite.transact(CLIENT, c.cancelTask(task.address))
    assert suite.events(receipt, suite.nexus, "TaskStatusChanged") == [
        {"task": task.address, "status": CANCELED}
    ]
    assert _status(task) == CANCELED
    assert suite.buckets(CLIENT.address)["balance"] == 10 * ETHER
    assert suite.buckets(CLIENT.address)["frozen"] == 0
    suite.reverts(CLIENT, c.cancelTask(task.address), "NotCancelable")
    suite.reverts(
        P1, suite.nexus.functions.attempt(task.address, P1.address, 0), "AlreadyFinalized"
    )

    attempted = suite.publish_task(CLIENT, market.manual)
    suite.attempt(P1, attempted, P1)
    suite.reverts(CLIENT, c.cancelTask(attempted.address), "NotCancelable")


@pytest.mark.slow
def test_expiry(suite, market) -> None:
    n, c = suite.nexus.functions, suite.controller.functions
    fresh = suite.publish_task(CLIENT, market.manual, expires_in=100)
    attempted = suite.publish_task(CLIENT, market.manual, expires_in=100)
    responded = suite.publish_task(CLIENT, market.manual, expires_in=100)
    finalized = suite.publish_task(CLIENT, market.first, expires_in=100)
    suite.attempt(P1, attempted, P1)
    suite.attempt(P2, attempted, P2)
    suite.attempt(P1, responded, P1)
    suite.attempt(P2, responded, P2)
    late_response, _ = suite.submit(P1, responded, P1, "in time")
    suite.attempt(P1, finalized, P1)
    suite.submit(P1, finalized, P1, "won")
    assert [_status(t) for t in (fresh, attempted, responded, finalized)] == [
        NEW,
        ATTEMPTED,
        RESPONDED,
        FINALIZED,
    ]
    suite.devnet.advance_time(101)
    assert [_status(t) for t in (fresh, attempted, responded, finalized)] == [
        EXPIRED,
        EXPIRED,
        EXPIRED,
        FINALIZED,
    ]
    # Expired tasks refuse attempts and responses.
    suite.reverts(P3, n.attempt(fresh.address, P3.address, 0), "Expired")
    suite.reverts(P2, n.submitResponse((attempted.address, P2.address, "late", 0)), "Expired")
    suite.reverts(P2, n.submitResponse((responded.address, P2.address, "late", 0)), "Expired")

    # Reclaim: an expired task without responses can be cancelled, even after attempts.
    for task in (fresh, attempted):
        receipt = suite.transact(CLIENT, c.cancelTask(task.address))
        assert suite.events(receipt, suite.nexus, "TaskStatusChanged") == [
            {"task": task.address, "status": CANCELED}
        ]
        assert _status(task) == CANCELED
    # With a response it is not cancelable, but the client can still confirm it.
    suite.reverts(CLIENT, c.cancelTask(responded.address), "NotCancelable")
    suite.transact(CLIENT, c.confirmResponse(late_response.address))
    assert _status(responded) == FINALIZED
    assert suite.vault.functions.totalEarningsOf(P1.address).call() == 2 * PAYMENT
    assert suite.buckets(CLIENT.address)["frozen"] == 0
    assert suite.buckets(CLIENT.address)["balance"] == 10 * ETHER - 2 * PAYMENT


def test_agent_of_master_drives_the_provider(suite, market) -> None:
    agent, master, provider = AGENTS[1], MASTERS[2], P3
    suite.transact(master, suite.terminal.functions.setAgent(agent.address, True))
    source = suite.publish_source(CLIENTS[1], deliveryMethod=FIRST_RESPONSE)
    receipt = suite.register(agent, source, provider)
    assert suite.events(receipt, suite.nexus, "Registered")[0]["provider"] == provider.address
    suite.deposit(CLIENTS[1], ETHER)
    task = suite.publish_task(CLIENTS[1], source, payment=PAYMENT)
    suite.attempt(agent, task, provider)
    response, _ = suite.submit(agent, task, provider, "by agent")
    assert response.functions.getResponseParams().call()[1] == provider.address
    assert task.functions.winningProvider().call() == provider.address
    # Revoked agents lose the right.
    suite.transact(master, suite.terminal.functions.setAgent(agent.address, False))
    suite.reverts(
        agent,
        suite.nexus.functions.unregister(source.address, provider.address),
        "NotAuthorized",
    )


def test_internal_entry_points_refuse_accounts(suite, market) -> None:
    task = suite.publish_task(CLIENT, market.manual)
    suite.attempt(P1, task, P1)
    response, _ = suite.submit(P1, task, P1, "r")
    t, r, n = task.functions, response.functions, suite.nexus.functions
    for fn in (
        t.attempt(P2.address),
        t.submitResponse(response.address, P1.address),
        t.setStatus(0),
    ):
        suite.reverts(CLIENT, fn, "NotNexus")
    suite.reverts(CLIENT, t.transferOwnership(CLIENTS[1].address), "NotTransferable")
    for fn in (r.confirm(), r.setStatus(CONFIRMED), r.transferOwnership(CLIENT.address)):
        suite.reverts_custom(CLIENT, fn, "OwnableUnauthorizedAccount", CLIENT.address)
    for fn in (
        n.emitTaskPublished(task.address, market.manual.address),
        n.setTaskStatus(task.address, CANCELED),
        n.setResponseStatus(response.address, CONFIRMED),
    ):
        suite.reverts(CLIENT, fn, "NotController")
    d = suite.devnet.deployment
    source_factory = suite.at("SourceFactory", d.source_factory).functions
    task_factory = suite.at("TaskFactory", d.task_factory).functions
    response_factory = suite.at("ResponseFactory", d.response_factory).functions
    assert task_factory.pendingClient().call() == ZERO
    suite.reverts(CLIENT, source_factory.create(suite.source_params(CLIENT)), "NotNexus")
    suite.reverts(
        CLIENT,
        task_factory.create(suite.task_params(market.manual, 1), 0, CLIENT.address),
        "NotController",
    )
    suite.reverts(CLIENT, response_factory.create((task.address, P1.address, "x", 0)), "NotNexus")


def test_admin_confirms_through_nexus(suite, market) -> None:
    task = suite.publish_task(CLIENT, market.manual)
    suite.attempt(P1, task, P1)
    response, _ = suite.submit(P1, task, P1, "r")
    receipt = suite.transact(
        ADMIN, suite.nexus.functions.setResponseStatus(response.address, CONFIRMED)
    )
    assert suite.event_names(receipt, suite.nexus) == [
        "ResponseStatusChanged",
        "TaskStatusChanged",
    ]
    assert _status(task) == FINALIZED
    assert suite.vault.functions.totalEarningsOf(P1.address).call() == PAYMENT
