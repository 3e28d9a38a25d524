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

from typing import Any

from ogpu.cli._common import amount, format_amount, show_leaf
from ogpu.cli._provider_run import DEFAULT_CALLBACK_PORT, run, run_arguments
from ogpu.cli.base import Leaf

__all__ = ["DEFAULT_CALLBACK_PORT", "SUBCOMMANDS", "provider_summary"]


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


#: The ``ogpu provider`` leaves (see :data:`ogpu.cli.base.Leaf`).
SUBCOMMANDS: list[Leaf] = [
    show_leaf(
        "provider",
        "show a provider's pairing, vault state and sources",
        "provider address",
        provider_summary,
        sources="also list the sources it is registered to (scans every source)",
    ),
    (
        "run",
        "serve sources' tasks with a source service (watch, attempt, /run, callback, "
        "pin, submit) until Ctrl-C",
        run_arguments,
        run,
    ),
]
