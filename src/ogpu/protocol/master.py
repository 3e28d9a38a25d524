"""``Master``: master-scoped view over Terminal and Vault.

Its methods are generated (``ogpu_bindings.protocol.master``, from ``abis/protocol.json``);
the snapshot is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings import terminal as terminal_abi
from ogpu_bindings.protocol.master import MasterBase
from ogpu_bindings.runtime import ContractCall

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.protocol._account import vault_calls, vault_fields
from ogpu.types.snapshots import MasterSnapshot


class Master(MasterBase):
    """A master address; methods delegate to the module functions with it filled in.

    ``Master(address)`` does no RPC; ``Master.load(address)`` requires
    ``Terminal.isMaster``. Writes default to ``MASTER_PRIVATE_KEY``; vault
    writes need an explicit signer.
    """

    __slots__ = ()

    def snapshot(self) -> MasterSnapshot:
        """Terminal and Vault state from one block in ONE ``eth_call``.

        Raises:
            RPCError: the node failed.
        """
        terminal = b.singleton("TERMINAL")
        calls: list[ContractCall[Any]] = [
            terminal_abi.provider_of_call(terminal, self.address),
            terminal_abi.is_master_call(terminal, self.address),
            *vault_calls(self.address),
        ]
        block, values = b.read_many(calls)
        provider, is_master = values[:2]
        return MasterSnapshot(
            address=self.address,
            provider=str(provider),
            is_master=bool(is_master),
            **vault_fields(values[2:]),
            block_number=block,
        )


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.types.errors import MasterNotFoundError as MasterNotFoundError
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
