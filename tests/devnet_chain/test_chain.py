"""The in-process Devnet: chain id, funding, deterministic deployment, time and snapshots."""

from __future__ import annotations

import pytest
import rlp
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from ogpu.devnet import (
    ADMIN,
    ALL_ACCOUNTS,
    CLIENTS,
    DEFAULT_BALANCE_WEI,
    DEVNET_CHAIN_ID,
    Devnet,
    DevnetInputError,
    load_artifact,
)

from ..helpers.wait import run_concurrently

# Deterministic addresses (ADMIN deploys from nonce 0); documentation relies on them.
PINNED = {
    "manager": "0xcaC5e5643F3f995C0C7eb351345D053ACb0bAA29",
    "terminal": "0x7D25FE915738590b20A8D9E13d1bb3C249bd5638",
    "nexus": "0xA7Ad664Cc17123F619D761c75378fBEd4Ab71232",
    "vault": "0xC87179140d3E2c040956EdB1FFfC1E591a51871D",
    "controller": "0x2800257431a5649667c7a65d436cfD8181e87827",
}


def create_address(sender: str, nonce: int) -> str:
    raw = keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:]
    return Web3.to_checksum_address(raw)


def test_chain_id(devnet: Devnet) -> None:
    assert devnet.w3.eth.chain_id == DEVNET_CHAIN_ID == devnet.chain_id == 1337
    assert devnet.w3.net.version == "1337"
    assert devnet.deployment.chain_id == 1337


def test_accounts_are_funded(devnet: Devnet) -> None:
    assert devnet.accounts == ALL_ACCOUNTS
    assert devnet.w3.eth.accounts == [a.address for a in ALL_ACCOUNTS]
    for account in ALL_ACCOUNTS[1:]:
        assert devnet.w3.eth.get_balance(account.address) == DEFAULT_BALANCE_WEI
    spent = DEFAULT_BALANCE_WEI - devnet.w3.eth.get_balance(ADMIN.address)
    assert 0 < spent < 10**18  # deployment gas only


def test_deployment_is_deterministic(devnet: Devnet) -> None:
    d = devnet.deployment
    order = [
        d.manager,
        d.terminal,
        d.nexus,
        d.vault,
        d.controller,
        d.source_factory,
        d.response_factory,
        d.task_factory,
    ]
    assert order == [create_address(ADMIN.address, i) for i in range(8)]
    assert {name: getattr(d, name) for name in PINNED} == PINNED
    assert d.deployer == ADMIN.address
    assert d.block_number == devnet.block_number() == 13
    assert devnet.w3.eth.get_transaction_count(ADMIN.address) == 13
    for name, address in (
        ("Manager", d.manager),
        ("Terminal", d.terminal),
        ("Nexus", d.nexus),
        ("Vault", d.vault),
        ("Controller", d.controller),
    ):
        assert bytes(devnet.w3.eth.get_code(address)) == load_artifact(name).deployed_bytecode
    for address in (d.source_factory, d.task_factory, d.response_factory):
        assert len(devnet.w3.eth.get_code(address)) > 0


def test_send_transaction_from_unlocked_account(devnet: Devnet) -> None:
    sender, receiver = CLIENTS[0], CLIENTS[1]
    tx_hash = devnet.w3.eth.send_transaction(
        {"from": sender.address, "to": receiver.address, "value": 5}
    )
    assert devnet.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert devnet.w3.eth.get_balance(receiver.address) == DEFAULT_BALANCE_WEI + 5


def test_reverts_carry_revert_data(devnet: Devnet) -> None:
    vault = devnet.w3.eth.contract(address=devnet.deployment.vault, abi=load_artifact("Vault").abi)
    with pytest.raises(ContractLogicError) as info:
        vault.functions.withdraw(1).call({"from": CLIENTS[0].address})
    assert info.value.message == "execution reverted: InsufficientBalance"
    assert isinstance(info.value.data, str) and info.value.data.startswith("0x08c379a0")
    with pytest.raises(ContractLogicError):
        vault.functions.withdraw(1).estimate_gas({"from": CLIENTS[0].address})

    terminal = devnet.w3.eth.contract(
        address=devnet.deployment.terminal, abi=load_artifact("Terminal").abi
    )
    with pytest.raises(ContractCustomError) as custom:
        terminal.functions.setVault(CLIENTS[0].address).call({"from": CLIENTS[0].address})
    selector = keccak(text="OwnableUnauthorizedAccount(address)")[:4].hex()
    assert custom.value.data == "0x" + selector + "00" * 12 + CLIENTS[0].address[2:].lower()


def test_advance_time_and_mine(devnet: Devnet) -> None:
    devnet.mine()  # after a revert the latest block's time may lag the wall clock
    for seconds in (1, 2, 3600, 86_400):
        before, number = devnet.timestamp(), devnet.block_number()
        after = devnet.advance_time(seconds)
        assert after == devnet.timestamp() >= before + seconds
        if seconds >= 3600:  # well beyond any wall-clock drift during the test
            assert after == before + seconds
        assert devnet.block_number() == number + 1
        assert devnet.w3.eth.get_block("latest")["timestamp"] == after
    number = devnet.block_number()
    assert devnet.mine() == number + 1
    assert devnet.mine(5) == number + 6 == devnet.w3.eth.block_number


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "10", None])
def test_bad_input_is_refused(devnet: Devnet, bad: object) -> None:
    with pytest.raises(DevnetInputError):
        devnet.advance_time(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # DevnetInputError is a ValueError
        devnet.mine(bad)  # type: ignore[arg-type]


def test_snapshot_and_revert(devnet: Devnet) -> None:
    w3, sender = devnet.w3, CLIENTS[0]
    start_number, start_balance = devnet.block_number(), w3.eth.get_balance(sender.address)
    snapshot = devnet.snapshot()
    w3.eth.send_transaction({"from": sender.address, "to": CLIENTS[1].address, "value": 10**18})
    devnet.advance_time(1000)
    assert w3.eth.get_balance(sender.address) < start_balance
    devnet.revert(snapshot)
    assert devnet.block_number() == start_number
    assert w3.eth.get_balance(sender.address) == start_balance
    # Snapshots stay usable after a revert.
    devnet.mine(3)
    devnet.revert(snapshot)
    assert devnet.block_number() == start_number
    with pytest.raises(DevnetInputError):
        devnet.revert(10**9)
    with pytest.raises(DevnetInputError):
        devnet.revert(-1)


def test_lock_is_reentrant_and_shared(devnet: Devnet) -> None:
    start = devnet.block_number()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                with devnet.lock:
                    devnet.mine()  # takes the lock again
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = run_concurrently([work] * 4, timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert devnet.block_number() == start + 20


def test_repr_has_no_keys(devnet: Devnet) -> None:
    text = repr(devnet)
    assert "1337" in text and devnet.deployment.nexus in text
    for account in ALL_ACCOUNTS:
        assert account.key.hex() not in text


def test_constructor_validates_before_building_a_chain() -> None:
    with pytest.raises(DevnetInputError):
        Devnet(accounts=CLIENTS)
    with pytest.raises(DevnetInputError):
        Devnet(balance_wei=0)
    with pytest.raises(DevnetInputError):
        Devnet(accounts=[ADMIN, "0x00"])  # type: ignore[list-item]
