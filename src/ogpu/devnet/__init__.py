"""Local devnet: reference contracts, deterministic accounts, in-process chain.

``deploy_suite``/``Deployment`` and the accounts need only web3. ``Devnet``
(the in-process eth-tester chain) needs the optional extra
``pip install 'ogpu[devnet]'``; it is imported on first access, and a missing
eth-tester raises :class:`DevnetDependencyError` then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu.devnet.accounts import (
    ADMIN,
    AGENTS,
    ALL_ACCOUNTS,
    CLIENTS,
    DEFAULT_BALANCE_WEI,
    DEVNET_CHAIN_ID,
    MASTERS,
    PROVIDERS,
    DevnetAccount,
    DevnetRole,
)
from ogpu.devnet.deploy import (
    Deployment,
    DeploymentError,
    DevnetDependencyError,
    DevnetError,
    DevnetInputError,
    deploy_suite,
    load_artifact,
)

if TYPE_CHECKING:
    from ogpu.devnet.chain import Devnet

__all__ = [
    "ADMIN",
    "AGENTS",
    "ALL_ACCOUNTS",
    "CLIENTS",
    "DEFAULT_BALANCE_WEI",
    "DEVNET_CHAIN_ID",
    "MASTERS",
    "PROVIDERS",
    "Deployment",
    "DeploymentError",
    "Devnet",
    "DevnetAccount",
    "DevnetDependencyError",
    "DevnetError",
    "DevnetInputError",
    "DevnetRole",
    "deploy_suite",
    "load_artifact",
]


def __getattr__(name: str) -> Any:
    if name == "Devnet":
        from ogpu.devnet.chain import Devnet  # raises DevnetDependencyError without eth-tester

        return Devnet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
