"""Frozen captures returned by the instance classes' ``snapshot()``.

The fields and their order are the official SDK's; ours adds, at the end and
with defaults, ``block_number`` (every field of one snapshot was read from that
block; None for a snapshot built by hand) and, on ``MasterSnapshot``, the
vault's ``unbonding_timestamp`` and ``sanction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ogpu.types.enums import DeliveryMethod, ResponseStatus, SourceStatus, TaskStatus
from ogpu.types.structs import ResponseParams

if TYPE_CHECKING:
    from ogpu.types.params import SourceParams, TaskParams

__all__ = [
    "MasterSnapshot",
    "ProviderSnapshot",
    "ResponseSnapshot",
    "SourceSnapshot",
    "TaskSnapshot",
]


@dataclass(frozen=True)
class SourceSnapshot:
    """Every non-paginated field of a Source."""

    address: str
    client: str
    status: SourceStatus
    params: SourceParams
    task_count: int
    registrant_count: int
    block_number: int | None = None


@dataclass(frozen=True)
class TaskSnapshot:
    """Every non-paginated field of a Task; ``winning_provider`` is None until finalized."""

    address: str
    source: str
    status: TaskStatus
    params: TaskParams
    payment: int
    expiry_time: int
    delivery_method: DeliveryMethod
    attempt_count: int
    winning_provider: str | None
    block_number: int | None = None


@dataclass(frozen=True)
class ResponseSnapshot:
    """Every field of a Response (the off-chain payload is not fetched)."""

    address: str
    task: str
    params: ResponseParams
    data: str
    status: ResponseStatus
    timestamp: int
    confirmed: bool
    block_number: int | None = None


@dataclass(frozen=True)
class ProviderSnapshot:
    """A provider's Terminal and Vault state."""

    address: str
    master: str
    base_data: str
    live_data: str
    is_provider: bool
    default_agent_disabled: bool
    balance: int
    lockup: int
    unbonding: int
    unbonding_timestamp: int
    total_earnings: int
    frozen_payment: int
    sanction: int
    is_eligible: bool
    is_whitelisted: bool
    block_number: int | None = None


@dataclass(frozen=True)
class MasterSnapshot:
    """A master's Terminal and Vault state."""

    address: str
    provider: str
    is_master: bool
    balance: int
    lockup: int
    unbonding: int
    total_earnings: int
    frozen_payment: int
    is_eligible: bool
    is_whitelisted: bool
    unbonding_timestamp: int = 0
    sanction: int = 0
    block_number: int | None = None
