"""``Master``: master-scoped view over Terminal and Vault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import terminal as terminal_abi

from ogpu.protocol import _bindings as b
from ogpu.protocol import terminal as terminal_fns
from ogpu.protocol._account import VaultAccount, vault_fields
from ogpu.types.errors import MasterNotFoundError
from ogpu.types.receipt import Receipt
from ogpu.types.snapshots import MasterSnapshot

if TYPE_CHECKING:
    from ogpu.types import Signer


class Master(VaultAccount):
    """A master address; methods delegate to the module functions with it filled in.

    ``Master(address)`` does no RPC; ``Master.load(address)`` requires
    ``Terminal.isMaster``. Writes default to ``MASTER_PRIVATE_KEY``; vault
    writes need an explicit signer.
    """

    __slots__ = ()

    @classmethod
    def load(cls, address: str, chain: object = None) -> Master:
        """Construct and check ``Terminal.isMaster``. One ``eth_call``.

        Raises:
            MasterNotFoundError: not a master.
            InvalidAddressError: malformed address. RPCError: the node failed.
        """
        master = cls(address, chain)
        if not master.is_master():
            raise MasterNotFoundError(
                message=f"{master.address} is not a master", address=master.address
            )
        return master

    def get_provider(self) -> str:
        """Paired provider (zero address when unpaired). One ``eth_call``."""
        return terminal_fns.get_provider_of(self.address)

    def is_master(self) -> bool:
        """``Terminal.isMaster``. One ``eth_call``."""
        return terminal_fns.is_master(self.address)

    def announce_provider(
        self, provider: str, amount: int, *, signer: Signer | None = None
    ) -> Receipt:
        """``terminal.announce_provider(provider, amount)``, sending ``amount`` wei."""
        return terminal_fns.announce_provider(provider, amount, signer=signer)

    def remove_provider(self, provider: str, *, signer: Signer | None = None) -> Receipt:
        """``terminal.remove_provider(provider)``."""
        return terminal_fns.remove_provider(provider, signer=signer)

    def remove_container(
        self, provider: str, source: str, *, signer: Signer | None = None
    ) -> Receipt:
        """``terminal.remove_container(provider, source)`` (emits an event only)."""
        return terminal_fns.remove_container(provider, source, signer=signer)

    def set_agent(self, agent: str, value: bool, *, signer: Signer | None = None) -> Receipt:
        """``terminal.set_agent(agent, value)`` as this master (default ``MASTER_PRIVATE_KEY``)."""
        from ogpu.chain.signer import resolve_signer
        from ogpu.types.enums import Role

        return terminal_fns.set_agent(agent, value, signer=resolve_signer(signer, Role.MASTER))

    def snapshot(self) -> MasterSnapshot:
        """Terminal and Vault state from one block in ONE ``eth_call``.

        Raises:
            RPCError: the node failed.
        """
        terminal = b.singleton("TERMINAL")
        calls = [
            terminal_abi.provider_of_call(terminal, self.address),
            terminal_abi.is_master_call(terminal, self.address),
            *self.vault_calls(),
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
