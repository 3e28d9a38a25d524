"""Names the official SDK's protocol modules expose besides their own functions.

Its modules import ``TxExecutor``, ``load_contract``, ``resolve_signer``,
``fetch_ipfs_json``... at module level, so user code imports them from there
(``from ogpu.protocol.nexus import TxExecutor``). Ours provide the same names on
first access (module ``__getattr__``), so importing a protocol module still
loads neither web3, requests nor pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ogpu._lazy import lazy_attributes

__all__ = ["official_names"]

#: Where each re-exported name lives.
_HOMES = {
    "InvalidSignerError": "ogpu.types.errors",
    "Receipt": "ogpu.types.receipt",
    "Role": "ogpu.types.enums",
    "SourceParams": "ogpu.types.params",
    "TaskParams": "ogpu.types.params",
    "REVERT_PATTERN_MAP": "ogpu.protocol._revert",
    "TxExecutor": "ogpu.protocol._executor",
    "ZERO_ADDRESS": "ogpu.protocol._bindings",
    "decode_revert": "ogpu.protocol._revert",
    "fetch_ipfs_json": "ogpu.ipfs.fetch",
    "load_contract": "ogpu.protocol._base",
    "resolve_signer": "ogpu.chain.signer",
}


def official_names(
    module: str, namespace: dict[str, Any], *names: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` giving ``module`` the official ``names``. No import
    until a name is read."""
    return lazy_attributes(module, {name: _HOMES[name] for name in names}, namespace)
