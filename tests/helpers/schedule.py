"""Longest modules first, so that ``make test`` ends when its workers do.

``make test`` runs ``pytest -n auto --dist loadscope --no-loadscope-reorder``: each module
goes whole to one worker, in collection order, the next one to whichever worker is free.
xdist's own order (most tests first) started the few long modules with few tests (the
ABI-change recipe, the paging fixture, the CLI processes) last, so one worker ran them
while the others sat idle. ``order`` sorts modules by their seconds in
``module_seconds.json`` (unknown modules: ``UNKNOWN_PER_TEST`` a test), longest first:
the classic longest-processing-time rule, within a test or two of the best makespan.

Refresh the table after big changes (any run with a JUnit report will do)::

    pytest -n auto --dist loadscope --junitxml=/tmp/junit.xml
    python -m tests.helpers.schedule /tmp/junit.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

__all__ = ["SECONDS", "UNKNOWN_PER_TEST", "order"]

SECONDS = Path(__file__).with_name("module_seconds.json")
#: Estimated seconds per test of a module the table does not know yet (the suite's mean).
UNKNOWN_PER_TEST = 0.2


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def order(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: whole modules, longest first; tests keep their order
    inside a module. No I/O but reading the table."""
    known: dict[str, float] = json.loads(SECONDS.read_text()) if SECONDS.exists() else {}
    counts = Counter(_module(item) for item in items)
    weight = {m: known.get(m, UNKNOWN_PER_TEST * n) for m, n in counts.items()}
    first_seen = {m: i for i, m in enumerate(dict.fromkeys(_module(item) for item in items))}
    items.sort(key=lambda item: (-weight[_module(item)], first_seen[_module(item)]))


def table(junit_xml: Path) -> dict[str, float]:
    """Seconds per module file (setup, call and teardown) from a JUnit report."""
    seconds: Counter[str] = Counter()
    for case in ET.parse(junit_xml).iter("testcase"):
        parts = [p for p in str(case.get("classname")).split(".") if not p[:1].isupper()]
        seconds["/".join(parts) + ".py"] += float(case.get("time") or 0)
    return {m: round(s, 1) for m, s in sorted(seconds.items(), key=lambda x: -x[1])}


if __name__ == "__main__":
    SECONDS.write_text(json.dumps(table(Path(sys.argv[1])), indent=1) + "\n")
