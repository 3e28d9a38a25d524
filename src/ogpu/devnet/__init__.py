"""Local devnet: reference contracts, deterministic accounts, in-process chain, and
``connect_devnet`` to point the SDK at a running one (``ogpu devnet``).

``deploy_suite``/``Deployment`` and the accounts need only web3. ``Devnet``
(the in-process eth-tester chain) needs the optional extra
``pip install 'ogpu[devnet]'``; it is imported on first access, and a missing
eth-tester raises :class:`DevnetDependencyError` then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports

if TYPE_CHECKING:
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
    from ogpu.devnet.chain import Devnet
    from ogpu.devnet.connect import DevnetConnection, connect_devnet, load_deployment
    from ogpu.devnet.deploy import (
        Deployment,
        DeploymentError,
        DevnetDependencyError,
        DevnetError,
        DevnetInputError,
        deploy_suite,
        load_artifact,
    )
else:  # loaded on first access: connect_devnet loads neither web3 nor eth-account; the
    # accounts and the deployer do; Devnet needs eth-tester (DevnetDependencyError without)
    __getattr__, __dir__ = lazy_imports(__name__, globals())


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
    "DevnetConnection",
    "DevnetDependencyError",
    "DevnetError",
    "DevnetInputError",
    "DevnetRole",
    "connect_devnet",
    "deploy_suite",
    "load_artifact",
    "load_deployment",
]
