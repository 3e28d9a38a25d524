"""Point the SDK at a running devnet: contract addresses, chain selection, content store.

How the addresses are found (first match wins):

1. ``deployment=``: a mapping with ``nexus``/``controller``/``terminal``/``vault``,
   or a path to a JSON file holding either ``Deployment.to_json()`` (what
   ``ogpu devnet deploy --json`` prints) or the line ``ogpu devnet --json``
   prints (its ``"deployment"`` key);
2. the ``OGPU_DEVNET_DEPLOYMENT`` environment variable (such a file's path);
3. the deterministic addresses: ``ogpu devnet`` (and the in-process
   ``Devnet``) deploys the suite from the fixed ADMIN account starting at
   nonce 0, so Manager, Terminal, Nexus, Vault and Controller are the
   contract-creation addresses of ADMIN's nonces 0 to 4.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ogpu.abi.keccak import keccak256, to_checksum_address
from ogpu.chain import ChainConfig, ChainId, Web3Manager, rpc
from ogpu.types import ConfigError, InvalidInputError

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

DEFAULT_DEVNET_RPC_URL = "http://127.0.0.1:8545"
ENV_RPC_URL = "OGPU_RPC_URL"
ENV_DEPLOYMENT = "OGPU_DEVNET_DEPLOYMENT"
_SINGLETONS = ("nexus", "controller", "terminal", "vault")
DEVNET_CHAIN_ID = int(ChainId.OGPU_DEVNET)
#: ADMIN's address: ogpu.devnet.accounts derives it from its documented seed (a test checks
#: they agree); a constant here, so connecting to a devnet loads no eth-account or web3.
ADMIN_ADDRESS = "0xA1F30DC6528b7b2f03F06a126aa1547532a55c85"
# Deployment order of ogpu.devnet.deploy.deploy_suite (ADMIN's nonces).
_NONCES = {"manager": 0, "terminal": 1, "nexus": 2, "vault": 3, "controller": 4}


@dataclass(frozen=True)
class DevnetConnection:
    """The devnet the SDK now talks to."""

    rpc_url: str
    nexus: str
    controller: str
    terminal: str
    vault: str
    store_url: str | None
    origin: str
    """Where the addresses came from: ``"deterministic"``, ``"mapping"`` or a file path."""

    def addresses(self) -> dict[str, str]:
        """The four singleton addresses, keyed by lower-case contract name. No I/O."""
        return {name: getattr(self, name) for name in _SINGLETONS}


def _create_address(sender: str, nonce: int) -> str:
    """CREATE's address: keccak(rlp([sender, nonce]))[12:], for nonces 0..127 (one RLP byte)."""
    body = b"\x94" + bytes.fromhex(sender[2:]) + (bytes([nonce]) if nonce else b"\x80")
    return to_checksum_address(keccak256(bytes([0xC0 + len(body)]) + body)[12:].hex())


def deterministic_addresses() -> dict[str, str]:
    """Addresses of a suite deployed by ADMIN from nonce 0 (what ``ogpu devnet`` runs). No I/O."""
    return {name: _create_address(ADMIN_ADDRESS, n) for name, n in _NONCES.items()}


def _pick(raw: Mapping[str, Any], origin: str) -> dict[str, str]:
    nested = raw.get("deployment")
    if isinstance(nested, Mapping):
        raw = nested
    found: dict[str, str] = {}
    for name in _SINGLETONS:
        value = raw.get(name, raw.get(name.upper()))
        if not isinstance(value, str):
            raise InvalidInputError(f"{origin} has no {name} address", param="deployment")
        found[name] = value
    return found


def load_deployment(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read the singleton addresses from a deployment JSON file. Reads one file, no RPC.

    Raises:
        InvalidInputError: unreadable file, not JSON, or an address is missing.
    """
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"cannot read deployment file {path}: {exc}", param="deployment"
        ) from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"deployment file {path} is not JSON: {exc}", param="deployment"
        ) from None
    if not isinstance(raw, Mapping):
        raise InvalidInputError(
            f"deployment file {path} must hold a JSON object", param="deployment"
        )
    return _pick(raw, f"deployment file {path}")


def _resolve(
    deployment: Mapping[str, Any] | str | os.PathLike[str] | None,
) -> tuple[dict[str, str], str]:
    if isinstance(deployment, Mapping):
        return _pick(deployment, "deployment"), "mapping"
    if deployment is not None:
        return load_deployment(deployment), str(deployment)
    env_path = os.environ.get(ENV_DEPLOYMENT, "").strip()
    if env_path:
        return load_deployment(env_path), env_path
    addresses = deterministic_addresses()
    return {name: addresses[name] for name in _SINGLETONS}, "deterministic"


def _check_node(url: str, nexus: str, origin: str) -> None:
    chain_id = Web3Manager.probe_chain_id(url)
    if chain_id != DEVNET_CHAIN_ID:
        raise ConfigError(
            f"{url} serves chain id {chain_id}, not the devnet ({DEVNET_CHAIN_ID}); "
            "pick the matching --chain"
        )
    try:
        code = rpc.to_bytes(rpc.request(url, "eth_getCode", [nexus, "latest"]))
    except (rpc.NodeError, rpc.TransportError, rpc.ExecutionReverted) as exc:
        raise ConfigError(f"cannot read code at {nexus} from {url}: {exc}") from None
    if not code:
        hint = (
            "is `ogpu devnet` running there? For a suite deployed with `ogpu devnet deploy`, "
            f"pass its --json output as the deployment file (or set {ENV_DEPLOYMENT})"
        )
        raise ConfigError(
            f"no OpenGPU contracts at Nexus {nexus} ({origin} address) on {url}; {hint}"
        )


def connect_devnet(
    rpc_url: str | None = None,
    *,
    deployment: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    store_url: str | None = None,
    check: bool = True,
) -> DevnetConnection:
    """Select the devnet as the SDK's active chain, served at ``rpc_url``.

    ``rpc_url`` defaults to ``$OGPU_RPC_URL``, else ``http://127.0.0.1:8545``.
    Addresses are resolved as the module doc says. ``store_url`` (the devnet
    content store, when not on the RPC host's port 5001) is registered for
    ``ogpu.ipfs`` (its ``devnet`` backend, ahead of ``OGPU_IPFS_*``). Changes the
    current context (process-wide, or the enclosing ``ogpu.using`` block's).

    Cost: with ``check`` (default), two RPCs (``eth_chainId``, ``eth_getCode``
    at Nexus); without, none.

    Raises:
        InvalidInputError: bad deployment file or mapping, malformed address or URL.
        InvalidRpcUrlError: the node cannot be reached.
        ConfigError: the node is not a devnet, or no suite is deployed at the addresses.
    """
    url = rpc_url or os.environ.get(ENV_RPC_URL, "").strip() or DEFAULT_DEVNET_RPC_URL
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"RPC URL must be an http(s) URL, got {url!r}", param="rpc_url")
    addresses, origin = _resolve(deployment)
    ChainConfig.use_devnet(addresses, rpc=url)
    if store_url is not None:
        if not store_url.startswith(("http://", "https://")):
            raise InvalidInputError(
                f"store URL must be an http(s) URL, got {store_url!r}", param="store_url"
            )
        from ogpu.chain.context import current

        current().ipfs_store = store_url.rstrip("/")
    resolved = {n: ChainConfig.get_contract_address(n.upper()) for n in _SINGLETONS}
    if check:
        _check_node(url, resolved["nexus"], origin)
    return DevnetConnection(rpc_url=url, store_url=store_url, origin=origin, **resolved)
