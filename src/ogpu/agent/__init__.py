"""Agent workflows: a scheduler registering providers and attempting tasks for a master.

A master authorizes an agent once (``Terminal.setAgent``, e.g.
``ogpu.client.set_agent(agent, True, signer=MASTER_KEY)``); the agent's key
then signs ``Nexus.register``/``unregister``/``attempt`` for the master's
provider. The provider itself or its master may sign too. Each function signs
with ``private_key=`` or ``signer=``, else ``AGENT_PRIVATE_KEY``.

Every call sends one transaction whose gas estimate runs first: a refusal
(not authorized, not registered, source inactive...) raises a typed error and
nothing is sent. Extra keyword arguments (accepted for compatibility with the
official SDK's older signatures) are ignored with an ``IgnoredArgumentsWarning``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import check_address

from ogpu._compat import ignore_extra
from ogpu.client._common import choose_signer
from ogpu.protocol import Task, nexus
from ogpu.types import Environment, Receipt, Role, Signer

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["attempt", "register_to", "unregister_from"]


def _agent(private_key: Signer | None, signer: Signer | None, **addresses: str) -> LocalAccount:
    """Check ``addresses`` (keyword = parameter name), then choose the signer. No RPC.

    Raises InvalidAddressError first, then the signer errors of ``choose_signer``.
    """
    for name, value in addresses.items():
        check_address(value, name)
    return choose_signer(private_key, signer, Role.AGENT)


def register_to(
    source: str,
    provider: str,
    env: Environment | int,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> Receipt:
    """Register ``provider`` to ``source`` for one environment (``Nexus.register``).

    Cost: one transaction.

    Raises:
        InvalidAddressError / InvalidEnumValueError: bad address, or ``env`` is not
            exactly one of CPU, NVIDIA, AMD (nothing sent).
        NotAuthorizedError: the signer is not the provider, its master or an agent of it.
        InsufficientLockupError, SourceInactiveError, EnvironmentNotSupportedError.
        MissingSignerError / InvalidSignerError (``AGENT_PRIVATE_KEY``), RPCError.
    """
    ignore_extra("register_to", _ignored)
    account = _agent(private_key, signer, source=source, provider=provider)
    return nexus.register(source, provider, env, signer=account)


def unregister_from(
    source: str,
    provider: str,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> Receipt:
    """Remove ``provider`` from ``source``'s registrants (``Nexus.unregister``).

    Cost: one transaction.

    Raises:
        InvalidAddressError: bad address (nothing sent).
        NotRegisteredError, NotAuthorizedError.
        MissingSignerError / InvalidSignerError (``AGENT_PRIVATE_KEY``), RPCError.
    """
    ignore_extra("unregister_from", _ignored)
    account = _agent(private_key, signer, source=source, provider=provider)
    return nexus.unregister(source, provider, signer=account)


def attempt(
    task: str,
    provider: str,
    suggested_payment: int | None = None,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> Receipt:
    """Record that ``provider`` takes on ``task`` (``Nexus.attempt``).

    ``suggested_payment`` (wei, advisory) defaults to the task's payment.

    Cost: one transaction, plus one ``eth_call`` when ``suggested_payment`` is None.

    Raises:
        InvalidAddressError / InvalidAmountError: bad address or amount (nothing sent).
        TaskNotFoundError: the address is not a task (default payment lookup).
        NotRegisteredError, AlreadyAttemptedError, TaskExpiredError,
            TaskAlreadyFinalizedError, NotAuthorizedError.
        MissingSignerError / InvalidSignerError (``AGENT_PRIVATE_KEY``), RPCError.
    """
    ignore_extra("attempt", _ignored)
    account = _agent(private_key, signer, task=task, provider=provider)
    payment = Task(task).get_payment() if suggested_payment is None else suggested_payment
    return nexus.attempt(task, provider, payment, signer=account)
