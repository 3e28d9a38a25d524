"""Client workflows on agents: authorize or revoke an address to act for the signer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import check_address

from ogpu._compat import ignore_extra
from ogpu.client._common import choose_signer
from ogpu.protocol import ZERO_ADDRESS, terminal
from ogpu.types import InvalidAddressError, InvalidParamsError, Role, TxHash

if TYPE_CHECKING:
    from ogpu.types import Signer

__all__ = ["revoke_agent", "set_agent"]


def set_agent(
    agent_address: str,
    value: bool = True,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> TxHash:
    """Authorize (``value=True``) or revoke an agent through ``Terminal.setAgent``.

    The signer is a client (default ``CLIENT_PRIVATE_KEY``) or a master (pass
    its key); an authorized agent may then confirm responses for the client,
    or register and attempt for the master's provider. Returns the transaction
    hash (a ``str``, as the official SDK), carrying the ``Receipt`` as ``.receipt``.
    Extra keyword arguments are ignored with an ``IgnoredArgumentsWarning``.

    Cost: one transaction.

    Raises:
        InvalidAddressError: malformed, zero, or the signer's own address (nothing sent).
        InvalidParamsError: ``value`` is not a bool.
        NotAuthorizedError: the signer is a provider.
        MissingSignerError / InvalidSignerError, RPCError.
    """
    ignore_extra("set_agent", _ignored)
    agent = check_address(agent_address, "agent_address")
    if not isinstance(value, bool):
        raise InvalidParamsError(
            f"value must be a bool (True authorizes, False revokes), got {type(value).__name__}",
            param="value",
        )
    if agent == ZERO_ADDRESS:
        raise InvalidAddressError(
            "agent_address must not be the zero address", param="agent_address"
        )
    account = choose_signer(private_key, signer, Role.CLIENT)
    if agent.lower() == account.address.lower():
        raise InvalidAddressError(
            "agent_address is the signer's own address; an account cannot be its own agent",
            param="agent_address",
        )
    return TxHash(terminal.set_agent(agent, value, signer=account))


def revoke_agent(
    agent_address: str, private_key: Signer | None = None, *, signer: Signer | None = None
) -> TxHash:
    """Revoke an agent: ``set_agent(agent_address, False, ...)``. Cost: one transaction.

    Raises:
        as ``set_agent``.
    """
    return set_agent(agent_address, False, private_key, signer=signer)
