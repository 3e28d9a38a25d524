"""Vault operations shared by ``Provider`` and ``Master``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from ogpu_bindings import vault as vault_abi

from ogpu.chain.signer import resolve_signer
from ogpu.protocol import _bindings as b
from ogpu.protocol import vault as vault_fns
from ogpu.protocol._instance import AddressBound
from ogpu.types.errors import InvalidSignerError
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.types import Signer

#: Vault getters in snapshot order: (field name, generated call builder name).
VAULT_FIELDS = (
    ("balance", "balance_of_call"),
    ("lockup", "lockup_of_call"),
    ("unbonding", "unbonding_of_call"),
    ("unbonding_timestamp", "unbonding_timestamp_call"),
    ("total_earnings", "total_earnings_of_call"),
    ("frozen_payment", "frozen_payment_call"),
    ("sanction", "sanction_of_call"),
    ("is_eligible", "is_eligible_call"),
    ("is_whitelisted", "is_whitelisted_call"),
)


class VaultFields(TypedDict):
    """The vault part of a Provider or Master snapshot."""

    balance: int
    lockup: int
    unbonding: int
    unbonding_timestamp: int
    total_earnings: int
    frozen_payment: int
    sanction: int
    is_eligible: bool
    is_whitelisted: bool


def vault_fields(values: Sequence[Any]) -> VaultFields:
    """Snapshot fields from the results of :meth:`VaultAccount.vault_calls`. No RPC."""
    v = dict(zip((name for name, _ in VAULT_FIELDS), values, strict=True))
    return VaultFields(
        balance=int(v["balance"]),
        lockup=int(v["lockup"]),
        unbonding=int(v["unbonding"]),
        unbonding_timestamp=int(v["unbonding_timestamp"]),
        total_earnings=int(v["total_earnings"]),
        frozen_payment=int(v["frozen_payment"]),
        sanction=int(v["sanction"]),
        is_eligible=bool(v["is_eligible"]),
        is_whitelisted=bool(v["is_whitelisted"]),
    )


class VaultAccount(AddressBound):
    """An account's vault state and its own vault writes (explicit ``signer=`` only)."""

    __slots__ = ()

    def _own(self, signer: Signer) -> Signer:
        account = resolve_signer(signer, role=None)
        if account.address.lower() != self.address.lower():
            raise InvalidSignerError(
                message=f"the signer is {account.address}, but this operation moves the funds of "
                f"{self.address}; sign with that account's key"
            )
        return account

    def vault_calls(self) -> list[Any]:
        """The generated vault calls of ``VAULT_FIELDS`` for this account. No RPC."""
        vault = b.singleton("VAULT")
        a = self.address
        return [
            vault_abi.balance_of_call(vault, a),
            vault_abi.lockup_of_call(vault, a),
            vault_abi.unbonding_of_call(vault, a),
            vault_abi.unbonding_timestamp_call(vault, a),
            vault_abi.total_earnings_of_call(vault, a),
            vault_abi.frozen_payment_call(vault, a),
            vault_abi.sanction_of_call(vault, a),
            vault_abi.is_eligible_call(vault, a),
            vault_abi.is_whitelisted_call(vault, a),
        ]

    def get_balance(self) -> int:
        """Liquid vault balance in wei. One ``eth_call``."""
        return vault_fns.get_balance_of(self.address)

    def get_lockup(self) -> int:
        """Locked (staked) amount in wei. One ``eth_call``."""
        return vault_fns.get_lockup_of(self.address)

    def get_unbonding(self) -> int:
        """Amount unbonding in wei. One ``eth_call``."""
        return vault_fns.get_unbonding_of(self.address)

    def get_unbonding_timestamp(self) -> int:
        """Unix time the unbonding matures (0 when none). One ``eth_call``."""
        return vault_fns.get_unbonding_timestamp(self.address)

    def get_total_earnings(self) -> int:
        """Cumulative earnings in wei. One ``eth_call``."""
        return vault_fns.get_total_earnings_of(self.address)

    def get_frozen_payment(self) -> int:
        """Escrowed payment in wei. One ``eth_call``."""
        return vault_fns.get_frozen_payment(self.address)

    def get_sanction(self) -> int:
        """Sanctioned amount in wei. One ``eth_call``."""
        return vault_fns.get_sanction_of(self.address)

    def is_eligible(self) -> bool:
        """``Vault.isEligible``. One ``eth_call``."""
        return vault_fns.is_eligible(self.address)

    def is_whitelisted(self) -> bool:
        """``Vault.isWhitelisted``. One ``eth_call``."""
        return vault_fns.is_whitelisted(self.address)

    def stake(self, amount: int, *, signer: Signer) -> Receipt:
        """``vault.lock(amount)`` signed by this account.

        Raises:
            InvalidSignerError: the signer is another account. Plus ``vault.lock``'s errors.
        """
        return vault_fns.lock(amount, signer=self._own(signer))

    def unstake(self, amount: int, *, signer: Signer) -> Receipt:
        """``vault.unbond(amount)`` signed by this account.

        Raises:
            InvalidSignerError: the signer is another account. Plus ``vault.unbond``'s errors.
        """
        return vault_fns.unbond(amount, signer=self._own(signer))

    def cancel_unbonding(self, *, signer: Signer) -> Receipt:
        """``vault.cancel_unbonding()`` signed by this account.

        Raises:
            InvalidSignerError: the signer is another account.
            Plus ``vault.cancel_unbonding``'s errors.
        """
        return vault_fns.cancel_unbonding(signer=self._own(signer))

    def claim_earnings(self, *, signer: Signer) -> Receipt:
        """``vault.claim()`` signed by this account.

        Raises:
            InvalidSignerError: the signer is another account. Plus ``vault.claim``'s errors.
        """
        return vault_fns.claim(signer=self._own(signer))

    def deposit_to_vault(self, amount: int, *, signer: Signer) -> Receipt:
        """``vault.deposit(self.address, amount)``; any account may fund it."""
        return vault_fns.deposit(self.address, amount, signer=signer)

    def withdraw_from_vault(self, amount: int, *, signer: Signer) -> Receipt:
        """``vault.withdraw(amount)`` signed by this account.

        Raises:
            InvalidSignerError: the signer is another account. Plus ``vault.withdraw``'s errors.
        """
        return vault_fns.withdraw(amount, signer=self._own(signer))
