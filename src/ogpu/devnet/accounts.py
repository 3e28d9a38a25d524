"""Deterministic devnet accounts (public test keys; never use them on a real network).

Every key is derived from a fixed, documented seed::

    key = keccak256(f"ogpu-devnet/{role}/{index}".encode())

with ``role`` one of ``admin``, ``client``, ``master``, ``provider``, ``agent``.
``ADMIN`` deploys the suite and holds the Manager's admin role. Everything here
is pure computation: no RPC, no eth-tester needed. Exported through ``ogpu.devnet``
(its ``__all__`` is the one list of the public names).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.constants import SECPK1_N
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from ogpu.devnet.deploy import DevnetInputError

DEVNET_CHAIN_ID = 1337
"""Chain id of every devnet (in-process and ``ogpu devnet``)."""

DEFAULT_BALANCE_WEI = 10_000 * 10**18
"""Genesis balance of each devnet account (10 000 ether)."""

ACCOUNTS_PER_ROLE = 3


class DevnetRole(str, enum.Enum):
    """The role a devnet account is meant to play."""

    ADMIN = "admin"
    CLIENT = "client"
    MASTER = "master"
    PROVIDER = "provider"
    AGENT = "agent"


def derive_key(role: DevnetRole | str, index: int) -> bytes:
    """Return the 32-byte private key for ``(role, index)``; no RPC.

    Raises ``DevnetInputError`` (a ``ValueError``) for an unknown role or a
    negative/non-int index.
    """
    try:
        role_value = DevnetRole(role).value
    except ValueError:
        raise DevnetInputError(f"unknown devnet role {role!r}") from None
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise DevnetInputError(f"index must be a non-negative int, got {index!r}")
    key = keccak(f"ogpu-devnet/{role_value}/{index}".encode())
    if not 0 < int.from_bytes(key, "big") < SECPK1_N:  # pragma: no cover - 2**-128 odds
        raise DevnetInputError(f"seed for {role_value}/{index} is not a valid secp256k1 key")
    return key


@dataclass(frozen=True)
class DevnetAccount:
    """A funded devnet account. ``repr``/``str`` never show the key."""

    role: DevnetRole
    index: int
    address: ChecksumAddress
    key: bytes = field(repr=False)

    @classmethod
    def derive(cls, role: DevnetRole | str, index: int) -> DevnetAccount:
        """Build the account for ``(role, index)`` from its seed; no RPC."""
        key = derive_key(role, index)
        address = Account.from_key(key).address
        return cls(role=DevnetRole(role), index=index, address=address, key=key)

    @property
    def account(self) -> LocalAccount:
        """An ``eth_account`` signer for this key; no RPC."""
        signer: LocalAccount = Account.from_key(self.key)
        return signer

    @property
    def key_hex(self) -> str:
        """The private key as ``0x``-prefixed hex (for env vars such as ``CLIENT_PRIVATE_KEY``)."""
        return "0x" + self.key.hex()


ADMIN = DevnetAccount.derive(DevnetRole.ADMIN, 0)
CLIENTS = tuple(DevnetAccount.derive(DevnetRole.CLIENT, i) for i in range(ACCOUNTS_PER_ROLE))
MASTERS = tuple(DevnetAccount.derive(DevnetRole.MASTER, i) for i in range(ACCOUNTS_PER_ROLE))
PROVIDERS = tuple(DevnetAccount.derive(DevnetRole.PROVIDER, i) for i in range(ACCOUNTS_PER_ROLE))
AGENTS = tuple(DevnetAccount.derive(DevnetRole.AGENT, i) for i in range(ACCOUNTS_PER_ROLE))
ALL_ACCOUNTS: tuple[DevnetAccount, ...] = (ADMIN, *CLIENTS, *MASTERS, *PROVIDERS, *AGENTS)
