"""Vault: deposits, withdrawals, lockup/unbonding cycle, admin settings, protocol-only calls."""

from __future__ import annotations

from ogpu.devnet import ADMIN, CLIENTS, MASTERS, PROVIDERS
from ogpu.devnet.deploy import DEFAULT_MIN_LOCKUP_PER_SOURCE, DEFAULT_UNBONDING_PERIOD

ETHER = 10**18
ZERO = "0x" + "00" * 20


def test_devnet_defaults(suite) -> None:
    v = suite.vault.functions
    assert v.MIN_LOCKUP_PER_SOURCE().call() == DEFAULT_MIN_LOCKUP_PER_SOURCE
    assert v.UNBONDING_PERIOD().call() == DEFAULT_UNBONDING_PERIOD
    assert v.manager().call() == suite.manager.address
    assert v.nexus().call() == suite.nexus.address
    assert v.terminal().call() == suite.terminal.address


def test_deposit_and_withdraw(suite) -> None:
    alice, bob = CLIENTS[0], CLIENTS[1]
    v = suite.vault.functions
    receipt = suite.deposit(alice, 3 * ETHER)
    assert suite.events(receipt, suite.vault, "Deposited") == [
        {"account": alice.address, "amount": 3 * ETHER}
    ]
    # Deposit for someone else: the beneficiary is credited, not the payer.
    suite.transact(alice, v.deposit(bob.address), value=ETHER)
    assert v.balanceOf(alice.address).call() == 3 * ETHER
    assert v.getBalanceOf(bob.address).call() == ETHER

    coin_before = suite.w3.eth.get_balance(alice.address)
    receipt = suite.transact(alice, v.withdraw(2 * ETHER))
    assert suite.events(receipt, suite.vault, "Withdrawn") == [
        {"account": alice.address, "amount": 2 * ETHER}
    ]
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert suite.w3.eth.get_balance(alice.address) == coin_before + 2 * ETHER - fee
    assert v.balanceOf(alice.address).call() == ETHER

    suite.reverts(alice, v.withdraw(ETHER + 1), "InsufficientBalance")
    suite.reverts(alice, v.withdraw(0), "ZeroAmount")
    suite.reverts(alice, v.deposit(alice.address), "ZeroAmount")
    suite.reverts(alice, v.deposit(ZERO), "InvalidAddress", value=1)


def test_lock_unbond_claim_cycle(suite) -> None:
    p = PROVIDERS[0]
    v = suite.vault.functions
    suite.deposit(p, 5 * ETHER)
    receipt = suite.transact(p, v.lock(4 * ETHER))
    assert suite.events(receipt, suite.vault, "Locked") == [
        {"account": p.address, "amount": 4 * ETHER}
    ]
    assert suite.buckets(p.address) == {
        "balance": ETHER,
        "frozen": 0,
        "lockup": 4 * ETHER,
        "unbonding": 0,
        "sanction": 0,
    }
    assert v.getLockupOf(p.address).call() == 4 * ETHER
    suite.reverts(p, v.lock(2 * ETHER), "InsufficientBalance")
    suite.reverts(p, v.unbond(5 * ETHER), "InsufficientLockup")
    suite.reverts(p, v.claim(), "NothingUnbonding")
    suite.reverts(p, v.cancelUnbonding(), "NothingUnbonding")

    receipt = suite.transact(p, v.unbond(3 * ETHER))
    unbond_time = suite.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert suite.events(receipt, suite.vault, "Unbonded") == [
        {"account": p.address, "amount": 3 * ETHER}
    ]
    assert v.unbondingOf(p.address).call() == 3 * ETHER
    assert v.lockupOf(p.address).call() == ETHER
    assert v.unbondingTimestamp(p.address).call() == unbond_time + DEFAULT_UNBONDING_PERIOD
    suite.reverts(p, v.claim(), "UnbondingNotElapsed")

    # Cancel returns the unbonding amount to the lockup.
    receipt = suite.transact(p, v.cancelUnbonding())
    assert suite.events(receipt, suite.vault, "UnbondingCanceled") == [
        {"account": p.address, "amount": 3 * ETHER}
    ]
    assert v.lockupOf(p.address).call() == 4 * ETHER
    assert v.unbondingOf(p.address).call() == 0
    assert v.unbondingTimestamp(p.address).call() == 0

    suite.transact(p, v.unbond(2 * ETHER))
    suite.devnet.advance_time(DEFAULT_UNBONDING_PERIOD + 1)
    receipt = suite.transact(p, v.claim())
    assert suite.events(receipt, suite.vault, "Claimed") == [
        {"account": p.address, "amount": 2 * ETHER}
    ]
    assert suite.buckets(p.address) == {
        "balance": 3 * ETHER,
        "frozen": 0,
        "lockup": 2 * ETHER,
        "unbonding": 0,
        "sanction": 0,
    }
    suite.transact(p, v.withdraw(3 * ETHER))


