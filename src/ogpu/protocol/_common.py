"""What the generated protocol code (``ogpu_bindings.protocol``) calls besides the bindings:
the write path and the argument checks that go beyond the ABI."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ogpu.chain.signer import resolve_signer
from ogpu.types.enums import Environment
from ogpu.types.errors import InvalidEnumValueError, InvalidSignerError

if TYPE_CHECKING:
    from ogpu_bindings.runtime import TxRequest

    from ogpu.types import Signer
    from ogpu.types.enums import Role
    from ogpu.types.params import SourceParams, TaskParams
    from ogpu.types.receipt import Receipt

__all__ = ["own_signer", "single_environment", "source_params", "task_params", "transact"]


def transact(
    build: Callable[[], TxRequest],
    signer: Signer | None,
    role: Role | None,
) -> Receipt:
    """Validate and encode (``build``), resolve the signer, then execute.

    Input is validated before the signer is resolved, and both before any RPC.
    The executor (and web3 with it) is imported by the first call.
    """
    from ogpu.protocol._executor import execute_request

    request = build()
    account = resolve_signer(signer, role)
    return execute_request(request, account)


def single_environment(env: object) -> Environment:
    """``env`` as exactly one ``Environment`` (registrations take one, not a mask). No RPC.

    Raises:
        InvalidEnumValueError: not an int, or not exactly one of CPU, NVIDIA, AMD.
    """
    if isinstance(env, bool) or not isinstance(env, int):
        raise InvalidEnumValueError(
            f"env must be an Environment, got {type(env).__name__}",
            param="env",
            enum_name="Environment",
        )
    if env not in (Environment.CPU, Environment.NVIDIA, Environment.AMD):
        raise InvalidEnumValueError(
            f"env must be exactly one of CPU, NVIDIA, AMD, got {env}",
            param="env",
            enum_name="Environment",
            value=int(env),
        )
    return Environment(env)


def own_signer(address: str, signer: Signer) -> Signer:
    """The account of ``signer``, which must be ``address`` (it moves that account's funds).

    No RPC. Raises:
        InvalidSignerError: another account, or a malformed signer.
        MissingSignerError: no signer.
    """
    account = resolve_signer(signer, role=None)
    if account.address.lower() != address.lower():
        raise InvalidSignerError(
            message=f"the signer is {account.address}, but this operation moves the funds of "
            f"{address}; sign with that account's key"
        )
    return account


def source_params(value: object) -> SourceParams:
    """The SDK's ``SourceParams`` of a decoded ``getSourceParams()``, validated. No RPC."""
    from ogpu.types.params import SourceParams

    return SourceParams.from_struct(value)


def task_params(value: object) -> TaskParams:
    """The SDK's ``TaskParams`` of a decoded ``taskParams()`` (no validation: typed by the
    decoder). No RPC."""
    from ogpu.types.params import TaskParams, from_decoded

    return from_decoded(TaskParams, value)
