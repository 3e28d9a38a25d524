"""The vault part of ``Provider`` and ``Master`` snapshots.

The ``VaultAccount`` methods themselves are generated (``ogpu_bindings.protocol.vault``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ogpu_bindings import vault as vault_abi
from ogpu_bindings.runtime import ContractCall

from ogpu.protocol import _bindings as b

#: The snapshot fields ``vault_calls`` reads, in its order.
VAULT_FIELDS = (
    "balance",
    "lockup",
    "unbonding",
    "unbonding_timestamp",
    "total_earnings",
    "frozen_payment",
    "sanction",
    "is_eligible",
    "is_whitelisted",
)


def vault_calls(address: str) -> list[ContractCall[Any]]:
    """The vault reads of a snapshot of ``address``, in ``VAULT_FIELDS`` order. No RPC."""
    vault = b.singleton("VAULT")
    return [
        vault_abi.balance_of_call(vault, address),
        vault_abi.lockup_of_call(vault, address),
        vault_abi.unbonding_of_call(vault, address),
        vault_abi.unbonding_timestamp_call(vault, address),
        vault_abi.total_earnings_of_call(vault, address),
        vault_abi.frozen_payment_call(vault, address),
        vault_abi.sanction_of_call(vault, address),
        vault_abi.is_eligible_call(vault, address),
        vault_abi.is_whitelisted_call(vault, address),
    ]


def vault_fields(values: Sequence[Any]) -> dict[str, Any]:
    """Snapshot keyword arguments from the results of ``vault_calls`` (ints and bools, as
    the decoder typed them). No RPC."""
    return dict(zip(VAULT_FIELDS, values, strict=True))
