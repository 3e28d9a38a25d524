"""``ogpu vault show|deposit|lock|unbond|claim``.

Vault writes need an explicit key: ``--key-file FILE`` or ``--role ROLE``
(which reads ``$<ROLE>_PRIVATE_KEY``); there is no default role.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ogpu.cli import _common as common
from ogpu.cli._progress import stage
from ogpu.cli.base import CommandError, Leaf

__all__ = ["SUBCOMMANDS", "vault_summary"]


def vault_summary(address: str) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of an account's vault state. One aggregated ``eth_call``
    plus two for the vault's settings.

    Raises:
        InvalidAddressError, RPCError.
    """
    from ogpu.protocol import Provider, vault

    snap = Provider(address).snapshot()
    period = vault.get_unbonding_period()
    data: dict[str, Any] = {
        "address": snap.address,
        "balance": common.amount(snap.balance),
        "lockup": common.amount(snap.lockup),
        "unbonding": common.amount(snap.unbonding),
        "unbonding_timestamp": common.moment(snap.unbonding_timestamp),
        "total_earnings": common.amount(snap.total_earnings),
        "frozen_payment": common.amount(snap.frozen_payment),
        "sanction": common.amount(snap.sanction),
        "is_eligible": snap.is_eligible,
        "is_whitelisted": snap.is_whitelisted,
        "min_lockup_per_source": common.amount(vault.get_min_lockup_per_source()),
        "unbonding_period_seconds": period,
        "block_number": snap.block_number,
    }
    lines: list[Any] = [
        ("Account", snap.address),
        ("Balance", common.format_amount(snap.balance)),
        ("Lockup", common.format_amount(snap.lockup)),
        ("Unbonding", common.format_amount(snap.unbonding)),
        ("Unbonding until", common.format_time(snap.unbonding_timestamp)),
        ("Frozen payment", common.format_amount(snap.frozen_payment)),
        ("Total earnings", common.format_amount(snap.total_earnings)),
        ("Sanction", common.format_amount(snap.sanction)),
        ("Eligible", snap.is_eligible),
        ("Whitelisted", snap.is_whitelisted),
        ("Unbonding period", f"{period} s"),
    ]
    return data, lines


def _show_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "address", nargs="?", help="account (default: the address of --key-file / --role)"
    )
    common.add_key_file(parser, None)
    common.add_common(parser)


def _show(args: argparse.Namespace) -> int:
    if not (args.address or args.key_file or args.role):
        raise CommandError(
            "give an ADDRESS, or --key-file/--role to show that key's account", kind="input"
        )
    address = (
        common.address_option(args.address, "address")
        if args.address
        else common.load_signer(args, None).address
    )
    common.connect(args)
    with stage(args, "reading the vault", slow_only=True):
        data, lines = vault_summary(address)
    common.output(args, data, lines)
    return 0


def _amount_args(extra: Callable[[argparse.ArgumentParser], None] | None = None) -> Any:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("amount", help="wei, or e.g. '1 OGPU', '0.5 ether', '10 gwei'")
        if extra is not None:
            extra(parser)
        common.add_key_file(parser, None)
        common.add_common(parser)

    return add


def _no_args(parser: argparse.ArgumentParser) -> None:
    common.add_key_file(parser, None)
    common.add_common(parser)


def _report(
    args: argparse.Namespace,
    label: str,
    holder: str,
    signer: str,
    receipt: Any,
    wei: int | None = None,
) -> int:
    data, lines = vault_summary(holder)
    record: dict[str, Any] = {"address": holder, "signer": signer, "tx_hash": receipt.tx_hash}
    if wei is not None:
        record["amount"] = common.amount(wei)
    head = [(label, receipt.tx_hash)] + (
        [("Amount", common.format_amount(wei))] if wei is not None else []
    )
    common.output(args, {**record, "vault": data}, [*head, *lines])
    return 0


def _deposit(args: argparse.Namespace) -> int:
    from ogpu.protocol import vault

    wei = common.parse_amount(args.amount, "amount")
    account = common.address_option(args.to, "--to") if args.to else None
    signer = common.load_signer(args, None)
    account = account or signer.address
    common.connect(args)
    with stage(args, "depositing (transaction)"):
        receipt = vault.deposit(account, wei, signer=signer)
    return _report(args, "Deposited", account, signer.address, receipt, wei)


def _to_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="ADDRESS", help="account to credit (default: the signer)")


def _simple(name: str, label: str, doing: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from ogpu.protocol import vault

        wei = common.parse_amount(args.amount, "amount")
        signer = common.load_signer(args, None)
        common.connect(args)
        with stage(args, f"{doing} (transaction)"):
            receipt = getattr(vault, name)(wei, signer=signer)
        return _report(args, label, signer.address, signer.address, receipt, wei)

    return run


def _claim(args: argparse.Namespace) -> int:
    from ogpu.protocol import vault

    signer = common.load_signer(args, None)
    common.connect(args)
    with stage(args, "claiming (transaction)"):
        receipt = vault.claim(signer=signer)
    return _report(args, "Claimed", signer.address, signer.address, receipt)


#: The ``ogpu vault`` leaves (see :data:`ogpu.cli.base.Leaf`).
SUBCOMMANDS: list[Leaf] = [
    ("show", "show an account's balances in the vault", _show_args, _show),
    ("deposit", "deposit coins into the vault", _amount_args(_to_arg), _deposit),
    (
        "lock",
        "lock (stake) part of the liquid balance",
        _amount_args(),
        _simple("lock", "Locked", "locking"),
    ),
    (
        "unbond",
        "start unbonding part of the lockup",
        _amount_args(),
        _simple("unbond", "Unbonding", "unbonding"),
    ),
    ("claim", "move matured unbonding back to the liquid balance", _no_args, _claim),
]
