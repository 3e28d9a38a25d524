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
import re
from collections.abc import Callable, Sequence
from typing import Any

from ogpu_bindings import errors
from ogpu_bindings import source as source_abi
from ogpu_bindings import task as task_abi
from ogpu_bindings import vault as vault_abi
from ogpu_bindings.runtime import ContractCall

from ogpu.protocol import _bindings as b
from ogpu.types.errors import (
    InsufficientBalanceError,
    InsufficientLockupError,
    InvalidParamsError,
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
        return TaskNotFoundError(message=f"no Task contract at {address}", address=str(address))
    if reason == "UnknownSource":
        address = _field(first, "source", 0) if function == "publishTask" else first
        return SourceNotFoundError(message=f"no Source contract at {address}", address=str(address))
    if reason == "UnknownResponse":
        return ResponseNotFoundError(message=f"no Response contract at {first}", address=str(first))
    return None


def _enrich(
    error: OGPUError,
    contract: str | None,
    function: str | None,
    args: Sequence[Any],
    sender: str,
    block: int | None,
) -> None:
    vault = b.singleton("VAULT")
    calls: list[ContractCall[Any]] = []
    apply: list[str] = []
    if isinstance(error, InsufficientBalanceError) and error.available is None:
        if function in ("withdraw", "lock") and contract == "Vault":
            error.required = _arg(args, 0)
        elif function == "publishTask":
            error.required = _field(_arg(args, 0), "payment", 3)
        calls.append(vault_abi.balance_of_call(vault, sender))
        apply.append("available")
    elif isinstance(error, InsufficientLockupError) and error.available is None:
        account = sender
        if function == "unbond":
            error.required = _arg(args, 0)
        elif function == "register" and contract == "Nexus":
            account = b.checksum(_arg(args, 1), "provider")
            source = b.checksum(_arg(args, 0), "source")
            calls.append(vault_abi.min_lockup_per_source_call(vault))
            calls.append(source_abi.get_source_params_call(source))
            apply.extend(["min_lockup", "source_params"])
        calls.append(vault_abi.lockup_of_call(vault, account))
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
        calls.append(task_abi.get_expiry_time_call(b.checksum(task, "task")))
        apply.append("expiry")
    elif isinstance(error, UnbondingPeriodNotElapsedError) and error.unlock_time is None:
        calls.append(vault_abi.unbonding_timestamp_call(vault, sender))
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


# -- the official SDK's decoding entry points ------------------------------------------------------

_CONTEXT = re.compile(r"\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)")
_IDENTITY_ATTRS = ("account", "caller")


def _context(context: str | None) -> tuple[str | None, str | None]:
    """(contract, function) of an official context string like ``"Controller.cancelTask(0x..)"``."""
    found = _CONTEXT.match(context or "")
    return (found.group(1), found.group(2)) if found else (None, None)


def _message_reason(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    for marker in ("execution reverted:", "revert"):
        index = text.lower().find(marker)
        if index >= 0:
            return text[index + len(marker) :].strip(": ").strip()
    return text


def _user_pattern(error: OGPUError, context: str | None, caller: str | None) -> OGPUError | None:
    """A ``REVERT_PATTERN_MAP`` entry the user added, for a reason ours does not know."""
    reason = getattr(error, "reason", None)
    if type(error) is not TxRevertError or not reason:
        return None
    handler = REVERT_PATTERN_MAP.get(reason)
    if handler is None:
        handler = next((h for key, h in REVERT_PATTERN_MAP.items() if key in reason), None)
    return handler(reason, context or "", caller or "") if handler is not None else None


def decode_revert(
    exc: BaseException | bytes | str, *, context: str | None = None, caller: str | None = None
) -> OGPUError:
    """The typed error for a revert; returned, not raised. No RPC.

    ``exc`` is what the official SDK passes (a web3 ``ContractLogicError`` or any
    exception whose message says ``execution reverted: <reason>``), raw revert
    data (``bytes`` or ``0x`` hex), or a bare reason string. ``context`` (e.g.
    ``"Controller.cancelTask(0x...)"``) selects per-function meanings (a
    ``NotOwner`` of ``cancelTask`` is ``NotTaskOwnerError``); ``caller`` fills an
    error's ``account``/``caller`` when it has one. Unknown reasons give a plain
    ``TxRevertError`` unless ``REVERT_PATTERN_MAP`` has a handler for them.

    Raises:
        InvalidParamsError: ``exc`` is none of these.
    """
    contract, function = _context(context)
    error: OGPUError
    if isinstance(exc, (bytes, bytearray, memoryview)):
        error = errors.decode_revert(bytes(exc), contract=contract, function=function)
    elif isinstance(exc, str) and re.fullmatch(r"0x(?:[0-9a-fA-F]{2})*", exc):
        error = errors.decode_revert(bytes.fromhex(exc[2:]), contract=contract, function=function)
    elif isinstance(exc, str):
        error = errors.revert_from_reason(exc, contract=contract, function=function)
    elif isinstance(exc, BaseException):
        found = errors.revert_from_exception(exc, contract=contract, function=function)
        reason = _message_reason(exc)  # a message that says "execution reverted: <reason>"
        error = found or errors.revert_from_reason(reason, contract=contract, function=function)
    else:
        raise InvalidParamsError(
            f"decode_revert takes an exception, revert data or a reason, got {type(exc).__name__}",
            param="exc",
        )
    error = _user_pattern(error, context, caller) or error
    for attr in _IDENTITY_ATTRS:
        if caller and hasattr(error, attr) and getattr(error, attr) is None:
            setattr(error, attr, caller)
    return error


def _pattern(reason: str) -> Callable[[str, str, str], OGPUError]:
    def handler(found: str, context: str, caller: str) -> OGPUError:
        return decode_revert(found or reason, context=context or None, caller=caller or None)

    return handler


#: Revert reason -> ``handler(reason, context, caller)`` returning the typed error, as the
#: official SDK's table. Seeded with every reason the contracts use; entries added here
#: (for reasons ours does not know) are consulted by ``decode_revert``.
REVERT_PATTERN_MAP: dict[str, Callable[[str, str, str], OGPUError]] = {
    reason: _pattern(reason) for reason in errors.REVERT_REASONS
}
