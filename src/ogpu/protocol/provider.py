"""``Provider``: provider-scoped view over Terminal, Vault and Nexus.

Its methods are generated (``ogpu_bindings.protocol.provider``, from ``abis/protocol.json``);
the source scan and the snapshot are here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings import source as source_abi
from ogpu_bindings import terminal as terminal_abi
from ogpu_bindings.protocol.provider import ProviderBase
from ogpu_bindings.runtime import ContractCall

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.protocol import nexus
from ogpu.protocol._account import vault_calls, vault_fields
from ogpu.types.snapshots import ProviderSnapshot

if TYPE_CHECKING:
    from ogpu.protocol.source import Source


class Provider(ProviderBase):
    """A provider address; methods delegate to the module functions with it filled in.

    ``Provider(address)`` does no RPC; ``Provider.load(address)`` requires
    ``Terminal.isProvider``. Responses and base/live data are written by the
    provider's runtime, not from here.
    """

    __slots__ = ()

    def get_registered_sources(self) -> list[Source]:
        """Sources this provider is registered to.

        Nexus keeps no per-provider index, so this lists every source (one
        request per ~600) and checks all registrations in one more request.
        """
        sources = nexus.get_sources()
        if not sources:
            return []
        _, ids = b.read_many(
            [source_abi.get_registrant_id_call(s.address, self.address) for s in sources]
        )
        return [s for s, registrant in zip(sources, ids, strict=True) if int(registrant) != 0]

    def snapshot(self) -> ProviderSnapshot:
        """Terminal and Vault state from one block in ONE ``eth_call``.

        Raises:
            RPCError: the node failed.
        """
        terminal = b.singleton("TERMINAL")
        a = self.address
        calls: list[ContractCall[Any]] = [
            terminal_abi.master_of_call(terminal, a),
            terminal_abi.base_data_of_call(terminal, a),
            terminal_abi.live_data_of_call(terminal, a),
            terminal_abi.is_provider_call(terminal, a),
            terminal_abi.default_agent_disabled_call(terminal, a),
            *vault_calls(a),
        ]
        block, values = b.read_many(calls)
        master, base, live, is_provider, disabled = values[:5]
        return ProviderSnapshot(
            address=a,
            master=str(master),
            base_data=str(base),
            live_data=str(live),
            is_provider=bool(is_provider),
            default_agent_disabled=bool(disabled),
            **vault_fields(values[5:]),
            block_number=block,
        )


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.types.errors import ProviderNotFoundError as ProviderNotFoundError
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
