"""``execute_requests``: many transactions from one account, pipelined, on the devnet over HTTP.

The devnet keeps no mempool: a nonce from the future is rejected, so a
rejected item in a broadcast batch makes every later item fail too. These
tests drive that through the fault-injecting proxy and check each item ends
sent exactly once (or with its typed error) and the account is never stuck.
"""

from __future__ import annotations

from typing import Any

import pytest
from ogpu_bindings import vault as vault_bindings

from ogpu.chain import ChainConfig
from ogpu.devnet import DevnetAccount
from ogpu.protocol import vault
from ogpu.protocol._pipeline import execute_requests
from ogpu.protocol._tx import clock
from ogpu.types import InsufficientBalanceError, OGPUError, Receipt, TxError

from ..helpers.proxy import Fault


def _deposits(account: str, amounts: list[int]) -> list[Any]:
    vault = ChainConfig.get_contract_address("VAULT")
    return [vault_bindings.deposit(vault, account, value=amount) for amount in amounts]


def _nonces(world: Any, outcomes: list[Any]) -> list[int]:
    return [
        int(world.devnet.tester.get_transaction_by_hash(o.tx_hash)["nonce"])
        for o in outcomes
        if isinstance(o, Receipt)
    ]


def _warm(world: Any) -> tuple[DevnetAccount, int]:
    """The client after one deposit (its chain id and nonce cached), and its mined nonce."""
    account: DevnetAccount = world.client
    execute_requests(_deposits(account.address, [1]), account.account)
    return account, world.nonce(account.address)


def test_pipelined_requests_land_in_order_with_few_round_trips(http_world: Any, proxy: Any) -> None:
    account, before = _warm(http_world)
    proxy.reset_counts()

    outcomes = execute_requests(_deposits(account.address, [1, 2, 3, 4, 5, 6]), account.account)

    assert all(isinstance(o, Receipt) and o.status == 1 for o in outcomes)
    assert _nonces(http_world, outcomes) == list(range(before, before + 6))
    assert all(o.timestamp > 0 for o in outcomes)
    assert proxy.count("eth_sendRawTransaction") == 6
    assert proxy.count("eth_estimateGas") == 6
    # estimates + fees, the broadcast, one receipt poll (the devnet mines on arrival),
    # the block headers
    assert proxy.requests == 4


