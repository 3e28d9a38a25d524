"""Checks on JSON values the caller built, before they are serialised and pinned (stdlib only).

``json.dumps`` reports the first problem of a value without saying where it is,
raises ``UnicodeEncodeError`` only later (when the text is encoded to UTF-8 for
the upload) for a lone surrogate, and recurses in C (a deep value can overflow
the stack). :func:`json_value_problem` walks the value iteratively and names the
path of the first problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ogpu._jsonsafe import MAX_JSON_DEPTH

__all__ = ["JsonPath", "JsonProblem", "format_json_path", "json_value_problem"]

JsonPath = tuple[str | int, ...]
_KEY_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class JsonProblem:
    """Where a value stops being JSON (``path``) and why (``reason``)."""

    path: JsonPath
    reason: str

    def describe(self, root: str) -> str:
        """``"<path>: <reason>"`` with ``root`` naming the value itself. No I/O."""
        return f"{format_json_path(self.path, root)}: {self.reason}"


def format_json_path(path: JsonPath, root: str = "$") -> str:
    """``root.key[3]["odd key"]``: keys that are identifiers with a dot, others quoted. No I/O."""
    out = [root]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier() and part.isascii():
            out.append(f".{part}")
        else:
            quoted = part if len(part) <= 40 else part[:37] + "…"
            out.append(f"[{quoted!r}]")
    return "".join(out)


def _scalar_problem(value: object) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"the string holds a lone surrogate ({value[exc.start]!r} at index {exc.start}), "
                "which UTF-8 cannot encode; pass well-formed text"
            )
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a JSON number (JSON has no NaN or Infinity)"
    if value is None or isinstance(value, (bool, int, float)):
        return None
    return _not_json(value)


def _not_json(value: object) -> str:
    return (
        f"a value of type {type(value).__name__} is not JSON "
        "(use dicts, lists, strings, numbers, booleans and None)"
    )


def json_value_problem(value: object, max_depth: int = MAX_JSON_DEPTH) -> JsonProblem | None:
    """The first reason ``value`` is not JSON that every consumer accepts, or ``None``. No I/O.

    Refused: nesting deeper than ``max_depth`` (the services' and fetchers' limit),
    a circular reference, NaN and infinities, strings (and keys) that UTF-8 cannot
    encode (lone surrogates), keys ``json.dumps`` refuses, and non-JSON objects.
    Tuples count as lists, as for ``json.dumps``. Never raises.
    """
    stack: list[tuple[object, JsonPath, int]] = [(value, (), 1)]
    # the containers enclosing the item being looked at: (path, id)
    ancestors: list[tuple[JsonPath, int]] = []
    while stack:
        item, path, depth = stack.pop()
        while ancestors and ancestors[-1][0] != path[: len(ancestors[-1][0])]:
            ancestors.pop()
        if isinstance(item, Mapping) or (
            isinstance(item, Sequence) and not isinstance(item, (str, bytes, bytearray))
        ):
            if not isinstance(item, (Mapping, list, tuple)):
                return JsonProblem(path, _not_json(item))
            if depth > max_depth:
                return JsonProblem(path, f"nested deeper than {max_depth} levels (the limit)")
            if any(id(item) == seen for _, seen in ancestors):
                return JsonProblem(path, "the value contains itself (a circular reference)")
            ancestors.append((path, id(item)))
            children: list[tuple[object, JsonPath, int]] = []
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if not isinstance(key, _KEY_TYPES):
                        return JsonProblem(
                            path, f"key {key!r} is a {type(key).__name__}; JSON keys are strings"
                        )
                    problem = _scalar_problem(key)
                    if problem is not None:
                        return JsonProblem(path, f"key {key!r}: {problem}")
                    children.append((child, (*path, str(key)), depth + 1))
            else:
                children = [(child, (*path, i), depth + 1) for i, child in enumerate(item)]
            stack.extend(reversed(children))
            continue
        problem = _scalar_problem(item)
        if problem is not None:
            return JsonProblem(path, problem)
    return None
