"""The one output schema of the command line (documented in ``docs/CLI.md``).

``--json`` prints one JSON object per line on stdout. Across commands:

- the subject of a command is ``address``; other contracts and accounts are named
  by what they are (``source``, ``task``, ``response``, ``client``, ``provider``...);
- amounts are ``{"wei": "<decimal string>", "human": "0.01 OGPU"}``;
- points in time are ``{"unix": <seconds>, "iso": "<ISO-8601 UTC>"}`` (``null`` for
  "never"), durations are ``<name>_seconds`` integers;
- enums are their names; transaction hashes are ``tx_hash``.

Without ``--json``, the same data as aligned ``Label: value`` lines.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum, Flag
from typing import Any

__all__ = [
    "add_quiet",
    "amount",
    "emit",
    "format_amount",
    "format_time",
    "jsonable",
    "moment",
    "now_moment",
    "output",
]


def format_amount(wei: int) -> str:
    """``1.5 OGPU (1500000000000000000 wei)``. No I/O."""
    return f"{_ogpu(wei)} OGPU ({wei} wei)"


def _ogpu(wei: int) -> str:
    return format(Decimal(wei).scaleb(-18).normalize(), "f")


def amount(wei: int) -> dict[str, str]:
    """An amount for ``--json``: exact wei as a decimal string, and a human string. No I/O."""
    return {"wei": str(int(wei)), "human": f"{_ogpu(int(wei))} OGPU"}


def moment(unix: int | float | None) -> dict[str, Any] | None:
    """A point in time for ``--json``: Unix seconds and ISO-8601 UTC; None for 0/None. No I/O."""
    if not unix:
        return None
    seconds = int(unix)
    iso = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"unix": seconds, "iso": iso}


def now_moment() -> dict[str, Any]:
    """The current time as :func:`moment` returns it (with milliseconds in ``iso``). No I/O."""
    now = time.time()
    stamp = datetime.fromtimestamp(now, tz=timezone.utc)
    return {"unix": round(now, 3), "iso": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}


def format_time(unix: int, now: float | None = None) -> str:
    """``2025-01-01T00:00:00Z (in 600 s)`` or ``(... ago)``; ``-`` for 0. No I/O."""
    shown = moment(unix)
    if shown is None:
        return "-"
    delta = int(unix - (time.time() if now is None else now))
    relative = f"in {delta} s" if delta >= 0 else f"{-delta} s ago"
    return f"{shown['iso']} ({relative})"


def jsonable(value: Any) -> Any:
    """Convert SDK values (enums, flags, structs, dataclasses, bytes) for ``json.dumps``. No I/O."""
    if isinstance(value, Flag):
        return [m.name for m in type(value) if m.value and (value & m) == m]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    from ogpu.types.metadata import is_pydantic_model

    if is_pydantic_model(value):  # SourceParams, TaskParams
        return {name: jsonable(field) for name, field in value}
    return str(value)


def _out(line: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, flush=True)


def emit(record: Mapping[str, Any]) -> None:
    """Print one JSON line on stdout. No other I/O."""
    _out(json.dumps(jsonable(record)))


def add_quiet(parser: Any) -> None:
    """Add ``-q/--quiet`` (print only the new address) to a command that creates one."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the new address, e.g. SOURCE=$(ogpu source publish s.toml -q)",
    )


def output(args: Any, data: Mapping[str, Any], lines: Iterable[tuple[str, Any]]) -> None:
    """Print ``data`` as one JSON line (``--json``), only its ``address`` (``--quiet``), or
    ``lines`` as aligned ``label: value``."""
    if getattr(args, "json", False):
        emit(data)
        return
    if getattr(args, "quiet", False):
        _out(str(data["address"]))
        return
    rows = [(label, value) for label, value in lines]
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        shown = jsonable(value)
        if isinstance(shown, list):
            shown = ", ".join(str(v) for v in shown) or "-"
        elif isinstance(shown, dict):
            shown = json.dumps(shown)
        _out(f"{label + ':':<{width + 1}} {shown}")
