"""Terminal: master/provider pairing, agents and provider data.

Writes cost one transaction (see ``TxExecutor.execute``); reads one
``eth_call``. Invalid arguments raise ``InvalidInputError`` subclasses before
any RPC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import terminal as terminal_abi
from ogpu_bindings.runtime import TxRequest

from ogpu.protocol import _bindings as b
from ogpu.protocol._common import transact
from ogpu.protocol._compat import official_names
from ogpu.types.enums import Role
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.types import Signer

__all__ = [
    "announce_master",
    "announce_provider",
    "get_base_data_of",
    "get_live_data_of",
    "get_master_of",
    "get_provider_of",
    "is_agent_of",
    "is_default_agent_disabled",
    "is_master",
    "is_provider",
    "remove_container",
    "remove_provider",
    "revoke_agent",
    "set_agent",
    "set_default_agent_disabled",
]


def _address() -> str:
    return b.singleton("TERMINAL")


def set_agent(agent: str, value: bool, *, signer: Signer | None = None) -> Receipt:
    """Call ``Terminal.setAgent(agent, value)``: authorize (True) or revoke an agent.

    The signer is a client or a master (default ``CLIENT_PRIVATE_KEY``).

    Raises:
        NotAuthorizedError: the signer is a provider.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(lambda: terminal_abi.set_agent(_address(), agent, value), signer, Role.CLIENT)


def revoke_agent(agent: str, *, signer: Signer | None = None) -> Receipt:
    """Shorthand for ``set_agent(agent, False, signer=signer)``."""
    return set_agent(agent, False, signer=signer)


def announce_master(master_address: str, *, signer: Signer | None = None) -> Receipt:
    """Call ``Terminal.announceMaster(master)``: the provider confirms its master.

    Raises:
        NotMasterError: that master did not announce this provider.
        MissingSignerError / InvalidSignerError (``PROVIDER_PRIVATE_KEY``) / InvalidInputError.
    """
    return transact(
        lambda: terminal_abi.announce_master(_address(), master_address), signer, Role.PROVIDER
    )


def announce_provider(provider: str, amount: int, *, signer: Signer | None = None) -> Receipt:
    """Call ``Terminal.announceProvider(provider, amount)`` sending ``amount`` wei.

    The amount is credited to the provider's vault lockup.

    Raises:
        InvalidAmountError: negative or non-int amount (before any RPC).
        MissingSignerError / InvalidSignerError (``MASTER_PRIVATE_KEY``) / InvalidInputError.
        TxRevertError subclasses: e.g. the provider is paired with another master.
    """

    def build() -> TxRequest:
        paid = b.uint(amount, "amount")
        request: TxRequest = terminal_abi.announce_provider(_address(), provider, paid, value=paid)
        return request

    return transact(build, signer, Role.MASTER)


def remove_provider(provider: str, *, signer: Signer | None = None) -> Receipt:
    """Call ``Terminal.removeProvider(provider)`` (master only).

    Raises:
        NotMasterError: the signer is not the provider's master.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(lambda: terminal_abi.remove_provider(_address(), provider), signer, Role.MASTER)


def remove_container(provider: str, source: str, *, signer: Signer | None = None) -> Receipt:
    """Call ``Terminal.removeContainer(provider, source)`` (master only; emits an event).

    Raises:
        NotMasterError: the signer is not the provider's master.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(
        lambda: terminal_abi.remove_container(_address(), provider, source), signer, Role.MASTER
    )


def set_default_agent_disabled(value: bool, *, signer: Signer | None = None) -> Receipt:
    """Call ``Terminal.setDefaultAgentDisabled(value)`` as the provider.

    Raises:
        NotProviderError: the signer is not a provider.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(
        lambda: terminal_abi.set_default_agent_disabled(_address(), value), signer, Role.PROVIDER
    )


def get_master_of(provider: str) -> str:
    """Master paired with ``provider`` (zero address when unpaired)."""
    return str(b.read(terminal_abi.master_of_call(_address(), provider)))


def get_provider_of(master: str) -> str:
    """Provider paired with ``master`` (zero address when unpaired)."""
    return str(b.read(terminal_abi.provider_of_call(_address(), master)))


def get_base_data_of(provider: str) -> str:
    """Provider's base data URL (empty when never set)."""
    return str(b.read(terminal_abi.base_data_of_call(_address(), provider)))


def get_live_data_of(provider: str) -> str:
    """Provider's live data URL (empty when never set)."""
    return str(b.read(terminal_abi.live_data_of_call(_address(), provider)))


def is_master(address: str) -> bool:
    """Whether ``address`` has been announced as a master."""
    return bool(b.read(terminal_abi.is_master_call(_address(), address)))


def is_provider(address: str) -> bool:
    """Whether ``address`` has been announced as a provider."""
    return bool(b.read(terminal_abi.is_provider_call(_address(), address)))


def is_agent_of(account: str, agent: str) -> bool:
    """Whether ``agent`` may sign for ``account`` (a client or master)."""
    return bool(b.read(terminal_abi.is_agent_of_call(_address(), account, agent)))


def is_default_agent_disabled(address: str) -> bool:
    """Whether the provider opted out of the default scheduling agent."""
    return bool(b.read(terminal_abi.default_agent_disabled_call(_address(), address)))


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.types.errors import InvalidSignerError as InvalidSignerError
else:
    __getattr__, __dir__ = official_names(
        __name__, globals(), "InvalidSignerError", "TxExecutor", "load_contract", "resolve_signer"
    )
