"""Enums: the on-chain ones (generated from abis/enums.json) and the SDK-only ``Role``."""

from __future__ import annotations

from enum import Enum
from typing import NoReturn, TypeVar

from ogpu_bindings.enums import (
    DeliveryMethod,
    Environment,
    ResponseStatus,
    SourceStatus,
    TaskStatus,
)

from ogpu.errors import InvalidEnumValueError, InvalidEnvironmentError, not_a_member, shown

__all__ = [
    "DeliveryMethod",
    "Environment",
    "ResponseStatus",
    "Role",
    "SourceStatus",
    "TaskStatus",
    "combine_environments",
    "environment_names",
    "parse_environments",
]


class Role(str, Enum):
    """Who an operation acts as; picks the ``<ROLE>_PRIVATE_KEY`` env var of ``resolve_signer``."""

    CLIENT = "client"
    PROVIDER = "provider"
    MASTER = "master"
    AGENT = "agent"

    @classmethod
    def _missing_(cls, value: object) -> NoReturn:
        raise not_a_member(cls, value)

    @property
    def env_var(self) -> str:
        """Name of the environment variable holding this role's private key."""
        return f"{self.name}_PRIVATE_KEY"


_E = TypeVar("_E", bound=Enum)


def member(enum: type[_E], value: object) -> _E:
    """``value`` (a member or its value) as a member of ``enum``. No I/O.

    Raises InvalidEnumValueError (a ValueError, as the enum call raises) for anything else;
    checked before the enum call, whose own error message runs the value's ``__repr__``.
    """
    kinds = (str,) if issubclass(enum, str) else (int, float)  # DeliveryMethod(1.0) works
    if isinstance(value, (*kinds, enum)):
        try:
            return enum(value)
        except ValueError:
            pass
    names = ", ".join(m.name for m in enum)
    raise InvalidEnumValueError(
        message=f"expected a {enum.__name__} ({names}) or its value, got {shown(value)}",
        enum_name=enum.__name__,
    )


def _environment(value: object) -> Environment:
    """``value`` (an Environment or an int mask) as an Environment. No I/O.

    Raises InvalidEnvironmentError for anything else (a float, a string, None...).
    """
    if not isinstance(value, int):
        raise InvalidEnvironmentError(
            message=f"expected an Environment (CPU, NVIDIA, AMD) or an int bit mask of them, "
            f"got {shown(value)}",
            enum_name="Environment",
        )
    return Environment(value)


def combine_environments(*environments: Environment | int) -> Environment:
    """OR environments into one bit mask. No I/O. Raises InvalidEnvironmentError."""
    mask = Environment(0)
    for env in environments:
        mask |= _environment(env)
    return mask


def parse_environments(mask: int) -> list[Environment]:
    """Split a bit mask into its single environments, lowest bit first. No I/O.

    Raises InvalidEnvironmentError for a mask that is no int.
    """
    mask = _environment(mask)
    return [env for env in (Environment.CPU, Environment.NVIDIA, Environment.AMD) if mask & env]


def environment_names(mask: int) -> list[str]:
    """Names of the environments in a bit mask, e.g. ``["CPU", "AMD"]``. No I/O.

    Raises InvalidEnvironmentError for a mask that is no int.
    """
    return [env.name for env in parse_environments(mask) if env.name is not None]
