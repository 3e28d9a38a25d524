"""``ogpu provider show``; ``ogpu provider run``: the provider runtime against a source service.

``ogpu provider run`` serves the given sources' tasks with the source service
at ``--service-url`` (see :mod:`ogpu.provider`): start the service with
``CALLBACK_URL`` set to the runtime's callback URL (printed at start;
``http://127.0.0.1:8600/callback`` by default). It says what it waits for (the
service, the chain), follows the chain through outages and resets (a devnet
restarted without its state: it watches again from the new head and, with
``--register``, registers again once the source exists), and runs until
Ctrl-C/SIGTERM (or ``--exit-after N`` finished tasks), giving tasks in flight
``--grace`` seconds. ``--detach`` runs it in the background.
"""

from __future__ import annotations

import argparse
from typing import Any

from ogpu.cli import command_help
from ogpu.cli._common import add_common, add_subcommands, amount, connect, format_amount, output
from ogpu.cli._progress import stage
from ogpu.cli._provider_run import DEFAULT_CALLBACK_PORT, run, run_arguments
from ogpu.cli.base import SubParsers

__all__ = ["DEFAULT_CALLBACK_PORT", "provider_summary", "register"]


def provider_summary(address: str, with_sources: bool) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of a provider. One aggregated ``eth_call``; with sources,
    one more per ~600 sources plus one.

    Raises:
        InvalidAddressError, RPCError.
    """
    from ogpu.protocol import Provider

    provider = Provider(address)
    snap = provider.snapshot()
    data: dict[str, Any] = {
        "address": snap.address,
        "is_provider": snap.is_provider,
        "master": snap.master,
        "base_data": snap.base_data,
        "live_data": snap.live_data,
        "default_agent_disabled": snap.default_agent_disabled,
        "balance": amount(snap.balance),
        "lockup": amount(snap.lockup),
        "unbonding": amount(snap.unbonding),
        "total_earnings": amount(snap.total_earnings),
        "frozen_payment": amount(snap.frozen_payment),
        "is_eligible": snap.is_eligible,
        "block_number": snap.block_number,
    }
    lines: list[Any] = [
        ("Provider", snap.address),
        ("Announced", snap.is_provider),
        ("Master", snap.master),
        ("Lockup", format_amount(snap.lockup)),
        ("Balance", format_amount(snap.balance)),
        ("Unbonding", format_amount(snap.unbonding)),
        ("Total earnings", format_amount(snap.total_earnings)),
        ("Eligible", snap.is_eligible),
        ("Default agent off", snap.default_agent_disabled),
        ("Base data", snap.base_data or "-"),
        ("Live data", snap.live_data or "-"),
    ]
    if with_sources:
        sources = [s.address for s in provider.get_registered_sources()]
        data["sources"] = sources
        lines.append(("Sources", sources))
    return data, lines


def _show_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="provider address")
    parser.add_argument(
        "--sources",
        action="store_true",
        help="also list the sources it is registered to (scans every source)",
    )
    add_common(parser)


def _show(args: argparse.Namespace) -> int:
    connect(args)
    with stage(args, "reading the provider", slow_only=True):
        data, lines = provider_summary(args.address, args.sources)
    output(args, data, lines)
    return 0


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu provider show|run``. No I/O."""
    add_subcommands(
        subparsers,
        "provider",
        command_help("provider"),
        [
            ("show", "show a provider's pairing, vault state and sources", _show_args, _show),
            (
                "run",
                "serve sources' tasks with a source service (watch, attempt, /run, callback, "
                "pin, submit) until Ctrl-C",
                run_arguments,
                run,
            ),
        ],
    )
