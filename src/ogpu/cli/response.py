"""``ogpu response show``."""

from __future__ import annotations

from typing import Any

from ogpu.cli._common import (
    amount,
    format_amount,
    format_time,
    moment,
    show_leaf,
)
from ogpu.cli.base import Leaf

__all__ = ["SUBCOMMANDS", "response_summary"]


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


#: The ``ogpu response`` leaves (see :data:`ogpu.cli.base.Leaf`).
SUBCOMMANDS: list[Leaf] = [
    show_leaf(
        "response",
        "show a response's on-chain state (and its data)",
        "response contract address",
        response_summary,
        data="also fetch the result JSON (one HTTP GET)",
    ),
]
