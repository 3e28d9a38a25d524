"""Input validation of the client workflows (no I/O) and the on-chain pre-send checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings import source as source_abi
from ogpu_bindings.runtime import check_address
from ogpu_bindings.structs import SourceParams

from ogpu._jsonvalue import json_value_problem
from ogpu._routing import function_name_problem
from ogpu.client._common import read_calls, read_calls_and_now, singleton
from ogpu.protocol._bindings import uint
from ogpu.types import (
    DeliveryMethod,
    ImageEnvironments,
    InvalidEnumValueError,
    InvalidParamsError,
    NotSourceOwnerError,
    RPCError,
    SourceInactiveError,
    SourceInfo,
    SourceNotFoundError,
    SourceStatus,
    TaskInfo,
    TaskInput,
)
from ogpu.types.metadata import is_pydantic_model

_URL_SCHEMES = ("http", "https", "ipfs")
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")


def _url(name: str, value: str, what: str = "a docker compose file") -> None:
    """Refuse anything but an http(s) URL with a host or an ipfs:// URL. No I/O.

    Whitespace and control characters are refused first: ``urlsplit`` drops tabs
    and newlines, so ``"java\tscript:..."`` would otherwise pass as another scheme.
    """
    _text_problem(name, value)
    try:
        parts = None if _UNSAFE_IN_URL.search(value) else urlsplit(value)
    except ValueError:
        parts = None
    located = parts is not None and (
        bool(parts.netloc)
        if parts.scheme in ("http", "https")
        else bool(parts.netloc or parts.path)
    )
    if parts is None or parts.scheme not in _URL_SCHEMES or not located:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidParamsError(
            f"{name} must be an http(s) or ipfs:// URL of {what}, got {shown!r}", param=name
        )


def _text_problem(name: str, value: str) -> None:
    """Refuse text the metadata upload cannot encode (a lone surrogate). No I/O."""
    problem = json_value_problem(value)
    if problem is not None:
        raise InvalidParamsError(f"SourceInfo.{name}: {problem.reason}", param=name)


def check_source_info(info: object) -> SourceInfo:
    """Validate a ``SourceInfo`` (it is mutable, so re-checked at use). No I/O.

    Raises:
        InvalidParamsError: not a SourceInfo, empty name, text UTF-8 cannot encode, no image
            environment, or a URL that is not http(s)/ipfs (``javascript:``, ``data:``,
            ``file:``..., or with whitespace) in ``imageEnvs``, ``logoUrl`` or
            ``optionalParamsUrl``.
        InvalidAmountError: a negative or non-int amount, or ``maxExpiryDuration`` < 1.
        InvalidEnumValueError: unknown delivery method.
    """
    if not isinstance(info, SourceInfo):
        raise InvalidParamsError(
            f"source_info must be a SourceInfo, got {type(info).__name__}", param="source_info"
        )
    for name in ("name", "description", "logoUrl", "optionalParamsUrl"):
        if not isinstance(getattr(info, name), str):
            raise InvalidParamsError(f"SourceInfo.{name} must be a str", param=name)
    if not info.name.strip():
        raise InvalidParamsError(
            "SourceInfo.name must not be empty; give the source a name", param="name"
        )
    for name in ("name", "description"):
        _text_problem(name, getattr(info, name))
    if info.logoUrl:
        _url("logoUrl", info.logoUrl, "an image")
    if info.optionalParamsUrl:
        _url("optionalParamsUrl", info.optionalParamsUrl, "the optional parameters")
    envs = info.imageEnvs
    if not isinstance(envs, ImageEnvironments):
        raise InvalidParamsError(
            "SourceInfo.imageEnvs must be an ImageEnvironments", param="imageEnvs"
        )
    if not envs.mask:
        raise InvalidParamsError(
            "SourceInfo.imageEnvs names no image environment; give at least one docker "
            "compose URL (ImageEnvironments(cpu=..., nvidia=..., amd=...))",
            param="imageEnvs",
        )
    for env in ("cpu", "nvidia", "amd"):
        value = getattr(envs, env)
        if not isinstance(value, str):
            raise InvalidParamsError(f"imageEnvs.{env} must be a str URL", param=f"imageEnvs.{env}")
        if value:
            _url(f"imageEnvs.{env}", value)
    uint(info.minPayment, "minPayment")
    uint(info.minAvailableLockup, "minAvailableLockup")
    uint(info.maxExpiryDuration, "maxExpiryDuration", minimum=1)
    try:
        DeliveryMethod(info.deliveryMethod)
    except ValueError:
        raise InvalidEnumValueError(
            f"SourceInfo.deliveryMethod must be a DeliveryMethod, got {info.deliveryMethod!r}",
            param="deliveryMethod",
            enum_name="DeliveryMethod",
        ) from None
    if not isinstance(info.privacyEnabled, bool):
        raise InvalidParamsError("SourceInfo.privacyEnabled must be a bool", param="privacyEnabled")
    return info


def check_task_info(info: object) -> tuple[str, dict[str, Any]]:
    """Validate a ``TaskInfo``; return its checksummed source and config JSON object. No I/O.

    Raises:
        InvalidParamsError: not a TaskInfo, a ``function_name`` no service can route (see
            ``ogpu._routing``), or a config that is not JSON every consumer accepts (NaN,
            lone surrogates, nested deeper than the services' limit...; the message names
            the path).
        InvalidAddressError: malformed ``source``.
        InvalidAmountError: negative or non-int ``expiryTime``/``payment``.
    """
    if not isinstance(info, TaskInfo):
        raise InvalidParamsError(
            f"task_info must be a TaskInfo, got {type(info).__name__}", param="task_info"
        )
    source = check_address(info.source, "source")
    config = info.config
    if not isinstance(config, TaskInput):
        raise InvalidParamsError("TaskInfo.config must be a TaskInput", param="config")
    problem = function_name_problem(config.function_name)
    if problem is not None:
        raise InvalidParamsError(f"TaskInput.{problem}", param="function_name")
    if not isinstance(config.data, Mapping) and not is_pydantic_model(config.data):
        raise InvalidParamsError("TaskInput.data must be a dict or a pydantic model", param="data")
    document = _config_document(config)
    found = json_value_problem(document)
    if found is not None:
        raise InvalidParamsError(
            f"the task config is not valid JSON at {found.describe('config')}", param="data"
        )
    try:
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParamsError(
            f"TaskInput is not JSON-serialisable: {exc}", param="data"
        ) from None
    uint(info.expiryTime, "expiryTime", minimum=1)
    uint(info.payment, "payment")
    return source, document


def _config_document(config: TaskInput) -> dict[str, Any]:
    try:
        return config.to_dict()
    except Exception as exc:  # a pydantic model whose serialiser fails
        raise InvalidParamsError(
            f"TaskInput.data cannot be serialised to JSON: {type(exc).__name__}: {exc}",
            param="data",
        ) from None


@dataclass(frozen=True)
class SourceState:
    """What the pre-send checks read about a source (one block)."""

    address: str
    status: SourceStatus
    owner: str
    params: SourceParams
    extra: tuple[Any, ...]
    chain_time: int | None = None


def read_source(address: str, *extra: Any, with_chain_time: bool = False) -> SourceState:
    """Read a source's id, status, owner and params (plus ``extra`` calls) in one ``eth_call``.

    ``with_chain_time``: also fill ``chain_time`` (``chain_now``), the
    ``eth_getBlockByNumber`` riding in the same JSON-RPC batch (one HTTP request).

    Raises:
        SourceNotFoundError: ``address`` is not a source published through this Nexus.
        RPCError: the read failed.
    """
    return read_sources([address], *extra, with_chain_time=with_chain_time)[address]


def read_sources(
    addresses: Sequence[str], *extra: Any, with_chain_time: bool = False
) -> dict[str, SourceState]:
    """``read_source`` for several sources in one aggregated ``eth_call`` (one block);
    every state carries the same ``extra`` results and ``chain_time``.

    Raises:
        SourceNotFoundError: an address is not a source published through this Nexus.
        RPCError: the read failed.
    """
    unique = list(dict.fromkeys(addresses))
    calls: list[Any] = []
    for address in unique:
        calls += [
            nexus_abi.get_source_id_call(singleton("NEXUS"), address),
            source_abi.get_status_call(address),
            source_abi.owner_call(address),
            source_abi.get_source_params_call(address),
        ]
    calls += extra
    now: int | None = None
    if with_chain_time:
        results, now = read_calls_and_now(calls)
    else:
        results = read_calls(calls)
    tail: list[Any] = []
    offset = 4 * len(unique)
    for call, result in zip(calls[offset:], results[offset:], strict=True):
        if not result.success:
            raise RPCError(f"the read of {call.contract}.{call.function} at {call.to} reverted")
        tail.append(call.decode(result.data))
    states: dict[str, SourceState] = {}
    for n, address in enumerate(unique):
        part = slice(4 * n, 4 * n + 4)
        states[address] = _source_state(address, calls[part], results[part], tuple(tail), now)
    return states


def _source_state(
    address: str,
    calls: Sequence[Any],
    results: Sequence[Any],
    extra: tuple[Any, ...],
    now: int | None,
) -> SourceState:
    missing = SourceNotFoundError(
        message=f"{address} is not a source published on this network's Nexus; "
        "check the address and the selected chain",
        address=address,
    )
    if not results[0].success or not calls[0].decode(results[0].data):
        raise missing
    values: list[Any] = []
    for call, result in zip(calls[1:], results[1:], strict=True):
        if not result.success:
            raise missing
        try:
            values.append(call.decode(result.data))
        except Exception:
            raise missing from None
    status, owner, params = values
    return SourceState(address, SourceStatus(status), str(owner), params, extra, now)


def require_active(state: SourceState, operation: tuple[str, str], advice: str) -> None:
    """No I/O.

    Raises:
        SourceInactiveError: the source is inactive (the message ends with ``advice``).
    """
    if state.status != SourceStatus.ACTIVE:
        contract, function = operation
        raise SourceInactiveError(
            message=f"source {state.address} is inactive; {advice}",
            contract=contract,
            function=function,
        )


def require_owner(state: SourceState, account: str, operation: tuple[str, str]) -> None:
    """No I/O.

    Raises:
        NotSourceOwnerError: ``account`` does not own the source.
    """
    if state.owner.lower() != account.lower():
        contract, function = operation
        raise NotSourceOwnerError(
            message=f"source {state.address} is owned by {state.owner}, not by the signer "
            f"{account}; sign with the owner's key",
            contract=contract,
            function=function,
        )
