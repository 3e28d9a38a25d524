"""Every public write test_bad_input.py tries: its parameters, their kinds and a valid
value each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ogpu import agent, client
from ogpu.devnet import DevnetAccount
from ogpu.protocol import (
    Master,
    Provider,
    Response,
    Source,
    Task,
    TxExecutor,
    controller,
    load_contract,
    nexus,
    terminal,
    vault,
)
from ogpu.types import (
    Environment,
    SourceStatus,
)

from ..helpers.world import ETHER
from .bad_values import (
    A0,
    C0,
    M0,
    P0,
    SOME_RESPONSE,
    SOME_SOURCE,
    SOME_TASK,
    Lazy,
    source_params,
    task_params,
    valid_source_info,
    valid_task_info,
)

# -- the writes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A public write: ``call(**args)``; ``params`` maps each parameter to (kind, valid value).

    A ``private_key`` parameter is tried without ``signer`` (they are exclusive)."""

    name: str
    call: Callable[..., Any]
    params: dict[str, tuple[str, Any]]


def _a(value: Any) -> tuple[str, Any]:
    return ("address", value)


def _u(value: int) -> tuple[str, Any]:
    return ("uint", value)


def _s(account: DevnetAccount) -> tuple[str, Any]:
    return ("signer", account.account)


def _method(cls: type[Any], name: str) -> Callable[..., Any]:
    def call(address: str, **kwargs: Any) -> Any:
        return getattr(cls(address), name)(**kwargs)

    return call


def _vault_account(cls: type[Any], owner: DevnetAccount) -> list[Write]:
    own = {"address": _a(owner.address)}
    label = cls.__name__
    return [
        Write(
            f"{label}.stake", _method(cls, "stake"), {**own, "amount": _u(1), "signer": _s(owner)}
        ),
        Write(
            f"{label}.unstake",
            _method(cls, "unstake"),
            {**own, "amount": _u(1), "signer": _s(owner)},
        ),
        Write(
            f"{label}.cancel_unbonding",
            _method(cls, "cancel_unbonding"),
            {**own, "signer": _s(owner)},
        ),
        Write(
            f"{label}.claim_earnings", _method(cls, "claim_earnings"), {**own, "signer": _s(owner)}
        ),
        Write(
            f"{label}.deposit_to_vault",
            _method(cls, "deposit_to_vault"),
            {**own, "amount": _u(1), "signer": _s(owner)},
        ),
        Write(
            f"{label}.withdraw_from_vault",
            _method(cls, "withdraw_from_vault"),
            {**own, "amount": _u(1), "signer": _s(owner)},
        ),
    ]


def _execute(address: str, value: int, max_retries: int, signer: Any) -> Any:
    contract = load_contract("VaultAbi")
    executor = TxExecutor(
        contract, "deposit", (address,), signer=signer, value=value, max_retries=max_retries
    )
    return executor.execute()


SOURCE = Lazy(lambda ctx: ctx.source)
TIMEOUTS = {
    "ipfs_timeout": ("timeout", 5.0),
    "receipt_timeout": ("timeout", 30.0),
    "timeout": ("timeout", 60.0),
}
NO_KEY = ("private_key", None)


def _publish_as_batch(task_info: Any, private_key: Any = None, **kwargs: Any) -> Any:
    """``client.publish_tasks`` with one TaskInfo: every ``task_info`` case, batched."""
    return client.publish_tasks([task_info], private_key, **kwargs)


