"""Compare two API dumps (see ``api_dump.py``): what of ``official`` does ``ours`` lack?

A gap is reported for: a public module ours cannot import or lacks; a public name
(function, class, module or plain value) missing from a module; a class member
missing; a parameter name a call could pass that ours does not accept by name (a
``**kwargs`` of ours does not count: it would swallow the argument, not honour it)
or positionally in the same place; a required parameter ours has that the official
signature does not (official calls would fail).
"""

from __future__ import annotations

from typing import Any

_VAR = ("VAR_POSITIONAL", "VAR_KEYWORD")


def _positional(params: list[list[Any]]) -> list[str]:
    return [n for n, kind, _ in params if kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]


def _accepts(ours: list[list[Any]], name: str, kind: str) -> bool:
    names = {n: k for n, k, _ in ours}
    if name in names and names[name] not in _VAR and names[name] != "POSITIONAL_ONLY":
        return True
    if kind == "VAR_POSITIONAL":
        return any(k == "VAR_POSITIONAL" for _, k, _ in ours)
    if kind == "VAR_KEYWORD":
        return any(k == "VAR_KEYWORD" for _, k, _ in ours)
    # A named official parameter must be named in ours: a ``**kwargs`` of ours would
    # swallow it without honouring it.
    return False


def compare_params(
    where: str, official: list[list[Any]] | None, ours: list[list[Any]] | None
) -> list[str]:
    if official is None:
        return []
    if ours is None:
        return [f"{where}: signature not introspectable on ours"]
    gaps = []
    for name, kind, _ in official:
        if name in ("self", "cls"):
            continue
        if not _accepts(ours, name, kind):
            gaps.append(f"{where}: parameter {name!r} ({kind}) missing")
    theirs_pos = [n for n in _positional(official) if n not in ("self", "cls")]
    ours_pos = [n for n in _positional(ours) if n not in ("self", "cls")]
    star = any(k == "VAR_POSITIONAL" for _, k, _ in ours)
    if ours_pos[: len(theirs_pos)] != theirs_pos and not star:
        gaps.append(f"{where}: positional order {theirs_pos} vs ours {ours_pos}")
    official_names = {n for n, _, _ in official}
    official_kw = any(k == "VAR_KEYWORD" for _, k, _ in official)
    for name, kind, has_default in ours:
        if has_default or kind in _VAR or name in ("self", "cls"):
            continue
        if name not in official_names and not official_kw:
            gaps.append(f"{where}: ours requires {name!r}, which official calls never pass")
    return gaps


def compare_entry(where: str, official: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    kind = official["kind"]
    if ours["kind"] == "missing":
        return [f"{where}: official is a {kind}, ours is missing"]
    if kind == "function":
        if ours["kind"] not in ("function", "class"):
            return [f"{where}: official is a function, ours is a {ours['kind']}"]
        return compare_params(where, official.get("params"), ours.get("params"))
    if kind == "class":
        if ours["kind"] != "class":
            return [f"{where}: official is a class, ours is a {ours['kind']}"]
        gaps = []
        for base in official["bases"]:
            if base not in ours["bases"] and base not in ("object", "Generic", "ABC"):
                gaps.append(f"{where}: not a subclass of {base}")
        for name, member in official["members"].items():
            have = ours["members"].get(name)
            if have is None:
                gaps.append(f"{where}.{name}: member missing ({member['kind']})")
            elif member["kind"] == "method" and have["kind"] == "method":
                gaps.extend(compare_params(f"{where}.{name}", member["params"], have["params"]))
        return gaps
    if kind == "module" and ours["kind"] != "module":
        return [f"{where}: official is a module, ours is a {ours['kind']}"]
    return []


def compare(official: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    gaps: list[str] = []
    for module, spec in sorted(official.items()):
        if "import_error" in spec:
            continue
        mine = ours.get(module)
        if mine is None:
            gaps.append(f"{module}: module missing")
            continue
        if "import_error" in mine:
            gaps.append(f"{module}: does not import ({mine['import_error']})")
            continue
        for name, entry in sorted(spec["names"].items()):
            have = mine["names"].get(name)
            if have is None:
                # a name ours defines without listing it in __all__ still imports
                gaps.append(f"{module}.{name}: missing ({entry['kind']})")
                continue
            gaps.extend(compare_entry(f"{module}.{name}", entry, have))
    return gaps
