"""Vault: deposits, stake (lockup), unbonding, earnings.

Writes require an explicit ``signer=``: there is no environment-variable
fallback (``MissingSignerError`` otherwise). Writes cost one transaction (see
``TxExecutor.execute``); reads one ``eth_call``. Invalid arguments raise
``InvalidInputError`` subclasses before any RPC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import vault as vault_abi
from ogpu_bindings.runtime import TxRequest

from ogpu.protocol import _bindings as b
from ogpu.protocol._common import transact
from ogpu.protocol._compat import official_names
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.types import Signer

__all__ = [
    "cancel_unbonding",
    "claim",
    "deposit",
    "get_balance_of",
    "get_frozen_payment",
    "get_lockup_of",
    "get_min_lockup_per_source",
    "get_sanction_of",
    "get_total_earnings_of",
    "get_unbonding_of",
    "get_unbonding_period",
    "get_unbonding_timestamp",
    "is_eligible",
    "is_whitelisted",
    "lock",
    "unbond",
    "withdraw",
]


def _address() -> str:
    return b.singleton("VAULT")


def deposit(account: str, amount: int, *, signer: Signer) -> Receipt:
    """Call ``Vault.deposit(account)`` sending ``amount`` wei: credit ``account``'s balance.

    Raises:
        MissingSignerError: no ``signer``. InvalidSignerError: malformed signer.
        InvalidAddressError / InvalidAmountError: bad input (before any RPC).
        GasError: the signer cannot pay ``amount`` plus gas.
    """

    def build() -> TxRequest:
        paid = b.uint(amount, "amount")
        request: TxRequest = vault_abi.deposit(_address(), account, value=paid)
        return request

    return transact(build, signer, None)


def withdraw(amount: int, *, signer: Signer) -> Receipt:
    """Call ``Vault.withdraw(amount)`` from the signer's liquid balance.

    Raises:
        InsufficientBalanceError: balance below ``amount`` (``required``/``available`` filled).
        MissingSignerError / InvalidSignerError / InvalidAmountError.
    """
    return transact(lambda: vault_abi.withdraw(_address(), amount), signer, None)


def lock(amount: int, *, signer: Signer) -> Receipt:
    """Call ``Vault.lock(amount)``: move liquid balance into lockup (stake).

    Raises:
        InsufficientBalanceError: balance below ``amount`` (``required``/``available`` filled).
        MissingSignerError / InvalidSignerError / InvalidAmountError.
    """
    return transact(lambda: vault_abi.lock(_address(), amount), signer, None)


def unbond(amount: int, *, signer: Signer) -> Receipt:
    """Call ``Vault.unbond(amount)``: start unbonding part of the lockup.

    Raises:
        InsufficientLockupError: lockup below ``amount`` (``required``/``available`` filled).
        MissingSignerError / InvalidSignerError / InvalidAmountError.
    """
    return transact(lambda: vault_abi.unbond(_address(), amount), signer, None)


def cancel_unbonding(*, signer: Signer) -> Receipt:
    """Call ``Vault.cancelUnbonding()``: return the unbonding amount to the lockup.

    Raises:
        FunctionNotOnNetworkError: the active network's vault lacks it (testnet), before any RPC.
        MissingSignerError / InvalidSignerError.
        TxRevertError: nothing is unbonding.
    """
    return transact(
        lambda: vault_abi.cancel_unbonding(_address(), network=b.network()), signer, None
    )


def claim(*, signer: Signer) -> Receipt:
    """Call ``Vault.claim()``: move matured unbonding into the liquid balance.

    Raises:
        UnbondingPeriodNotElapsedError: too early (``unlock_time`` filled from the vault).
        MissingSignerError / InvalidSignerError.
    """
    return transact(lambda: vault_abi.claim(_address()), signer, None)


def get_balance_of(address: str) -> int:
    """Liquid (withdrawable) balance in wei."""
    return int(b.read(vault_abi.balance_of_call(_address(), address)))


def get_lockup_of(address: str) -> int:
    """Locked (staked) amount in wei."""
    return int(b.read(vault_abi.lockup_of_call(_address(), address)))


def get_unbonding_of(address: str) -> int:
    """Amount currently unbonding, in wei."""
    return int(b.read(vault_abi.unbonding_of_call(_address(), address)))


def get_unbonding_timestamp(address: str) -> int:
    """Unix time the current unbonding matures (0 when none)."""
    return int(b.read(vault_abi.unbonding_timestamp_call(_address(), address)))


def get_total_earnings_of(address: str) -> int:
    """Cumulative task earnings in wei."""
    return int(b.read(vault_abi.total_earnings_of_call(_address(), address)))


def get_frozen_payment(address: str) -> int:
    """Payment escrowed for the account's open tasks, in wei."""
    return int(b.read(vault_abi.frozen_payment_call(_address(), address)))


def get_sanction_of(address: str) -> int:
    """Sanctioned amount in wei (usually 0)."""
    return int(b.read(vault_abi.sanction_of_call(_address(), address)))


def is_eligible(address: str) -> bool:
    """Whether the account is eligible for protocol work."""
    return bool(b.read(vault_abi.is_eligible_call(_address(), address)))


def is_whitelisted(address: str) -> bool:
    """Whether the account is on the vault whitelist."""
    return bool(b.read(vault_abi.is_whitelisted_call(_address(), address)))


def get_min_lockup_per_source() -> int:
    """``Vault.MIN_LOCKUP_PER_SOURCE`` in wei."""
    return int(b.read(vault_abi.min_lockup_per_source_call(_address())))


def get_unbonding_period() -> int:
    """``Vault.UNBONDING_PERIOD`` in seconds."""
    return int(b.read(vault_abi.unbonding_period_call(_address())))


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
else:
    __getattr__, __dir__ = official_names(
        __name__, globals(), "TxExecutor", "load_contract", "resolve_signer"
    )
