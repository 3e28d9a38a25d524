"""Bad input on every public write: a typed error and nothing sent (counted at the proxy).

The matrix covers the module functions (``ogpu.protocol.nexus``/``controller``/
``terminal``/``vault``), the instance write methods (``Source``, ``Task``,
``Response``, ``Provider``, ``Master``), ``TxExecutor``, and the client and agent
workflows. Each write is described once (its parameters, their kinds and a valid
value); every bad value of a kind is tried on every parameter of that kind, one
at a time, the other arguments valid. The proxy counts what reached the wire: no
request at all for an input error, and never an ``eth_sendRawTransaction``.

A wrong chain id is tried on every write too: the node behind the proxy answers
``eth_chainId`` with another chain; with valid arguments (and a real, funded
source where the workflow checks one first), the write fails with
``ChainNotSupportedError`` before any broadcast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from ogpu import agent, client
from ogpu.chain import ChainConfig
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import StoreServer
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
    ChainNotSupportedError,
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    InvalidAddressError,
    InvalidAmountError,
    InvalidEnumValueError,
    InvalidInputError,
    InvalidParamsError,
    InvalidRpcUrlError,
    InvalidSignerError,
    IPFSUploadError,
    MissingSignerError,
    OGPUError,
    SourceInfo,
    SourceParams,
    SourceStatus,
    TaskInfo,
    TaskInput,
    TaskParams,
)

from ..helpers.proxy import Fault, FaultProxy
from ..helpers.world import ETHER
from .conftest import Net, kept_state, sdk_on

MiB = 2**20
RAW = "eth_sendRawTransaction"
C0, M0, P0, A0 = CLIENTS[0], MASTERS[0], PROVIDERS[0], AGENTS[0]
# well-formed addresses (the writes never get far enough to use them)
SOME_SOURCE = "0x" + "11" * 20
SOME_TASK = "0x" + "22" * 20
SOME_RESPONSE = "0x" + "33" * 20


@dataclass(frozen=True)
class Ctx:
    """What a case needs at run time: a real source owned by ``C0`` (which is funded)."""

    source: str
    now: int


@dataclass(frozen=True)
class Lazy:
    """A value built at run time (fresh mutable objects, or values that need ``Ctx``)."""

    build: Callable[[Ctx], Any]


def _resolve(value: Any, ctx: Ctx) -> Any:
    return value.build(ctx) if isinstance(value, Lazy) else value


def _wrong_checksum(address: str) -> str:
    """``address`` with one letter's case flipped (still mixed case, so checksum-checked)."""
    body = address[2:]
    for index, char in enumerate(body):
        if char.isalpha():
            flipped = body[:index] + char.swapcase() + body[index + 1 :]
            if flipped not in (flipped.lower(), flipped.upper()):
                return "0x" + flipped
    raise AssertionError("no letter to flip")


@dataclass(frozen=True)
class Bad:
    label: str
    value: Any
    error: type[OGPUError]


