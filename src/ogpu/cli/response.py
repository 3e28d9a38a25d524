"""``ogpu response show``."""

from __future__ import annotations

import argparse
from typing import Any

from ogpu.cli import command_help
from ogpu.cli._common import (
    add_common,
    add_subcommands,
    amount,
    connect,
    format_amount,
    format_time,
    moment,
    output,
)
from ogpu.cli._progress import stage
from ogpu.cli.base import SubParsers

__all__ = ["register", "response_summary"]


def response_summary(address: str, with_data: bool) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of a response. One ``eth_call``, plus one HTTP GET for data.

    Raises:
        ResponseNotFoundError, RPCError, IPFSError subclasses.
    """
    from ogpu.protocol import Response

    response = Response.load(address)
    snap = response.snapshot()
    data: dict[str, Any] = {
        "address": snap.address,
        "task": snap.task,
        "provider": snap.params.provider,
        "status": snap.status,
        "confirmed": snap.confirmed,
        "data_url": snap.data,
        "payment": amount(snap.params.payment),
        "timestamp": moment(snap.timestamp),
        "block_number": snap.block_number,
    }
    lines: list[Any] = [
        ("Response", snap.address),
        ("Task", snap.task),
        ("Provider", snap.params.provider),
        ("Status", snap.status),
        ("Confirmed", snap.confirmed),
        ("Payment", format_amount(snap.params.payment)),
        ("Submitted", format_time(snap.timestamp)),
        ("Data URL", snap.data),
    ]
    if with_data:
        payload = response.fetch_data()
        data["data"] = payload
        lines.append(("Data", payload))
    return data, lines


def _show_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="response contract address")
    parser.add_argument(
        "--data", action="store_true", help="also fetch the result JSON (one HTTP GET)"
    )
    add_common(parser)


def _show(args: argparse.Namespace) -> int:
    connect(args)
    with stage(args, "reading the response", slow_only=True):
        data, lines = response_summary(args.address, args.data)
    output(args, data, lines)
    return 0


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu response show``. No I/O."""
    add_subcommands(
        subparsers,
        "response",
        command_help("response"),
        [("show", "show a response's on-chain state (and its data)", _show_args, _show)],
    )
