"""Deterministic devnet accounts."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from ogpu.devnet import (
    ADMIN,
    AGENTS,
    ALL_ACCOUNTS,
    CLIENTS,
    MASTERS,
    PROVIDERS,
    DevnetAccount,
    DevnetInputError,
    DevnetRole,
)
from ogpu.devnet.accounts import derive_key
from ogpu.types import InvalidInputError


def test_keys_follow_the_documented_seed() -> None:
    for account in ALL_ACCOUNTS:
        seed = f"ogpu-devnet/{account.role.value}/{account.index}".encode()
        assert account.key == keccak(seed)
        assert Account.from_key(account.key).address == account.address
        assert account.account.address == account.address
        assert account.key_hex == "0x" + keccak(seed).hex()


def test_roles_and_counts() -> None:
    assert ADMIN.role is DevnetRole.ADMIN
    groups = {
        DevnetRole.CLIENT: CLIENTS,
        DevnetRole.MASTER: MASTERS,
        DevnetRole.PROVIDER: PROVIDERS,
        DevnetRole.AGENT: AGENTS,
    }
    for role, group in groups.items():
        assert len(group) >= 3
        assert [a.role for a in group] == [role] * len(group)
        assert [a.index for a in group] == list(range(len(group)))
    addresses = [a.address for a in ALL_ACCOUNTS]
    assert len(set(addresses)) == len(addresses) == 1 + sum(len(g) for g in groups.values())


def test_pinned_admin_address() -> None:
    # Docs and deterministic contract addresses depend on it.
    assert ADMIN.address == "0xA1F30DC6528b7b2f03F06a126aa1547532a55c85"


def test_repr_hides_the_key() -> None:
    for account in ALL_ACCOUNTS:
        for text in (repr(account), str(account), f"{account}"):
            assert account.key.hex() not in text
            assert account.key.hex().upper() not in text.upper()
            assert account.address in text


def test_derive_rejects_bad_input() -> None:
    with pytest.raises(DevnetInputError):
        derive_key("miner", 0)
    for index in (-1, 1.0, True, "0"):
        with pytest.raises(InvalidInputError):
            derive_key(DevnetRole.CLIENT, index)  # type: ignore[arg-type]
    assert DevnetAccount.derive("client", 1) == CLIENTS[1]
