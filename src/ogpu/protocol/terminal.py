"""Terminal: master/provider pairing, agents and provider data.

Writes cost one transaction (see ``TxExecutor.execute``); reads one
``eth_call``. Invalid arguments raise ``InvalidInputError`` subclasses before
any RPC.

Every function but ``revoke_agent`` is one Terminal call, generated from
``abis/protocol.json`` (``ogpu_bindings.protocol.terminal``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings.protocol import terminal as _generated
from ogpu_bindings.protocol.terminal import *  # noqa: F403 (the functions, listed in its __all__)
from ogpu_bindings.protocol.terminal import set_agent

from ogpu._lazy import lazy_imports

if TYPE_CHECKING:
    from ogpu.types import Signer

__all__ = _generated.__all__


def revoke_agent(agent: str, *, signer: Signer | None = None) -> Receipt:
    """Shorthand for ``set_agent(agent, False, signer=signer)``."""
    return set_agent(agent, False, signer=signer)


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.types.enums import Role as Role
    from ogpu.types.errors import InvalidSignerError as InvalidSignerError
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
