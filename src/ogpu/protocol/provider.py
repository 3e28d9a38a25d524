"""``Provider``: provider-scoped view over Terminal, Vault and Nexus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import source as source_abi
from ogpu_bindings import terminal as terminal_abi

from ogpu.protocol import _bindings as b
from ogpu.protocol import nexus as nexus_fns
from ogpu.protocol import terminal as terminal_fns
from ogpu.protocol._account import VaultAccount, vault_fields
from ogpu.types.errors import ProviderNotFoundError
from ogpu.types.receipt import Receipt
from ogpu.types.snapshots import ProviderSnapshot

if TYPE_CHECKING:
    from ogpu.protocol.source import Source
    from ogpu.types import Signer


class Provider(VaultAccount):
    """A provider address; methods delegate to the module functions with it filled in.

    ``Provider(address)`` does no RPC; ``Provider.load(address)`` requires
    ``Terminal.isProvider``. Responses and base/live data are written by the
    provider's runtime, not from here.
    """

    __slots__ = ()

    @classmethod
    def load(cls, address: str, chain: object = None) -> Provider:
        """Construct and check ``Terminal.isProvider``. One ``eth_call``.

        Raises:
            ProviderNotFoundError: not an announced provider.
            InvalidAddressError: malformed address. RPCError: the node failed.
        """
        provider = cls(address, chain)
        if not provider.is_provider():
            raise ProviderNotFoundError(
                message=f"{provider.address} is not a provider", address=provider.address
            )
        return provider

    def get_master(self) -> str:
        """Paired master (zero address when unpaired). One ``eth_call``."""
        return terminal_fns.get_master_of(self.address)

    def get_base_data(self) -> str:
        """Base data URL. One ``eth_call``."""
        return terminal_fns.get_base_data_of(self.address)

    def get_live_data(self) -> str:
        """Live data URL. One ``eth_call``."""
        return terminal_fns.get_live_data_of(self.address)

    def is_provider(self) -> bool:
        """``Terminal.isProvider``. One ``eth_call``."""
        return terminal_fns.is_provider(self.address)

    def get_default_agent_disabled(self) -> bool:
        """Whether the default scheduling agent is disabled. One ``eth_call``."""
        return terminal_fns.is_default_agent_disabled(self.address)

    def get_registered_sources(self) -> list[Source]:
        """Sources this provider is registered to.

        Nexus keeps no per-provider index, so this lists every source (one
        request per ~600) and checks all registrations in one more request.
        """
        sources = nexus_fns.get_sources()
        if not sources:
            return []
        _, ids = b.read_many(
            [source_abi.get_registrant_id_call(s.address, self.address) for s in sources]
        )
        return [s for s, registrant in zip(sources, ids, strict=True) if int(registrant) != 0]

    def announce_master(self, master: str, *, signer: Signer | None = None) -> Receipt:
        """``terminal.announce_master(master)``; the provider's key (``PROVIDER_PRIVATE_KEY``)."""
        return terminal_fns.announce_master(master, signer=signer)

    def set_default_agent_disabled(self, value: bool, *, signer: Signer | None = None) -> Receipt:
        """``terminal.set_default_agent_disabled(value)``; the provider's key."""
        return terminal_fns.set_default_agent_disabled(value, signer=signer)

    def register_to(self, source: str, env: int, *, signer: Signer | None = None) -> Receipt:
        """``nexus.register(source, self.address, env)``; provider, master or agent signs."""
        return nexus_fns.register(source, self.address, env, signer=signer)

    def unregister_from(self, source: str, *, signer: Signer | None = None) -> Receipt:
        """``nexus.unregister(source, self.address)``."""
        return nexus_fns.unregister(source, self.address, signer=signer)

    def attempt(
        self, task: str, suggested_payment: int, *, signer: Signer | None = None
    ) -> Receipt:
        """``nexus.attempt(task, self.address, suggested_payment)``."""
        return nexus_fns.attempt(task, self.address, suggested_payment, signer=signer)

    def snapshot(self) -> ProviderSnapshot:
        """Terminal and Vault state from one block in ONE ``eth_call``.

        Raises:
            RPCError: the node failed.
        """
        terminal = b.singleton("TERMINAL")
        a = self.address
        calls = [
            terminal_abi.master_of_call(terminal, a),
            terminal_abi.base_data_of_call(terminal, a),
            terminal_abi.live_data_of_call(terminal, a),
            terminal_abi.is_provider_call(terminal, a),
            terminal_abi.default_agent_disabled_call(terminal, a),
            *self.vault_calls(),
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
