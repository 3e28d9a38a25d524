"""Shared by the report's table and its targets: the workload order and number formatting."""

from __future__ import annotations

import math
from typing import Any

ORDER = (
    "import",
    "first_result",
    "snapshot",
    "get_tasks",
    "get_tasks_10k",
    "publish_task",
    "publish_tasks",
    "watchers",
    "long_watch",
    "service",
)


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def fmt(value: Any, unit: str = "") -> str:
    if not finite(value):
        return "–"
    number = float(value)
    if abs(number) >= 100:
        text = f"{number:,.0f}"
    elif abs(number) >= 10:
        text = f"{number:.1f}"
    else:
        text = f"{number:.2f}"
    return f"{text} {unit}".strip()


def ratio(workload: dict[str, Any], cells: dict[str, Any], other: str) -> float:
    """How many times better ours is than ``other`` (> 1: ours is better)."""
    ours, theirs = cells.get("ours", {}), cells.get(other, {})
    if ours.get("status") != "ok" or theirs.get("status") != "ok":
        return math.nan
    a, b = ours.get("value"), theirs.get("value")
    if not (finite(a) and finite(b)) or a == 0 or b == 0:
        return math.nan
    return float(b / a) if workload.get("better") == "lower" else float(a / b)


def times(value: float) -> str:
    if not finite(value):
        return "–"
    return "<0.01×" if 0 < value < 0.01 else f"{value:.2f}×"
