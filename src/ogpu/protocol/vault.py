"""Vault: deposits, stake (lockup), unbonding, earnings.

Writes require an explicit ``signer=``: there is no environment-variable
fallback (``MissingSignerError`` otherwise). Writes cost one transaction (see
``TxExecutor.execute``); reads one ``eth_call``. Invalid arguments raise
``InvalidInputError`` subclasses before any RPC.

Every function is one Vault call, generated from ``abis/protocol.json``
(``ogpu_bindings.protocol.vault``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings.protocol import vault as _generated
from ogpu_bindings.protocol.vault import *  # noqa: F403 (the functions, listed in its __all__)

from ogpu._lazy import lazy_imports

__all__ = _generated.__all__

# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
