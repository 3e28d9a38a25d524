"""NonceManager's official 0.2.3 methods (``get_nonce``, ``reserve_nonce``, ``release_nonce``,
``increment_nonce``, ``reset_nonce``, ``get_cached_nonce(address, web3)``) on the in-process
devnet. They share one book with ``TxExecutor``: a nonce taken by hand is never reused by an
SDK write, and the reverse."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ogpu.chain import WEB3, NonceManager
from ogpu.devnet import CLIENTS
from ogpu.protocol import vault
from ogpu.types import InvalidAddressError, InvalidInputError

from ..helpers.wait import run_concurrently


def _send_by_hand(net: Any, account: Any, nonce: int) -> None:
    """A zero-value self-transfer signed with ``nonce``, sent outside the SDK's executor."""
    w3 = net.w3
    tx = {
        "chainId": 1337,
        "nonce": nonce,
        "to": account.address,
        "value": 0,
        "gas": 21_000,
        "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    signed = account.account.sign_transaction(tx)
    w3.eth.send_raw_transaction(signed.raw_transaction)


def test_reserve_nonce_from_8_threads_is_distinct_and_consecutive(net: Any) -> None:
    account = CLIENTS[2].address
    start = net.tester.get_nonce(account)
    w3 = WEB3()
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()  # all eight race for the first reservation together
        for _ in range(5):
            nonce = NonceManager.reserve_nonce(account, w3)
            with lock:
                got.append(nonce)

    run_concurrently([take] * 8, timeout=60)
    assert len(got) == 40
    assert sorted(got) == list(range(start, start + 40))
    assert NonceManager.get_cached_nonce(account, w3) == start + 40


def test_a_hand_reservation_and_the_executor_share_one_book(net: Any) -> None:
    client = CLIENTS[0]
    w3 = WEB3()
    start = net.tester.get_nonce(client.address)
    mine = NonceManager.reserve_nonce(client.address, w3)
    assert mine == start
    _send_by_hand(net, client, mine)
    # the SDK's write takes the next nonce from the same book (no collision, no resync)
    receipt = vault.deposit(client.address, 1, signer=client.account)
    sent = w3.eth.get_transaction(receipt.tx_hash)
    assert sent["nonce"] == start + 1
    assert NonceManager.get_cached_nonce(client.address, w3) == start + 2
    # the legacy forms read the same slot
    assert NonceManager.get_cached_nonce(1337, client.address) == start + 2
    assert NonceManager.get_cached_nonce(client.address, chain_id=1337) == start + 2


def test_release_nonce_hands_it_to_the_next_reservation(net: Any) -> None:
    client = CLIENTS[1]
    w3 = WEB3()
    start = net.tester.get_nonce(client.address)
    first = NonceManager.reserve_nonce(client.address, w3)
    second = NonceManager.reserve_nonce(client.address, w3)
    assert (first, second) == (start, start + 1)
    NonceManager.release_nonce(client.address, first, w3)  # not the latest: kept aside
    assert NonceManager.reserve_nonce(client.address, w3) == first
    NonceManager.release_nonce(client.address, second, w3)
    NonceManager.release_nonce(client.address, first, w3)
    # every reservation handed back: the SDK's next write uses the first nonce again
    receipt = vault.deposit(client.address, 1, signer=client.account)
    assert w3.eth.get_transaction(receipt.tx_hash)["nonce"] == start


def test_release_nonce_below_the_latest_the_official_way(net: Any) -> None:
    """0.2.3 drops the whole cache when a nonce below the latest comes back (the next
    reservation re-reads the chain); ours keeps it aside. ``reset_nonce`` after the
    release gives the official behaviour."""
    client = CLIENTS[1]
    w3 = WEB3()
    start = net.tester.get_nonce(client.address)
    first = NonceManager.reserve_nonce(client.address, w3)
    NonceManager.reserve_nonce(client.address, w3)
    NonceManager.release_nonce(client.address, first, w3)
    assert NonceManager.get_cached_nonce(client.address, w3) == first  # ours: kept aside
    NonceManager.reset_nonce(client.address, w3)  # the official outcome
    assert NonceManager.get_cached_nonce(client.address, w3) is None
    assert NonceManager.reserve_nonce(client.address, w3) == start  # read from the chain


def test_get_nonce_reconciles_and_increment_nonce_marks_it_used(net: Any) -> None:
    client = CLIENTS[2]
    w3 = WEB3()
    start = net.tester.get_nonce(client.address)
    assert NonceManager.get_cached_nonce(client.address, w3) is None
    assert NonceManager.get_nonce(client.address, w3) == start
    assert NonceManager.get_nonce(client.address, w3) == start  # not reserving
    # a transaction from elsewhere: the next read picks it up from the chain
    _send_by_hand(net, client, start)
    assert NonceManager.get_cached_nonce(client.address, w3) == start  # stale until read
    assert NonceManager.get_nonce(client.address, w3) == start + 1
    # the official manual flow: read, send by hand, increment
    nonce = NonceManager.get_nonce(client.address, w3)
    _send_by_hand(net, client, nonce)
    NonceManager.increment_nonce(client.address, w3)
    assert NonceManager.get_cached_nonce(client.address, w3) == nonce + 1
    receipt = vault.deposit(client.address, 1, signer=client.account)
    assert w3.eth.get_transaction(receipt.tx_hash)["nonce"] == nonce + 1
    # force_refresh drops the book's view for the chain's
    NonceManager.release(1337, client.address, nonce + 5)  # ignored: above the book
    assert NonceManager.get_nonce(client.address, w3, force_refresh=True) == nonce + 2
    NonceManager.reset_nonce(client.address, w3)
    assert NonceManager.get_cached_nonce(client.address, w3) is None
    NonceManager.increment_nonce(client.address, w3)  # nothing cached: nothing happens
    assert NonceManager.get_cached_nonce(client.address, w3) is None


def test_bad_arguments_are_typed(net: Any) -> None:
    w3 = WEB3()
    with pytest.raises(InvalidAddressError):
        NonceManager.reserve_nonce("0x1234", w3)
    with pytest.raises(InvalidInputError):
        NonceManager.get_cached_nonce(CLIENTS[0].address)


def test_a_web3_of_its_own_reaches_the_same_book(net: Any) -> None:
    """A ``Web3`` the SDK did not build is placed by its ``eth_chainId`` (asked once)."""
    from web3 import Web3

    client = CLIENTS[0]
    own = Web3(net.w3.provider)
    assert own is not WEB3()
    reserved = NonceManager.reserve_nonce(client.address, own)
    assert NonceManager.get_cached_nonce(client.address, WEB3()) == reserved + 1
    assert NonceManager.get_cached_nonce(1337, client.address) == reserved + 1
    NonceManager.release_nonce(client.address, reserved, own)
    assert NonceManager.get_cached_nonce(client.address, own) == reserved
