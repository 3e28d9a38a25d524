"""``Master``: master-scoped view over Terminal and Vault.

Its methods are generated (``ogpu_bindings.protocol.master``, from ``abis/protocol.json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings.protocol.master import MasterBase

from ogpu._lazy import lazy_imports


class Master(MasterBase):
    """A master address; methods delegate to the module functions with it filled in.

    ``Master(address)`` does no RPC; ``Master.load(address)`` requires
    ``Terminal.isMaster``. Writes default to ``MASTER_PRIVATE_KEY``; vault
    writes need an explicit signer.
    """

    __slots__ = ()


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.types.errors import MasterNotFoundError as MasterNotFoundError
    from ogpu.types.receipt import Receipt as Receipt
    from ogpu.types.snapshots import MasterSnapshot as MasterSnapshot
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