def test_admin_settings(suite) -> None:
    v = suite.vault.functions
    stranger = CLIENTS[0]
    suite.transact(ADMIN, v.setMinLockupPerSource(7))
    suite.transact(ADMIN, v.setMaxUnbondingPeriod(5))
    assert v.MIN_LOCKUP_PER_SOURCE().call() == 7
    assert v.UNBONDING_PERIOD().call() == 5
    suite.reverts(stranger, v.setMinLockupPerSource(1), "NotAdmin")
    suite.reverts(stranger, v.setMaxUnbondingPeriod(1), "NotAdmin")
    suite.reverts(stranger, v.setWhitelist(stranger.address, True), "NotAdmin")
    suite.reverts(stranger, v.setTerminal(stranger.address), "NotAdmin")
    suite.reverts(stranger, v.sanction(stranger.address, 1), "NotAdmin")
    suite.reverts(stranger, v.waive(stranger.address, 1), "NotAdmin")
    suite.reverts(stranger, v.withdrawSanctionOf(stranger.address), "NotAdmin")
    suite.reverts(stranger, v.emergencyExit(stranger.address), "NotAdmin")
    suite.reverts(stranger, v.forceReleasePayment(stranger.address, stranger.address), "NotAdmin")

    # The new period applies to the next unbond.
    p = PROVIDERS[0]
    suite.deposit(p, ETHER)
    suite.transact(p, v.lock(ETHER))
    receipt = suite.transact(p, v.unbond(ETHER))
    unbond_time = suite.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert v.unbondingTimestamp(p.address).call() == unbond_time + 5


def test_eligibility_sanction_and_waive(suite) -> None:
    p = PROVIDERS[1]
    v = suite.vault.functions
    assert not v.isEligible(p.address).call()
    suite.deposit(p, 2 * ETHER)
    suite.transact(p, v.lock(ETHER))
    assert v.isEligible(p.address).call()

    receipt = suite.transact(ADMIN, v.sanction(p.address, ETHER // 2))
    assert suite.events(receipt, suite.vault, "Sanctioned") == [
        {"account": p.address, "amount": ETHER // 2}
    ]
    assert v.sanctionOf(p.address).call() == ETHER // 2
    assert v.sanctionedAmount().call() == ETHER // 2
    assert v.lockupOf(p.address).call() == ETHER // 2
    assert not v.isEligible(p.address).call()
    suite.reverts(ADMIN, v.sanction(p.address, ETHER), "InsufficientLockup")
    suite.reverts(ADMIN, v.waive(p.address, ETHER), "InsufficientSanction")

    receipt = suite.transact(ADMIN, v.waive(p.address, ETHER // 4))
    assert suite.events(receipt, suite.vault, "Waived") == [
        {"account": p.address, "amount": ETHER // 4}
    ]
    assert v.lockupOf(p.address).call() == 3 * ETHER // 4

    suite.transact(ADMIN, v.setWhitelist(p.address, True))
    assert v.isWhitelisted(p.address).call()
    assert v.isEligible(p.address).call()

    admin_coin = suite.w3.eth.get_balance(ADMIN.address)
    receipt = suite.transact(ADMIN, v.withdrawSanctionOf(p.address))
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert suite.w3.eth.get_balance(ADMIN.address) == admin_coin + ETHER // 4 - fee
    assert v.sanctionOf(p.address).call() == 0
    assert v.sanctionedAmount().call() == 0
    suite.reverts(ADMIN, v.withdrawSanctionOf(p.address), "ZeroAmount")


def test_emergency_exit_pays_liquid_locked_and_unbonding(suite) -> None:
    p = PROVIDERS[2]
    v = suite.vault.functions
    suite.deposit(p, 6 * ETHER)
    suite.transact(p, v.lock(4 * ETHER))
    suite.transact(p, v.unbond(ETHER))
    coin = suite.w3.eth.get_balance(p.address)
    receipt = suite.transact(ADMIN, v.emergencyExit(p.address))
    assert suite.events(receipt, suite.vault, "Withdrawn") == [
        {"account": p.address, "amount": 6 * ETHER}
    ]
    assert suite.w3.eth.get_balance(p.address) == coin + 6 * ETHER
    assert sum(suite.buckets(p.address).values()) == 0
    suite.reverts(ADMIN, v.emergencyExit(p.address), "ZeroAmount")


def test_protocol_entry_points_refuse_accounts(suite) -> None:
    v = suite.vault.functions
    client, task = CLIENTS[0], MASTERS[0]
    suite.deposit(client, ETHER)
    suite.reverts(client, v.freezePayment(client.address, task.address, 1), "NotController")
    suite.reverts(client, v.releasePayment(client.address, task.address), "NotController")
    suite.reverts(
        client,
        v.processPayment(client.address, client.address, task.address, 1),
        "NotController",
    )
    suite.reverts(client, v.depositLockup(client.address), "NotTerminal", value=1)
    # The admin route still needs an escrow to release.
    suite.reverts(ADMIN, v.forceReleasePayment(client.address, task.address), "NotEscrowed")
