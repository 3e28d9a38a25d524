"""Moved to :mod:`ogpu.devnet.connect` (``from ogpu.devnet import connect_devnet``); these
names stay importable from here."""

from __future__ import annotations

from ogpu.devnet.connect import (
    ADMIN_ADDRESS,
    DEFAULT_DEVNET_RPC_URL,
    ENV_DEPLOYMENT,
    ENV_RPC_URL,
    DevnetConnection,
    connect_devnet,
    deterministic_addresses,
    load_deployment,
)

__all__ = [
    "ADMIN_ADDRESS",
    "DEFAULT_DEVNET_RPC_URL",
    "ENV_DEPLOYMENT",
    "ENV_RPC_URL",
    "DevnetConnection",
    "connect_devnet",
    "deterministic_addresses",
    "load_deployment",
]
