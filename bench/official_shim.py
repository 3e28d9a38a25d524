"""Point the published ``ogpu==0.2.3`` at a local devnet by overriding its configuration.

Imported only by the benchmark worker running in the official SDK's own venv
(``bench/.venvs/official``), before any workload. The published package has no
devnet support and no setting for the pinning endpoint, so ``configure`` patches
its process-wide state at run time. Nothing on disk is modified.

What is overridden (all in the official package unless noted):

- ``ogpu.chain.config.ChainConfig.CHAIN_CONTRACTS[ChainId.OGPU_MAINNET]``: the
  devnet's NEXUS / CONTROLLER / TERMINAL / VAULT addresses. The devnet reuses the
  mainnet slot because its contracts have exactly the mainnet ABI set (the
  package's ``abis/mainnet`` files are byte-identical to ours) and ``ChainId`` is
  a closed ``Enum``. The chain id itself needs no override: the package never
  hard-codes it; web3 asks the node (``eth_chainId``) when building each
  transaction, and the devnet answers 1337.
- ``ogpu.chain.config.CHAIN_RPC_URLS[OGPU_MAINNET]`` via the package's own
  ``Web3Manager.update_rpc_url`` (which also drops its cached ``Web3``), so sync
  calls go to the given RPC URL (the devnet, or the latency proxy in front of it).
- ``ogpu.events._async_web3._instances``: cleared, so the async watchers build
  their ``AsyncWeb3`` for the new URL.
- ``ogpu.ipfs.publish._IPFS_PUBLISH_URL``: ``<store>/file/create`` instead of
  ``https://capi.ogpuscan.io/file/create`` (the devnet content store answers the
  same multipart request with the same ``{"link": ...}`` JSON).
- Optional web3 compatibility patch (``compat_filters=True``, not a change to the
  SDK's logic): ogpu 0.2.3's watchers call
  ``AsyncContractEvent.create_filter(fromBlock=...)``, a keyword web3 7 renamed
  to ``from_block``; with the web3 7.x the package itself requires, every watcher
  raises ``TypeError`` on its first iteration. The patch maps ``fromBlock``/
  ``toBlock`` to ``from_block``/``to_block`` so the watchers can be measured.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

__all__ = ["configure", "overrides"]

_SINGLETONS = ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")
_patched_filters = False


def _patch_create_filter() -> None:
    global _patched_filters
    if _patched_filters:
        return
    module = importlib.import_module("web3.contract.async_contract")
    event_class: Any = module.AsyncContractEvent
    raw = event_class.__dict__["create_filter"]  # an eth_utils ``combomethod``
    original = getattr(raw, "method", raw)

    @functools.wraps(original)
    async def create_filter(self: Any, **kwargs: Any) -> Any:
        if "fromBlock" in kwargs:
            kwargs["from_block"] = kwargs.pop("fromBlock")
        if "toBlock" in kwargs:
            kwargs["to_block"] = kwargs.pop("toBlock")
        return await original(self, **kwargs)

    event_class.create_filter = type(raw)(create_filter) if raw is not original else create_filter
    _patched_filters = True


def configure(
    rpc_url: str,
    store_url: str,
    contracts: dict[str, str],
    *,
    compat_filters: bool = True,
) -> None:
    """Aim the official SDK at ``rpc_url`` / ``store_url`` with the devnet's ``contracts``.

    ``contracts`` maps ``nexus``/``controller``/``terminal``/``vault`` (any case)
    to addresses. No RPC. Raises ``KeyError`` when a singleton is missing.
    """
    config: Any = importlib.import_module("ogpu.chain.config")
    web3_module: Any = importlib.import_module("ogpu.chain.web3")
    publish: Any = importlib.import_module("ogpu.ipfs.publish")
    async_web3: Any = importlib.import_module("ogpu.events._async_web3")

    lowered = {k.lower(): v for k, v in contracts.items()}
    chain = config.ChainId.OGPU_MAINNET
    config.ChainConfig.CHAIN_CONTRACTS[chain] = {n: lowered[n.lower()] for n in _SINGLETONS}
    config.ChainConfig.set_chain(chain)
    config.ChainConfig._loaded_abis.pop(chain, None)
    web3_module.Web3Manager.update_rpc_url(chain, rpc_url)
    async_web3._instances.clear()
    publish._IPFS_PUBLISH_URL = store_url.rstrip("/") + "/file/create"
    if compat_filters:
        _patch_create_filter()


def overrides() -> dict[str, Any]:
    """The values currently in effect (for the results file). No RPC."""
    config: Any = importlib.import_module("ogpu.chain.config")
    publish: Any = importlib.import_module("ogpu.ipfs.publish")
    chain = config.ChainConfig.get_current_chain()
    return {
        "chain_slot": chain.name,
        "contracts": dict(config.ChainConfig.CHAIN_CONTRACTS[chain]),
        "rpc_url": config.CHAIN_RPC_URLS[chain],
        "ipfs_publish_url": publish._IPFS_PUBLISH_URL,
        "compat_create_filter_patch": _patched_filters,
    }
