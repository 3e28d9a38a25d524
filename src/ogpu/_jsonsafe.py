"""Depth-bounded JSON parsing for untrusted bodies (stdlib only).

Some dependencies (py_ecc, via eth_account/web3) raise the interpreter's
recursion limit so far that ``json.loads`` of a deeply nested document
overflows the C stack and kills the process; scan the nesting first.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate, count, repeat
from operator import mul, sub
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JSONTooDeepError", "loads_bounded", "nesting_depth"]

MAX_JSON_DEPTH = 512
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN_AS_ONE = bytes.maketrans(b"[{]}", b"\x01\x01\x00\x00")


class JSONTooDeepError(ValueError):
    """A JSON document nests arrays/objects deeper than the allowed depth."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"nested deeper than {max_depth}")
        self.max_depth = max_depth


def nesting_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """Deepest ``[``/``{`` nesting outside JSON strings (C-speed scan). No I/O.

    Returns 0 without scanning when ``body`` holds at most ``limit`` brackets,
    since it then cannot nest deeper than ``limit``. Never raises.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return 0
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    opens = accumulate(brackets.translate(_OPEN_AS_ONE))
    return max(map(sub, map(mul, opens, repeat(2)), count(1)), default=0)


def loads_bounded(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(body)`` refusing documents nested deeper than ``max_depth``. No I/O.

    Raises JSONTooDeepError (a ValueError) for too deep a document, and
    ValueError/UnicodeDecodeError as ``json.loads`` does for invalid JSON.
    """
    if nesting_depth(body, max_depth) > max_depth:
        raise JSONTooDeepError(max_depth)
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise JSONTooDeepError(max_depth) from exc
