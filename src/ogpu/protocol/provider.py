"""``Provider``: provider-scoped view over Terminal, Vault and Nexus.

Its methods are generated (``ogpu_bindings.protocol.provider``, from
``abis/protocol.json``); the source scan is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import source as source_abi
from ogpu_bindings.protocol.provider import ProviderBase

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.protocol import nexus

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


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.types.errors import ProviderNotFoundError as ProviderNotFoundError
    from ogpu.types.receipt import Receipt as Receipt
    from ogpu.types.snapshots import ProviderSnapshot as ProviderSnapshot
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