ADDRESS = (
    Bad("malformed: short hex", "0x1234", InvalidAddressError),
    Bad("malformed: not hex", "0x" + "zz" * 20, InvalidAddressError),
    Bad("malformed: 21 bytes", "0x" + "ab" * 21, InvalidAddressError),
    Bad("wrong checksum", _wrong_checksum(PROVIDERS[2].address), InvalidAddressError),
    Bad("empty string", "", InvalidAddressError),
    Bad("huge string (1 MiB)", "0x" + "a" * MiB, InvalidAddressError),
    Bad("not a str (int)", 1234, InvalidAddressError),
    Bad("None", None, InvalidAddressError),
)
UINT = (
    Bad("negative (-1)", -1, InvalidAmountError),
    Bad("overflow (2**256)", 2**256, InvalidAmountError),
    Bad("float (1.5)", 1.5, InvalidAmountError),
    Bad("numeric str ('100')", "100", InvalidAmountError),
    Bad("bool (True)", True, InvalidAmountError),
)
ENV = (
    Bad("0 (no environment)", 0, InvalidEnumValueError),
    Bad("3 (CPU|NVIDIA, not one)", 3, InvalidEnumValueError),
    Bad("8 (unknown bit)", 8, InvalidEnumValueError),
    Bad("negative (-1)", -1, InvalidEnumValueError),
    Bad("str ('CPU')", "CPU", InvalidEnumValueError),
)
STATUS = (
    Bad("7 (not a SourceStatus)", 7, InvalidEnumValueError),
    Bad("negative (-1)", -1, InvalidEnumValueError),
    Bad("str ('INACTIVE')", "INACTIVE", InvalidEnumValueError),
)
BOOL = (
    Bad("str ('yes')", "yes", InvalidParamsError),
    Bad("int (1)", 1, InvalidParamsError),
    Bad("None", None, InvalidParamsError),
)
KEY = (
    Bad("malformed key", "0x1234", InvalidSignerError),
    Bad("empty string", "", InvalidSignerError),
    Bad("huge string (1 MiB)", "0x" + "1" * MiB, InvalidSignerError),
    Bad("zero key", "0x" + "00" * 32, InvalidSignerError),
    Bad("key >= secp256k1 order", "0x" + "ff" * 32, InvalidSignerError),
    Bad("not a key (int)", 12345, InvalidSignerError),
)
SIGNER = (*KEY, Bad("None and no env var", None, MissingSignerError))
TIMEOUT = (
    Bad("zero", 0, InvalidParamsError),
    Bad("negative", -1, InvalidParamsError),
    Bad("NaN", math.nan, InvalidParamsError),
    Bad("infinite", math.inf, InvalidParamsError),
    Bad("str ('5')", "5", InvalidParamsError),
)
CALL_ADDRESS = tuple(
    Bad(b.label, b.value, InvalidParamsError) for b in ADDRESS if b.label != "huge string (1 MiB)"
)
RETRIES = (
    Bad("negative (-1)", -1, InvalidInputError),
    Bad("float (1.5)", 1.5, InvalidInputError),
    Bad("bool (True)", True, InvalidInputError),
)


def source_params(**changes: Any) -> SourceParams:
    params = SourceParams(
        client=C0.address,
        imageMetadataUrl="https://example.invalid/meta.json",
        imageEnvironments=Environment.CPU,
        minPayment=10**15,
        minAvailableLockup=0,
        maxExpiryDuration=3600,
        privacyEnabled=False,
        optionalParamsUrl="",
        deliveryMethod=DeliveryMethod.MANUAL_CONFIRMATION,
        lastUpdateTime=0,
    )
    return params.model_copy(update=changes)  # unvalidated, as a caller could build it


def task_params(**changes: Any) -> TaskParams:
    params = TaskParams(
        source=SOME_SOURCE, config="https://example.invalid/t.json", expiryTime=2**40, payment=1
    )
    return params.model_copy(update=changes)


SOURCE_PARAMS = (
    *(Bad(f"client {b.label}", source_params(client=b.value), b.error) for b in ADDRESS[:5]),
    Bad("imageEnvironments 8", source_params(imageEnvironments=8), InvalidEnumValueError),
    Bad("imageEnvironments -1", source_params(imageEnvironments=-1), InvalidEnumValueError),
    Bad("deliveryMethod 2", source_params(deliveryMethod=2), InvalidEnumValueError),
    Bad("minPayment -1", source_params(minPayment=-1), InvalidAmountError),
    Bad("minAvailableLockup 2**256", source_params(minAvailableLockup=2**256), InvalidAmountError),
    Bad("maxExpiryDuration -1", source_params(maxExpiryDuration=-1), InvalidAmountError),
    Bad("lastUpdateTime 2**256", source_params(lastUpdateTime=2**256), InvalidAmountError),
    Bad("privacyEnabled 'yes'", source_params(privacyEnabled="yes"), InvalidParamsError),
    Bad("imageMetadataUrl not a str", source_params(imageMetadataUrl=123), InvalidParamsError),
    Bad("not a SourceParams (dict)", {"client": C0.address}, InvalidParamsError),
)
TASK_PARAMS = (
    *(Bad(f"source {b.label}", task_params(source=b.value), b.error) for b in ADDRESS[:5]),
    Bad("payment -1", task_params(payment=-1), InvalidAmountError),
    Bad("payment 2**256", task_params(payment=2**256), InvalidAmountError),
    Bad("expiryTime -1", task_params(expiryTime=-1), InvalidAmountError),
    Bad("expiryTime 2**256", task_params(expiryTime=2**256), InvalidAmountError),
    Bad("config not a str", task_params(config=123), InvalidParamsError),
    Bad("not a TaskParams (tuple)", (SOME_SOURCE, "x", 1, 1), InvalidParamsError),
)


