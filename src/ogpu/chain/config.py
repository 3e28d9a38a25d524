"""Chain selection, singleton contract addresses, RPC URLs and ABI loading.

``ChainConfig`` is the official facade over the SDK's state (:mod:`ogpu.chain.context`):
the active chain, the RPC URL of each chain and the singleton contract addresses,
process-wide unless changed inside an ``ogpu.using(...)`` block. Mainnet is the
default chain. The devnet (``ChainId.OGPU_DEVNET``, default RPC ``http://127.0.0.1:8545``)
starts with the addresses every default devnet has (``ogpu devnet`` and the
in-process ``Devnet`` deploy from the same account and nonces); another
deployment is registered with ``ChainConfig.use_devnet(deployment)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import ogpu_bindings
from ogpu_bindings import NETWORK_INFO

from ogpu.chain.context import Context, check_rpc_url, current, normalize_contracts
from ogpu.chain.networks import (
    CHAIN_NETWORKS,
    DEFAULT_RPC_URLS,
    DEVNET_DEFAULT_CONTRACTS,
    SINGLETONS,
    ChainId,
)
from ogpu.chain.networks import coerce_chain as _coerce_chain
from ogpu.types.errors import (
    AbiNotFoundError,
    ChainNotSupportedError,
    InvalidInputError,
    InvalidRpcUrlError,
    shown,
)

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "CHAIN_NETWORKS",
    "CHAIN_RPC_URLS",
    "DEFAULT_RPC_URLS",
    "DEVNET_DEFAULT_CONTRACTS",
    "ChainConfig",
    "ChainId",
]

_V = TypeVar("_V")

# Installed copies first (package data), then the repository's abis/ (editable install).
_ABI_DIR_CANDIDATES = (
    Path(__file__).resolve().parent / "abis",
    Path(ogpu_bindings.__file__).resolve().parent / "abis",
    Path(__file__).resolve().parents[3] / "abis",
)


class _Live(MutableMapping[ChainId, _V]):
    """A per-chain table of the current context, as a live mapping (the official SDK's
    ``CHAIN_RPC_URLS`` and ``ChainConfig.CHAIN_CONTRACTS`` are plain dicts)."""

    def __init__(self, table: Callable[[Context], dict[ChainId, _V]]) -> None:
        self._table = table

    def __getitem__(self, chain: ChainId) -> _V:
        return self._table(current())[chain]

    def __setitem__(self, chain: ChainId, value: _V) -> None:
        self._table(current())[_coerce_chain(chain)] = value

    def __delitem__(self, chain: ChainId) -> None:
        del self._table(current())[chain]

    def __iter__(self) -> Iterator[ChainId]:
        return iter(list(self._table(current())))

    def __len__(self) -> int:
        return len(self._table(current()))

    def __repr__(self) -> str:
        return repr(self._table(current()))


#: The RPC URL currently in use for each chain (a live view of the current context).
CHAIN_RPC_URLS: MutableMapping[ChainId, str] = _Live(lambda state: state.rpc_urls)


class ChainConfig:
    """The official facade over the current context's chain settings (class methods;
    no RPC unless noted)."""

    #: Singleton addresses per chain (``"NEXUS"``...); ``use_devnet`` replaces the devnet's.
    CHAIN_CONTRACTS: ClassVar[MutableMapping[ChainId, dict[str, str]]] = _Live(
        lambda state: state.contracts
    )

    #: ABI set (``ogpu_bindings.<set>``) of each chain.
    CHAIN_DIRECTORIES: ClassVar[dict[ChainId, str]] = {
        chain: NETWORK_INFO[name].abi_set for chain, name in CHAIN_NETWORKS.items()
    }

    # Parsed ABI files: constants of the installed package, so not part of the context.
    _loaded_abis: ClassVar[dict[tuple[str, str], list[dict[str, Any]]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def set_chain(cls, chain_id: ChainId | int) -> None:
        """Make ``chain_id`` the active chain. No RPC.

        ``OGPU_DEVNET`` uses the default devnet's addresses unless ``use_devnet``
        registered others.

        Raises:
            ChainNotSupportedError: unknown chain, or one without registered addresses.
        """
        chain = _coerce_chain(chain_id)
        if chain not in cls.CHAIN_CONTRACTS:
            raise ChainNotSupportedError(
                message=f"{chain.name} has no contract addresses; register them with "
                "ChainConfig.register_contracts"
            )
        current().chain = chain

    @classmethod
    def get_current_chain(cls) -> ChainId:
        """Return the active chain. No RPC."""
        return current().chain

    @classmethod
    def get_network(cls, chain: ChainId | int | None = None) -> str:
        """Return the ABI set name (``"mainnet"``/``"testnet"``) of a chain. No RPC."""
        target = current().chain if chain is None else _coerce_chain(chain)
        return cls.CHAIN_DIRECTORIES[target]

    @classmethod
    def get_contract_address(cls, contract_name: str, chain: ChainId | int | None = None) -> str:
        """Return the checksummed address of a singleton (``"NEXUS"``, ``"VAULT"``...). No RPC.

        Raises:
            ChainNotSupportedError: the chain has no registered addresses.
            InvalidInputError: ``contract_name`` is not a singleton.
        """
        target = current().chain if chain is None else _coerce_chain(chain)
        contracts = cls.CHAIN_CONTRACTS.get(target)
        if contracts is None:
            raise ChainNotSupportedError(
                message=f"{target.name} has no registered contract addresses"
            )
        key = contract_name.upper() if isinstance(contract_name, str) else None
        if key not in contracts:
            raise InvalidInputError(
                f"unknown singleton contract {shown(contract_name)}; expected one of {SINGLETONS}"
            )
        return contracts[key]

    @classmethod
    def get_all_supported_chains(cls) -> list[ChainId]:
        """Return every chain that currently has contract addresses. No RPC."""
        return list(cls.CHAIN_CONTRACTS)

    @classmethod
    def register_contracts(cls, chain: ChainId | int, addresses: Mapping[str, str]) -> None:
        """Register (or replace) the singleton addresses of a chain. No RPC.

        Raises:
            InvalidInputError: a singleton is missing or an address is malformed.
        """
        current().contracts[_coerce_chain(chain)] = normalize_contracts(addresses)

    @classmethod
    def use_devnet(
        cls,
        deployment: object = None,
        rpc: str | None = None,
        *,
        web3: Web3 | None = None,
    ) -> None:
        """Register a devnet deployment and make ``OGPU_DEVNET`` the active chain.

        ``deployment`` is any object with ``nexus``/``controller``/``terminal``/
        ``vault`` address attributes (``ogpu.devnet``'s ``Deployment``), or a
        mapping with those keys; None means a default devnet's addresses
        (``DEVNET_DEFAULT_CONTRACTS``). Pass ``web3`` to use an in-process
        provider (used as is: share it across threads only if it is
        thread-safe), or ``rpc`` to talk to an HTTP devnet; with neither, the
        devnet's RPC URL in use (default ``http://127.0.0.1:8545``, where
        ``ogpu devnet`` listens). So ``use_devnet()`` selects a default local
        devnet. No RPC (``ogpu.devnet.connect_devnet`` also checks the node).

        Raises:
            InvalidInputError: a singleton address is missing or malformed.
        """
        table = normalize_contracts(DEVNET_DEFAULT_CONTRACTS if deployment is None else deployment)
        from ogpu.chain.web3 import Web3Manager

        state = current()
        with state.lock:  # one step for threads sharing this context
            state.contracts[ChainId.OGPU_DEVNET] = table
            if web3 is not None:
                Web3Manager.set_web3_instance(ChainId.OGPU_DEVNET, web3)
            elif rpc is not None:
                Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, rpc)
            state.chain = ChainId.OGPU_DEVNET

    @classmethod
    def get_chain_abi_directory(cls) -> Path:
        """Return the directory holding the active chain's ABI JSON files. No RPC.

        Raises:
            AbiNotFoundError: no ABI directory is installed (a FileNotFoundError).
        """
        network = cls.get_network()
        for base in _ABI_DIR_CANDIDATES:
            candidate = base / network
            if candidate.is_dir():
                return candidate
        raise AbiNotFoundError(
            message=f"no ABI directory found for network {network!r}", network=network
        )

    @classmethod
    def load_abi(cls, abi_name: str) -> list[dict[str, Any]]:
        """Return the parsed ABI (e.g. ``"NexusAbi"``) of the active chain, cached. No RPC.

        Raises:
            AbiNotFoundError: no such ABI file for the active chain (a FileNotFoundError).
        """
        # a plain file name only: no path out of the ABI directory, none the OS rejects
        if not isinstance(abi_name, str) or not abi_name.isidentifier() or len(abi_name) > 100:
            raise AbiNotFoundError(
                message=f"ABI file not found: {shown(abi_name)}", network=cls.get_network()
            )
        network = cls.get_network()
        key = (network, abi_name)
        cached = cls._loaded_abis.get(key)
        if cached is not None:
            return cached
        path = cls.get_chain_abi_directory() / f"{abi_name}.json"
        if not path.is_file():
            raise AbiNotFoundError(
                message=f"ABI file not found: {path}", abi_name=abi_name, network=network
            )
        data: list[dict[str, Any]] = json.loads(path.read_text())
        with cls._lock:
            cls._loaded_abis[key] = data
        return data

    @classmethod
    def set_rpc(cls, url: str, chain: ChainId | int | None = None) -> None:
        """Use ``url`` as the RPC endpoint of ``chain`` (default: the active chain).

        Probes the endpoint with one ``eth_chainId`` request and checks the
        answer matches the chain, then drops the cached Web3 of that chain.

        Raises:
            InvalidRpcUrlError: the URL is malformed, unreachable, or serves another chain.
        """
        target = current().chain if chain is None else _coerce_chain(chain)
        check_rpc_url(url)
        from ogpu.chain.web3 import Web3Manager

        remote = Web3Manager.probe_chain_id(url)
        if remote != int(target):
            raise InvalidRpcUrlError(
                message=f"{url} serves chain id {remote}, expected {int(target)} ({target.name})"
            )
        Web3Manager.update_rpc_url(target, url)

    @classmethod
    def get_rpc(cls, chain: ChainId | int | None = None) -> str:
        """Return the RPC URL in use for ``chain`` (default: the active chain). No RPC."""
        target = current().chain if chain is None else _coerce_chain(chain)
        return CHAIN_RPC_URLS[target]

    @classmethod
    def reset_rpc(cls, chain: ChainId | int | None = None) -> None:
        """Restore the built-in default RPC URL of ``chain`` (default: the active chain). No RPC."""
        target = current().chain if chain is None else _coerce_chain(chain)
        from ogpu.chain.web3 import Web3Manager

        Web3Manager.update_rpc_url(target, DEFAULT_RPC_URLS[target])
