"""The bad values of test_bad_input.py, per kind of parameter (each with the typed error
it must raise), and the valid parameters and infos they replace one field of."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.types import (
    Environment,
    ImageEnvironments,
    InvalidAddressError,
    InvalidAmountError,
    InvalidEnumValueError,
    InvalidInputError,
    InvalidParamsError,
    InvalidSignerError,
    MissingSignerError,
    OGPUError,
    SourceInfo,
    SourceParams,
    TaskInfo,
    TaskInput,
    TaskParams,
)

from ..helpers.world import source_params as plain_source_params

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


def resolve(value: Any, ctx: Ctx) -> Any:
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
    params = plain_source_params(C0.address, envs=Environment.CPU)
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


def valid_source_info(ctx: Ctx | None = None) -> SourceInfo:
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
        info = valid_source_info()
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
        _raises_on_build(lambda: replace(valid_source_info(), minPayment=-1)),
        InvalidInputError,
    ),
    Bad(
        "no environment at construction",
        _raises_on_build(lambda: replace(valid_source_info(), imageEnvs=ImageEnvironments())),
        InvalidInputError,
    ),
)


def valid_task_info(ctx: Ctx) -> TaskInfo:
    return TaskInfo(
        source=ctx.source,
        config=TaskInput(function_name="predict", data={"text": "hi"}),
        expiryTime=ctx.now + 600,
        payment=10**15,
    )


def _changed_task_info(name: str, value: Any, *, in_config: bool = False) -> Lazy:
    def build(ctx: Ctx) -> TaskInfo:
        info = valid_task_info(ctx)
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
