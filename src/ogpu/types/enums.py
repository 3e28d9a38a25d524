"""Enums: the on-chain ones (generated from abis/enums.json) and the SDK-only ``Role``."""

from __future__ import annotations

from enum import Enum

from ogpu_bindings.enums import (
    DeliveryMethod,
    Environment,
    ResponseStatus,
    SourceStatus,
    TaskStatus,
)

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

    @property
    def env_var(self) -> str:
        """Name of the environment variable holding this role's private key."""
        return f"{self.name}_PRIVATE_KEY"


def combine_environments(*environments: Environment | int) -> Environment:
    """OR environments into one bit mask. No I/O."""
    mask = Environment(0)
    for env in environments:
        mask |= Environment(env)
    return mask


def parse_environments(mask: int) -> list[Environment]:
    """Split a bit mask into its single environments, lowest bit first. No I/O."""
    return [env for env in (Environment.CPU, Environment.NVIDIA, Environment.AMD) if mask & env]


def environment_names(mask: int) -> list[str]:
    """Names of the environments in a bit mask, e.g. ``["CPU", "AMD"]``. No I/O."""
    return [env.name for env in parse_environments(mask) if env.name is not None]
