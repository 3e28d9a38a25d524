"""``fix_nonce`` cancels stuck transactions as 0.2.3's does: one 0-value self-transfer
per stuck nonce at a higher price, then the nonce resynced from the chain.

The stuck transactions wait in ``tests/helpers/mempool.py`` (a loopback proxy with a
mempool) in front of ganache, which validates and mines what the pool hands it.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from eth_account import Account

import ogpu
from ogpu.chain import ChainId
from ogpu.chain.nonce import fix_nonce
from ogpu.devnet import ALL_ACCOUNTS
from ogpu.types.errors import InvalidInputError, MissingSignerError

from ..helpers.ganache import running_ganache
from ..helpers.mempool import Mempool, running_mempool

pytestmark = [pytest.mark.ganache, pytest.mark.slow]

OWNER, OTHER = ALL_ACCOUNTS[0], ALL_ACCOUNTS[1]


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = requests.post(url, json=body, timeout=30).json()
    assert "error" not in answer, answer
    return answer["result"]


def _count(url: str, block: str) -> int:
    return int(_rpc(url, "eth_getTransactionCount", [OWNER.address, block]), 16)


def _balance(url: str, address: str) -> int:
    return int(_rpc(url, "eth_getBalance", [address, "latest"]), 16)


def _stick(url: str, count: int, price_factor: int = 1) -> None:
    """``count`` 1-wei transfers OWNER -> OTHER, held in the pool."""
    price = int(_rpc(url, "eth_gasPrice", []), 16) * price_factor
    first = _count(url, "latest")
    for nonce in range(first, first + count):
        tx = {
            "to": OTHER.address,
            "value": 1,
            "nonce": nonce,
            "gas": 21_000,
            "gasPrice": price,
            "chainId": 1337,
        }
        raw = bytes(Account.sign_transaction(tx, OWNER.key_hex).raw_transaction)
        _rpc(url, "eth_sendRawTransaction", ["0x" + raw.hex()])


@pytest.fixture
def pool() -> Any:
    with (
        running_ganache([OWNER, OTHER]) as node,
        running_mempool(node) as (url, mempool),
        ogpu.using(ChainId.OGPU_DEVNET, rpc=url),
    ):
        yield node, url, mempool


@pytest.mark.parametrize("stuck", [1, 3])
def test_every_stuck_transaction_is_replaced_by_a_self_transfer(
    pool: tuple[str, str, Mempool], stuck: int
) -> None:
    node, url, mempool = pool
    before = _balance(node, OTHER.address)
    _stick(url, stuck)
    assert (_count(url, "latest"), _count(url, "pending")) == (0, stuck)

    assert fix_nonce(private_key=OWNER.key_hex, wait=0) == stuck

    mempool.flush()
    assert _count(node, "latest") == stuck
    assert _balance(node, OTHER.address) == before  # every nonce went to a cancellation


def test_a_stuck_transaction_paying_more_is_left_and_reported(
    pool: tuple[str, str, Mempool], caplog: pytest.LogCaptureFixture
) -> None:
    node, url, mempool = pool
    before = _balance(node, OTHER.address)
    _stick(url, 1, price_factor=2)
    fix_nonce(private_key=OWNER.key_hex, wait=0)
    assert "could not cancel nonce 0" in caplog.text and OWNER.key_hex[2:] not in caplog.text
    mempool.flush()
    assert _balance(node, OTHER.address) == before + 1


def test_nothing_pending_sends_nothing_and_needs_no_key(pool: tuple[str, str, Mempool]) -> None:
    node, _, mempool = pool
    assert fix_nonce(address=OWNER.address) == 0
    assert not mempool.held and _count(node, "latest") == 0


def test_a_foreign_key_no_key_or_a_bad_wait_is_refused_before_any_send(
    pool: tuple[str, str, Mempool], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, mempool = pool
    monkeypatch.delenv("CLIENT_PRIVATE_KEY", raising=False)
    _stick(url, 1)
    held = dict(mempool.held)
    with pytest.raises(InvalidInputError, match="not for"):
        fix_nonce(address=OWNER.address, private_key=OTHER.key_hex)
    with pytest.raises(MissingSignerError):
        fix_nonce(address=OWNER.address)
    for bad in (-1, "3", True, float("nan"), 3600):
        with pytest.raises(InvalidInputError):
            fix_nonce(private_key=OWNER.key_hex, wait=bad)  # type: ignore[arg-type]
    assert mempool.held == held