def test_receipts_found_by_the_first_poll_are_returned_without_a_pause(
    http_world: Any, proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the devnet mines on arrival: the first receipt poll finds every receipt, and the
    # engine returns them at once (it used to sleep the first poll pause regardless)
    account = http_world.client
    execute_requests(_deposits(account.address, [1]), account.account)
    pauses: list[float] = []
    real_pause = clock.pause
    monkeypatch.setattr(clock, "pause", lambda s: (pauses.append(s), real_pause(s)))
    proxy.reset_counts()

    outcomes = execute_requests(
        _deposits(account.address, [1, 2, 3]), account.account, timestamps=False
    )

    assert all(isinstance(o, Receipt) and o.status == 1 for o in outcomes)
    assert proxy.count("eth_getTransactionReceipt") == 3  # one poll
    assert pauses == []


def test_a_gas_group_shares_one_estimate_and_every_member_lands(
    http_world: Any, proxy: Any
) -> None:
    account, before = _warm(http_world)
    proxy.reset_counts()

    requests = _deposits(account.address, [1, 2, 3, 4])
    outcomes = execute_requests(
        requests, account.account, gas_groups=["a", "a", "a", "a"], timestamps=False
    )

    assert all(isinstance(o, Receipt) and o.status == 1 for o in outcomes)
    assert _nonces(http_world, outcomes) == list(range(before, before + 4))
    assert proxy.count("eth_estimateGas") == 1
    # every member was signed with the group's limit, which covered what it used
    limits = {
        int(http_world.devnet.tester.get_transaction_by_hash(o.tx_hash)["gas"]) for o in outcomes
    }
    assert len(limits) == 1 and all(o.gas_used < min(limits) for o in outcomes)
    # estimates, the broadcast, one receipt poll; no block headers without timestamps
    assert proxy.requests == 3
    assert all(o.timestamp == 0 for o in outcomes)


def test_the_first_use_nonce_read_rides_with_the_estimates(http_world: Any, proxy: Any) -> None:
    from ogpu.chain.nonce import NonceManager

    account = http_world.client
    execute_requests(_deposits(account.address, [1]), account.account)  # chain id cached
    NonceManager.reset(ChainConfig.get_current_chain(), account.address)
    before = http_world.nonce(account.address)
    proxy.reset_counts()

    outcomes = execute_requests(_deposits(account.address, [1]), account.account)

    assert _nonces(http_world, outcomes) == [before]
    assert proxy.count("eth_getTransactionCount") == 1
    assert proxy.requests == 4  # the nonce read went with the estimates


def test_a_refused_estimate_raises_before_anything_is_sent(http_world: Any, proxy: Any) -> None:
    account = http_world.client
    before = http_world.nonce(account.address)
    poor = 10**30  # more ether than the account holds
    requests = _deposits(account.address, [1, poor, 1])
    with pytest.raises(OGPUError, match=r"^step 1: ") as caught:
        execute_requests(requests, account.account, labels=["step 0", "step 1", "step 2"])
    assert isinstance(caught.value, TxError)
    assert proxy.count("eth_sendRawTransaction") == 0
    assert http_world.nonce(account.address) == before


@pytest.mark.slow
def test_an_underpriced_first_item_is_bumped_and_the_rest_follow(
    http_world: Any, proxy: Any
) -> None:
    account, before = _warm(http_world)
    proxy.add("eth_sendRawTransaction", Fault.RPC_ERROR, message="transaction underpriced")

    outcomes = execute_requests(_deposits(account.address, [1, 2, 3]), account.account)

    assert all(isinstance(o, Receipt) for o in outcomes)
    assert _nonces(http_world, outcomes) == [before, before + 1, before + 2]
    tips = [
        http_world.devnet.tester.get_transaction_by_hash(o.tx_hash)["max_priority_fee_per_gas"]
        for o in outcomes
    ]
    assert tips[0] > tips[1] == tips[2]
    assert http_world.nonce(account.address) == before + 3


@pytest.mark.slow
def test_a_rejected_item_fails_alone_and_its_nonce_gap_is_filled(
    http_world: Any, proxy: Any
) -> None:
    account, before = _warm(http_world)
    proxy.add("eth_sendRawTransaction", Fault.RPC_ERROR, message="intrinsic gas too low")

    outcomes = execute_requests(_deposits(account.address, [1, 2, 3]), account.account)

    assert isinstance(outcomes[0], TxError)
    assert str(outcomes[0]).startswith("transaction 0: ")
    assert [type(o) for o in outcomes[1:]] == [Receipt, Receipt]
    assert _nonces(http_world, outcomes) == [before + 1, before + 2]
    # the gap filler (a zero-value transfer to self) took the failed item's nonce
    assert http_world.nonce(account.address) == before + 3
    follow_up = execute_requests(_deposits(account.address, [4]), account.account)
    assert _nonces(http_world, follow_up) == [before + 3]


def test_a_lost_broadcast_answer_is_resolved_by_hash_lookup(http_world: Any, proxy: Any) -> None:
    account, before = _warm(http_world)
    proxy.add("eth_sendRawTransaction", Fault.DROP_AFTER)

    outcomes = execute_requests(_deposits(account.address, [1, 2]), account.account)

    assert all(isinstance(o, Receipt) for o in outcomes)
    assert http_world.nonce(account.address) == before + 2


def test_a_revert_in_an_estimate_is_the_contracts_typed_error(http_world: Any) -> None:
    account = http_world.client
    vault_address = ChainConfig.get_contract_address("VAULT")
    requests = [
        *_deposits(account.address, [1]),
        vault_bindings.lock(vault_address, vault.get_balance_of(account.address) + 10**18),
    ]
    with pytest.raises(InsufficientBalanceError, match=r"^transaction 1: "):
        execute_requests(requests, account.account)


def test_no_requests_costs_nothing(http_world: Any, proxy: Any) -> None:
    proxy.reset_counts()
    assert execute_requests([], http_world.client.account) == []
    assert proxy.requests == 0