def _source_info(ctx: Ctx | None = None) -> SourceInfo:
    return SourceInfo(
        name="matrix",
        description="bad input matrix",
        logoUrl="https://example.com/logo.png",
        imageEnvs=ImageEnvironments(cpu="https://example.com/compose.yml"),
        minPayment=10**15,
        minAvailableLockup=0,
        maxExpiryDuration=3600,
    )


def _changed_source_info(name: str, value: Any) -> Lazy:
    """A valid SourceInfo with one field set afterwards (a workflow re-checks it at use)."""

    def build(ctx: Ctx) -> SourceInfo:
        info = _source_info()
        setattr(info, name, value)
        return info

    return Lazy(build)


def _raises_on_build(make: Callable[[], Any]) -> Lazy:
    """The construction itself is the call under test (it must refuse)."""
    return Lazy(lambda ctx: make())


SOURCE_INFO = (
    Bad("name empty string", _changed_source_info("name", ""), InvalidParamsError),
    Bad("name blank", _changed_source_info("name", "   "), InvalidParamsError),
    Bad("name not a str", _changed_source_info("name", 42), InvalidParamsError),
    Bad(
        "image URL scheme file:",
        _changed_source_info("imageEnvs", ImageEnvironments(cpu="file:///etc/passwd")),
        InvalidParamsError,
    ),
    Bad(
        "image URL scheme gopher:",
        _changed_source_info("imageEnvs", ImageEnvironments(nvidia="gopher://h/x")),
        InvalidParamsError,
    ),
    Bad(
        "no image environment",
        _changed_source_info("imageEnvs", ImageEnvironments()),
        InvalidParamsError,
    ),
    Bad("minPayment -1", _changed_source_info("minPayment", -1), InvalidAmountError),
    Bad("minPayment 2**256", _changed_source_info("minPayment", 2**256), InvalidAmountError),
    Bad(
        "minAvailableLockup -1", _changed_source_info("minAvailableLockup", -1), InvalidAmountError
    ),
    Bad("maxExpiryDuration 0", _changed_source_info("maxExpiryDuration", 0), InvalidAmountError),
    Bad("deliveryMethod 7", _changed_source_info("deliveryMethod", 7), InvalidEnumValueError),
    Bad("privacyEnabled 'no'", _changed_source_info("privacyEnabled", "no"), InvalidParamsError),
    Bad("not a SourceInfo (dict)", {"name": "x"}, InvalidParamsError),
    Bad(
        "minPayment -1 at construction",
        _raises_on_build(lambda: replace(_source_info(), minPayment=-1)),
        InvalidInputError,
    ),
    Bad(
        "no environment at construction",
        _raises_on_build(lambda: replace(_source_info(), imageEnvs=ImageEnvironments())),
        InvalidInputError,
    ),
)


def _task_info(ctx: Ctx) -> TaskInfo:
    return TaskInfo(
        source=ctx.source,
        config=TaskInput(function_name="predict", data={"text": "hi"}),
        expiryTime=ctx.now + 600,
        payment=10**15,
    )


def _changed_task_info(name: str, value: Any, *, in_config: bool = False) -> Lazy:
    def build(ctx: Ctx) -> TaskInfo:
        info = _task_info(ctx)
        setattr(info.config if in_config else info, name, value)
        return info

    return Lazy(build)


TASK_INFO = (
    *(Bad(f"source {b.label}", _changed_task_info("source", b.value), b.error) for b in ADDRESS),
    Bad(
        "function_name empty string",
        _changed_task_info("function_name", "", in_config=True),
        InvalidParamsError,
    ),
    Bad(
        "function_name blank",
        _changed_task_info("function_name", "  ", in_config=True),
        InvalidParamsError,
    ),
    Bad(
        "data with NaN",
        _changed_task_info("data", {"x": math.nan}, in_config=True),
        InvalidParamsError,
    ),
    Bad(
        "data not JSON (object())",
        _changed_task_info("data", {"x": object()}, in_config=True),
        InvalidParamsError,
    ),
    Bad("data a list", _changed_task_info("data", [1, 2], in_config=True), InvalidParamsError),
    Bad("payment -1", _changed_task_info("payment", -1), InvalidAmountError),
    Bad("payment 2**256", _changed_task_info("payment", 2**256), InvalidAmountError),
    Bad("payment a float", _changed_task_info("payment", 1.0), InvalidAmountError),
    Bad("expiryTime 0", _changed_task_info("expiryTime", 0), InvalidAmountError),
    Bad("expiryTime -1", _changed_task_info("expiryTime", -1), InvalidAmountError),
    Bad("expiryTime 2**256", _changed_task_info("expiryTime", 2**256), InvalidAmountError),
    Bad("not a TaskInfo (dict)", {"source": SOME_SOURCE}, InvalidParamsError),
    Bad(
        "function_name empty at construction",
        _raises_on_build(lambda: TaskInput(function_name="", data={})),
        InvalidInputError,
    ),
    Bad(
        "payment -1 at construction",
        _raises_on_build(lambda: TaskInfo(SOME_SOURCE, TaskInput("f", {}), 2**40, -1)),
        InvalidInputError,
    ),
    Bad(
        "source malformed at construction",
        _raises_on_build(lambda: TaskInfo("0x1234", TaskInput("f", {}), 2**40, 1)),
        InvalidAddressError,
    ),
)

