"""Name conversions from Solidity identifiers to Python identifiers (pure functions)."""

from __future__ import annotations

import builtins
import keyword
import re

from .errors import CodegenError

_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_"))


def snake(name: str) -> str:
    """`getIsAgentOf` -> `get_is_agent_of`, `MIN_LOCKUP_PER_SOURCE` -> `min_lockup_per_source`."""
    core = name.strip("_")
    if not core:
        return ""
    if not _IDENT.match(core):
        raise CodegenError(f"{name!r} is not a valid Solidity identifier")
    out = _ACRONYM_WORD.sub(r"\1_\2", core)
    out = _LOWER_UPPER.sub(r"\1_\2", out)
    return re.sub(r"_+", "_", out).lower()


def upper_snake(name: str) -> str:
    """`TaskPublished` -> `TASK_PUBLISHED`."""
    return snake(name).upper()


def pascal(name: str) -> str:
    """`publishTask` -> `PublishTask`, `MIN_LOCKUP` -> `MinLockup`."""
    return "".join(part[:1].upper() + part[1:] for part in snake(name).split("_") if part)


def safe(
    name: str, reserved: frozenset[str] | set[str] = frozenset(), *, avoid_builtins: bool = True
) -> str:
    """Append `_` while `name` is a keyword, in `reserved` or (optionally) a builtin."""
    while keyword.iskeyword(name) or name in reserved or (avoid_builtins and name in BUILTIN_NAMES):
        name += "_"
    return name


def param_names(
    raw: list[str],
    *,
    reserved: frozenset[str] | set[str] = frozenset(),
    style: str = "snake",
    avoid_builtins: bool = True,
) -> tuple[str, ...]:
    """Python names for a parameter list; unnamed entries become `arg0`, `arg1`, ...

    `style` is `snake` (functions, events, errors) or `keep` (struct fields keep Solidity names).
    Raises CodegenError when two parameters collide after conversion.
    """
    names: list[str] = []
    for index, name in enumerate(raw):
        if style == "keep":
            base = name if name and _IDENT.match(name) else ""
        else:
            base = snake(name) if name else ""
        names.append(safe(base or f"arg{index}", reserved, avoid_builtins=avoid_builtins))
    if len(set(names)) != len(names):
        raise CodegenError(f"parameter names {raw!r} collide after conversion: {names!r}")
    return tuple(names)
