"""The supported chains and what is built in for each: network name, default RPC URL,
singleton addresses. Constants only (the state that changes lives in
:mod:`ogpu.chain.context`).
"""

from __future__ import annotations

from enum import IntEnum
from typing import NoReturn

from ogpu_bindings import NETWORK_INFO

from ogpu.errors import UnknownChainError, not_a_member, shown

__all__ = [
    "CHAIN_NETWORKS",
    "DEFAULT_RPC_URLS",
    "DEVNET_DEFAULT_CONTRACTS",
    "PROTOCOL_CONTRACTS",
    "SINGLETONS",
    "ChainId",
    "coerce_chain",
    "default_contracts",
]


class ChainId(IntEnum):
    """Supported networks, valued by their EIP-155 chain id."""

    OGPU_MAINNET = 1071
    OGPU_TESTNET = 200820172034
    OGPU_DEVNET = 1337

    @classmethod
    def _missing_(cls, value: object) -> NoReturn:
        raise not_a_member(cls, value)


#: The eight protocol contracts: every chain's ABI set has ``<Name>Abi.json`` for each.
PROTOCOL_CONTRACTS = (
    "Nexus",
    "Controller",
    "Terminal",
    "Vault",
    "Manager",
    "Source",
    "Task",
    "Response",
)

#: Network name (in ``ogpu_bindings.NETWORK_INFO``) of each chain.
CHAIN_NETWORKS: dict[ChainId, str] = {
    ChainId.OGPU_MAINNET: "mainnet",
    ChainId.OGPU_TESTNET: "testnet",
    ChainId.OGPU_DEVNET: "devnet",
}

#: The built-in default RPC URL of each chain.
DEFAULT_RPC_URLS: dict[ChainId, str] = {
    chain: NETWORK_INFO[name].default_rpc for chain, name in CHAIN_NETWORKS.items()
}

#: Keys of a chain's singleton address table.
SINGLETONS = ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")

#: The singletons of a default devnet: the contract-creation addresses of the devnet
#: ADMIN account's nonces 2, 4, 1 and 3 (``ogpu.devnet.deploy_suite`` from nonce 0).
#: Constants, so ``import ogpu.chain`` derives no key; the tests check them.
DEVNET_DEFAULT_CONTRACTS: dict[str, str] = {
    "NEXUS": "0xA7Ad664Cc17123F619D761c75378fBEd4Ab71232",
    "CONTROLLER": "0x2800257431a5649667c7a65d436cfD8181e87827",
    "TERMINAL": "0x7D25FE915738590b20A8D9E13d1bb3C249bd5638",
    "VAULT": "0xC87179140d3E2c040956EdB1FFfC1E591a51871D",
}


def default_contracts() -> dict[ChainId, dict[str, str]]:
    """A fresh copy of the built-in singleton addresses of every chain that has them. No I/O."""
    table = {
        chain: {name.upper(): address for name, address in NETWORK_INFO[net].addresses.items()}
        for chain, net in CHAIN_NETWORKS.items()
        if NETWORK_INFO[net].addresses
    }
    table[ChainId.OGPU_DEVNET] = dict(DEVNET_DEFAULT_CONTRACTS)
    return table


def coerce_chain(chain: ChainId | int) -> ChainId:
    """``chain`` as a :class:`ChainId`. No I/O.

    Raises:
        UnknownChainError: not a supported chain id (a ChainNotSupportedError and a ValueError).
    """
    try:
        return ChainId(int(chain))
    except Exception as exc:  # int() runs the caller's __int__/__index__
        raise UnknownChainError(
            message=f"chain {shown(chain)} is not supported; pass a ChainId or its int value"
        ) from exc