KINDS: dict[str, tuple[Bad, ...]] = {
    "address": ADDRESS,
    "uint": UINT,
    "env": ENV,
    "status": STATUS,
    "bool": BOOL,
    "signer": SIGNER,
    "private_key": KEY,
    "timeout": TIMEOUT,
    "call_address": CALL_ADDRESS,
    "retries": RETRIES,
    "source_params": SOURCE_PARAMS,
    "task_params": TASK_PARAMS,
    "source_info": SOURCE_INFO,
    "task_info": TASK_INFO,
}


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
            "source_info": ("source_info", Lazy(_source_info)),
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
            "new_info": ("source_info", Lazy(_source_info)),
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
            "task_info": ("task_info", Lazy(_task_info)),
            **TIMEOUTS,
            "private_key": NO_KEY,
            "signer": _s(C0),
        },
    ),
    Write(
        "client.publish_tasks",
        _publish_as_batch,
        {
            "task_info": ("task_info", Lazy(_task_info)),
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


@dataclass(frozen=True)
class Case:
    write: str
    param: str
    label: str
    run: Callable[[Ctx], Any]
    error: type[OGPUError]
    rpc_free: bool = True  # refused before any request

    @property
    def id(self) -> str:
        return f"{self.write}-{self.param}-{self.label}"


def _valid_args(write: Write, ctx: Ctx) -> dict[str, Any]:
    args = {name: _resolve(value, ctx) for name, (_, value) in write.params.items()}
    if args.get("private_key") is None:
        args.pop("private_key", None)
    return args


def _case(write: Write, param: str, bad: Bad) -> Case:
    def run(ctx: Ctx) -> Any:
        args = _valid_args(write, ctx)
        if param == "private_key":
            args.pop("signer")
        args[param] = _resolve(bad.value, ctx)
        return write.call(**args)

    return Case(write.name, param, bad.label, run, bad.error)


def _extra_cases() -> list[Case]:
    def both(write: Write) -> Case:
        def run(ctx: Ctx) -> Any:
            return write.call(**_valid_args(write, ctx), private_key=C0.key_hex)

        return Case(write.name, "private_key+signer", "both given", run, InvalidParamsError)

    def over_cap(ctx: Ctx) -> Any:
        info = _task_info(ctx)
        info.config = TaskInput(function_name="predict", data={"blob": "x" * (10 * MiB)})
        return client.publish_task(info, signer=C0.account)

    def other_signer(write: Write) -> Case:
        def run(ctx: Ctx) -> Any:
            args = _valid_args(write, ctx)
            args["signer"] = PROVIDERS[1].account
            return write.call(**args)

        return Case(write.name, "signer", "another account's key", run, InvalidSignerError)

    own_funds = (
        ".stake",
        ".unstake",
        ".cancel_unbonding",
        ".claim_earnings",
        ".withdraw_from_vault",
    )
    return [
        *(both(w) for w in WRITES if "private_key" in w.params),
        *(
            other_signer(w)
            for w in WRITES
            if w.name.startswith(("Provider.", "Master.")) and w.name.endswith(own_funds)
        ),
        Case(
            "client.set_agent",
            "agent_address",
            "zero address",
            lambda ctx: client.set_agent("0x" + "00" * 20, signer=C0.account),
            InvalidAddressError,
        ),
        Case(
            "client.set_agent",
            "agent_address",
            "the signer's own address",
            lambda ctx: client.set_agent(C0.address, signer=C0.account),
            InvalidAddressError,
        ),
        Case(
            "client.publish_task",
            "task_info",
            "config JSON over the 10 MiB upload cap",
            over_cap,
            IPFSUploadError,
            rpc_free=False,
        ),
    ]


CASES = [
    _case(write, param, bad)
    for write in WRITES
    for param, (kind, _) in write.params.items()
    for bad in KINDS[kind]
] + _extra_cases()


@pytest.fixture(scope="module")
def world(
    devnet_session: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[tuple[Net, Ctx]]:
    """The SDK on the chain through the proxy for the whole module, with a source owned
    by C0 (funded with 1 ether). No case may change the chain; the state is reverted at
    the end of the module."""
    with kept_state(devnet_session), sdk_on(devnet_session, proxy, upstream, store) as net:
        net.fund(net.client)
        source = net.source().address
        yield net, Ctx(source=source, now=net.now())


def _nonces(net: Net) -> dict[str, int]:
    return {a.address: net.nonce(a) for a in (C0, M0, P0, A0)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_before_sending(world: tuple[Net, Ctx], case: Case, row: Any) -> None:
    net, ctx = world
    nonces = None if case.rpc_free else _nonces(net)
    net.rpc.clear()
    error: BaseException | None = None
    try:
        case.run(ctx)
    except BaseException as exc:  # the assertion names anything unexpected
        error = exc
    requests = net.rpc.total_received()

    assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
    assert net.rpc.count(RAW) == 0
    if case.rpc_free:
        assert requests == 0, f"{requests} request(s) before the refusal"
    else:
        assert _nonces(net) == nonces
    wire = "0 requests" if requests == 0 else "reads only"
    row(
        area="bad input",
        target=case.write,
        parameter=case.param,
        input=case.label,
        outcome=f"{case.error.__name__}; {wire}, 0 transactions",
    )


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_wrong_chain_id_is_refused_before_sending(
    world: tuple[Net, Ctx], write: Write, row: Any
) -> None:
    net, ctx = world
    nonces = _nonces(net)
    net.rpc.clear()
    ChainConfig.use_devnet(
        net.devnet.deployment, rpc=net.rpc.url
    )  # a Web3 that never saw the chain id
    net.rpc.add("eth_chainId", Fault.WRONG_CHAIN, times=None, chain_id=1)

    with pytest.raises(ChainNotSupportedError) as caught:
        write.call(**_valid_args(write, ctx))

    assert caught.value.chain_id == 1
    assert net.rpc.count("eth_chainId") >= 1
    assert net.rpc.count(RAW) == 0
    assert net.rpc.count("eth_estimateGas") == 0
    net.rpc.clear()
    ChainConfig.use_devnet(net.devnet.deployment, rpc=net.rpc.url)  # drop the cached chain id
    assert _nonces(net) == nonces
    row(
        area="bad input",
        target=write.name,
        parameter="chain",
        input="node serves chain id 1, active chain is 1337",
        outcome="ChainNotSupportedError; 0 transactions",
    )


@pytest.mark.parametrize(
    ("label", "call", "error"),
    [
        ("set_chain(999)", lambda net: ChainConfig.set_chain(999), "ChainNotSupportedError"),
        (
            "set_chain('devnet')",
            lambda net: ChainConfig.set_chain("devnet"),  # type: ignore[arg-type]
            "ChainNotSupportedError",
        ),
        (
            "set_rpc('file:///etc/passwd')",
            lambda net: ChainConfig.set_rpc("file:///etc/passwd"),
            "InvalidRpcUrlError",
        ),
        (
            "set_rpc('gopher://x')",
            lambda net: ChainConfig.set_rpc("gopher://x"),
            "InvalidRpcUrlError",
        ),
        (
            "set_rpc(node of another chain)",
            lambda net: ChainConfig.set_rpc(net.rpc.url),
            "InvalidRpcUrlError",
        ),
    ],
)
def test_chain_configuration_refuses_bad_chains(
    world: tuple[Net, Ctx], label: str, call: Callable[[Net], Any], error: str, row: Any
) -> None:
    net, _ = world
    net.rpc.clear()
    net.rpc.add("eth_chainId", Fault.WRONG_CHAIN, times=None, chain_id=1)
    expected = {
        "ChainNotSupportedError": ChainNotSupportedError,
        "InvalidRpcUrlError": InvalidRpcUrlError,
    }
    with pytest.raises(expected[error]):
        call(net)
    assert net.rpc.count(RAW) == 0
    assert ChainConfig.get_current_chain() == 1337
    row(
        area="bad input",
        target="ChainConfig",
        parameter="chain",
        input=label,
        outcome=f"{error}; the active chain is unchanged",
    )
