"""Revert decoding plus the chain state a bare revert reason does not carry.

The generated ``decode_revert`` maps revert data to the typed error. A
revert string like ``InsufficientBalance`` carries no numbers, so this module
reads them (one aggregated ``eth_call``) and fills the typed attributes:
``InsufficientBalanceError.required/available``,
``InsufficientLockupError.required/available``, ``TaskExpiredError.expiry``,
``UnbondingPeriodNotElapsedError.unlock_time``. Unknown-address reverts
(``UnknownTask``/``UnknownSource``/``UnknownResponse``) become the matching
``*NotFoundError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from ogpu_bindings._runtime import ContractCall

from ogpu.protocol import _bindings as b
from ogpu.types.errors import (
    InsufficientBalanceError,
    InsufficientLockupError,
    OGPUError,
    ResponseNotFoundError,
    SourceNotFoundError,
    TaskExpiredError,
    TaskNotFoundError,
    TxRevertError,
    UnbondingPeriodNotElapsedError,
)


def _field(value: Any, name: str, index: int) -> Any:
    if hasattr(value, name):
        return getattr(value, name)
    if isinstance(value, (tuple, list)) and len(value) > index:
        return value[index]
    if isinstance(value, dict):
        return value.get(name)
    return None


def _arg(args: Sequence[Any], index: int) -> Any:
    return args[index] if len(args) > index else None


def _not_found(error: TxRevertError, function: str | None, args: Sequence[Any]) -> OGPUError | None:
    reason = error.reason or ""
    first = _arg(args, 0)
    if reason == "UnknownTask":
        address = first if function != "submitResponse" else _field(first, "task", 0)
        return TaskNotFoundError(f"no Task contract at {address}", address=str(address))
    if reason == "UnknownSource":
        address = _field(first, "source", 0) if function == "publishTask" else first
        return SourceNotFoundError(f"no Source contract at {address}", address=str(address))
    if reason == "UnknownResponse":
        return ResponseNotFoundError(f"no Response contract at {first}", address=str(first))
    return None


def _enrich(
    error: OGPUError,
    contract: str | None,
    function: str | None,
    args: Sequence[Any],
    sender: str,
    block: int | None,
) -> None:
    vault_mod = b.module("vault")
    vault = b.singleton("VAULT")
    calls: list[ContractCall[Any]] = []
    apply: list[str] = []
    if isinstance(error, InsufficientBalanceError) and error.available is None:
        if function in ("withdraw", "lock") and contract == "Vault":
            error.required = _arg(args, 0)
        elif function == "publishTask":
            error.required = _field(_arg(args, 0), "payment", 3)
        calls.append(vault_mod.balance_of_call(vault, sender))
        apply.append("available")
    elif isinstance(error, InsufficientLockupError) and error.available is None:
        account = sender
        if function == "unbond":
            error.required = _arg(args, 0)
        elif function == "register" and contract == "Nexus":
            account = b.checksum(_arg(args, 1), "provider")
            source = b.checksum(_arg(args, 0), "source")
            calls.append(vault_mod.min_lockup_per_source_call(vault))
            calls.append(b.module("source").get_source_params_call(source))
            apply.extend(["min_lockup", "source_params"])
        calls.append(vault_mod.lockup_of_call(vault, account))
        apply.append("available")
    elif isinstance(error, TaskExpiredError) and error.expiry is None:
        if function == "publishTask":
            error.expiry = _field(_arg(args, 0), "expiryTime", 2)
            return
        task = _arg(args, 0)
        if function == "submitResponse":
            task = _field(task, "task", 0)
        if task is None:
            return
        calls.append(b.module("task").get_expiry_time_call(b.checksum(task, "task")))
        apply.append("expiry")
    elif isinstance(error, UnbondingPeriodNotElapsedError) and error.unlock_time is None:
        calls.append(vault_mod.unbonding_timestamp_call(vault, sender))
        apply.append("unlock_time")
    if not calls:
        return
    _, values = b.read_many(calls, block=block if block is not None else "latest")
    found = dict(zip(apply, values, strict=True))
    if "available" in found:
        error.available = int(found["available"])  # type: ignore[attr-defined]
    if "min_lockup" in found and isinstance(error, InsufficientLockupError):
        minimum = int(found["min_lockup"])
        error.required = max(minimum, int(found["source_params"].minAvailableLockup))
    if "expiry" in found and isinstance(error, TaskExpiredError):
        error.expiry = int(found["expiry"])
    if "unlock_time" in found and isinstance(error, UnbondingPeriodNotElapsedError):
        error.unlock_time = int(found["unlock_time"])


def decode_failure(
    data: bytes,
    contract: str | None,
    function: str | None,
    args: Sequence[Any],
    sender: str,
    block: int | None,
) -> OGPUError:
    """Typed error for revert ``data`` of ``contract.function(*args)`` sent by ``sender``.

    Cost: at most one aggregated ``eth_call`` (pinned to ``block`` when given)
    to fill attributes; a failing read leaves them None.
    """
    error = b.revert_error(data, contract, function)
    if isinstance(error, TxRevertError):
        replacement = _not_found(error, function, args)
        if replacement is not None:
            return replacement
    with contextlib.suppress(OGPUError):
        _enrich(error, contract, function, args, sender, block)
    return error