WRITES: list[Write] = [
    # ogpu.protocol module functions
    Write(
        "nexus.publish_source",
        nexus.publish_source,
        {"params": ("source_params", source_params()), "signer": _s(C0)},
    ),
    Write(
        "nexus.update_source",
        nexus.update_source,
        {
            "source_address": _a(SOME_SOURCE),
            "params": ("source_params", source_params()),
            "signer": _s(C0),
        },
    ),
    Write(
        "nexus.inactivate_source",
        nexus.inactivate_source,
        {"source_address": _a(SOME_SOURCE), "signer": _s(C0)},
    ),
    Write(
        "nexus.register",
        nexus.register,
        {
            "source": _a(SOME_SOURCE),
            "provider": _a(P0.address),
            "env": ("env", Environment.CPU),
            "signer": _s(P0),
        },
    ),
    Write(
        "nexus.unregister",
        nexus.unregister,
        {"source": _a(SOME_SOURCE), "provider": _a(P0.address), "signer": _s(P0)},
    ),
    Write(
        "nexus.attempt",
        nexus.attempt,
        {
            "task": _a(SOME_TASK),
            "provider": _a(P0.address),
            "suggested_payment": _u(1),
            "signer": _s(P0),
        },
    ),
    Write(
        "controller.publish_task",
        controller.publish_task,
        {"params": ("task_params", task_params()), "signer": _s(C0)},
    ),
    Write(
        "controller.confirm_response",
        controller.confirm_response,
        {"response_address": _a(SOME_RESPONSE), "signer": _s(C0)},
    ),
    Write(
        "controller.cancel_task",
        controller.cancel_task,
        {"task_address": _a(SOME_TASK), "signer": _s(C0)},
    ),
    Write(
        "terminal.set_agent",
        terminal.set_agent,
        {"agent": _a(A0.address), "value": ("bool", True), "signer": _s(C0)},
    ),
    Write(
        "terminal.revoke_agent", terminal.revoke_agent, {"agent": _a(A0.address), "signer": _s(C0)}
    ),
    Write(
        "terminal.announce_master",
        terminal.announce_master,
        {"master_address": _a(M0.address), "signer": _s(P0)},
    ),
    Write(
        "terminal.announce_provider",
        terminal.announce_provider,
        {"provider": _a(P0.address), "amount": _u(ETHER), "signer": _s(M0)},
    ),
    Write(
        "terminal.remove_provider",
        terminal.remove_provider,
        {"provider": _a(P0.address), "signer": _s(M0)},
    ),
    Write(
        "terminal.remove_container",
        terminal.remove_container,
        {"provider": _a(P0.address), "source": _a(SOME_SOURCE), "signer": _s(M0)},
    ),
    Write(
        "terminal.set_default_agent_disabled",
        terminal.set_default_agent_disabled,
        {"value": ("bool", True), "signer": _s(P0)},
    ),
    Write(
        "vault.deposit",
        vault.deposit,
        {"account": _a(C0.address), "amount": _u(1), "signer": _s(C0)},
    ),
    Write("vault.withdraw", vault.withdraw, {"amount": _u(1), "signer": _s(C0)}),
    Write("vault.lock", vault.lock, {"amount": _u(1), "signer": _s(C0)}),
    Write("vault.unbond", vault.unbond, {"amount": _u(1), "signer": _s(C0)}),
    Write("vault.cancel_unbonding", vault.cancel_unbonding, {"signer": _s(C0)}),
    Write("vault.claim", vault.claim, {"signer": _s(C0)}),
    # instance write methods
    Write(
        "Source.set_status",
        _method(Source, "set_status"),
        {"address": _a(SOME_SOURCE), "status": ("status", SourceStatus.INACTIVE), "signer": _s(C0)},
    ),
    Write(
        "Source.set_params",
        _method(Source, "set_params"),
        {
            "address": _a(SOME_SOURCE),
            "params": ("source_params", source_params()),
            "signer": _s(C0),
        },
    ),
    Write(
        "Source.inactivate",
        _method(Source, "inactivate"),
        {"address": _a(SOME_SOURCE), "signer": _s(C0)},
    ),
    Write("Task.cancel", _method(Task, "cancel"), {"address": _a(SOME_TASK), "signer": _s(C0)}),
    Write(
        "Response.confirm",
        _method(Response, "confirm"),
        {"address": _a(SOME_RESPONSE), "signer": _s(C0)},
    ),
    Write(
        "Provider.announce_master",
        _method(Provider, "announce_master"),
        {"address": _a(P0.address), "master": _a(M0.address), "signer": _s(P0)},
    ),
    Write(
        "Provider.set_default_agent_disabled",
        _method(Provider, "set_default_agent_disabled"),
        {"address": _a(P0.address), "value": ("bool", True), "signer": _s(P0)},
    ),
    Write(
        "Provider.register_to",
        _method(Provider, "register_to"),
        {
            "address": _a(P0.address),
            "source": _a(SOME_SOURCE),
            "env": ("env", Environment.CPU),
            "signer": _s(P0),
        },
    ),
    Write(
        "Provider.unregister_from",
        _method(Provider, "unregister_from"),
        {"address": _a(P0.address), "source": _a(SOME_SOURCE), "signer": _s(P0)},
    ),
    Write(
        "Provider.attempt",
        _method(Provider, "attempt"),
        {
            "address": _a(P0.address),
            "task": _a(SOME_TASK),
            "suggested_payment": _u(1),
            "signer": _s(P0),
        },
    ),
    *_vault_account(Provider, P0),
    Write(
        "Master.announce_provider",
        _method(Master, "announce_provider"),
        {
            "address": _a(M0.address),
            "provider": _a(P0.address),
            "amount": _u(ETHER),
            "signer": _s(M0),
        },
    ),
    Write(
        "Master.remove_provider",
        _method(Master, "remove_provider"),
        {"address": _a(M0.address), "provider": _a(P0.address), "signer": _s(M0)},
    ),
    Write(
        "Master.remove_container",
        _method(Master, "remove_container"),
        {
            "address": _a(M0.address),
            "provider": _a(P0.address),
            "source": _a(SOME_SOURCE),
            "signer": _s(M0),
        },
    ),
    Write(
        "Master.set_agent",
        _method(Master, "set_agent"),
        {
            "address": _a(M0.address),
            "agent": _a(A0.address),
            "value": ("bool", True),
            "signer": _s(M0),
        },
    ),
    *_vault_account(Master, M0),
    Write(
        "TxExecutor(Vault.deposit)",
        _execute,
        {
            "address": ("call_address", C0.address),
            "value": _u(1),
            "max_retries": ("retries", 3),
            "signer": _s(C0),
        },
    ),
    # client and agent workflows
    Write(
        "client.publish_source",
        client.publish_source,
        {
            "source_info": ("source_info", Lazy(valid_source_info)),
            **TIMEOUTS,
            "private_key": NO_KEY,
            "signer": _s(C0),
        },
    ),
    Write(
        "client.update_source",
        client.update_source,
        {
            "source": _a(SOURCE),
            "new_info": ("source_info", Lazy(valid_source_info)),
            **TIMEOUTS,
            "private_key": NO_KEY,
            "signer": _s(C0),
        },
    ),
    Write(
        "client.inactivate_source",
        client.inactivate_source,
        {"source": _a(SOURCE), "private_key": NO_KEY, "signer": _s(C0)},
    ),
    Write(
        "client.publish_task",
        client.publish_task,
        {
            "task_info": ("task_info", Lazy(valid_task_info)),
            **TIMEOUTS,
            "private_key": NO_KEY,
            "signer": _s(C0),
        },
    ),
    Write(
        "client.publish_tasks",
        _publish_as_batch,
        {
            "task_info": ("task_info", Lazy(valid_task_info)),
            **TIMEOUTS,
            "private_key": NO_KEY,
            "signer": _s(C0),
        },
    ),
    Write(
        "client.cancel_task",
        client.cancel_task,
        {"task": _a(SOME_TASK), "private_key": NO_KEY, "signer": _s(C0)},
    ),
    Write(
        "client.confirm_response",
        client.confirm_response,
        {"response_address": _a(SOME_RESPONSE), "private_key": NO_KEY, "signer": _s(C0)},
    ),
    Write(
        "client.set_agent",
        client.set_agent,
        {
            "agent_address": _a(A0.address),
            "value": ("bool", True),
            "private_key": NO_KEY,
            "signer": _s(C0),
        },
    ),
    Write(
        "client.revoke_agent",
        client.revoke_agent,
        {"agent_address": _a(A0.address), "private_key": NO_KEY, "signer": _s(C0)},
    ),
    Write(
        "agent.register_to",
        agent.register_to,
        {
            "source": _a(SOME_SOURCE),
            "provider": _a(P0.address),
            "env": ("env", Environment.CPU),
            "private_key": NO_KEY,
            "signer": _s(A0),
        },
    ),
    Write(
        "agent.unregister_from",
        agent.unregister_from,
        {
            "source": _a(SOME_SOURCE),
            "provider": _a(P0.address),
            "private_key": NO_KEY,
            "signer": _s(A0),
        },
    ),
    Write(
        "agent.attempt",
        agent.attempt,
        {
            "task": _a(SOME_TASK),
            "provider": _a(P0.address),
            "suggested_payment": _u(1),
            "private_key": NO_KEY,
            "signer": _s(A0),
        },
    ),
]
