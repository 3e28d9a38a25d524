"""Dump the public API of the installed ``ogpu`` as JSON (run by any interpreter).

Public: every importable module of the ``ogpu`` package whose dotted name has no
component starting with ``_``; in each, the names a user can import (``__all__``
when defined, else every name not starting with ``_`` that the package itself
defines or re-exports); for classes, their public members (enum members, dataclass
and pydantic fields, methods, properties) that are not inherited from outside the
package; for callables, their parameters (name, kind, whether they have a default).

Usage: ``python api_dump.py [--wanted < names.json]`` prints one JSON object to stdout.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import json
import pkgutil
import sys
import types
from typing import Any

_PLAIN = (str, int, float, bool, bytes, tuple, list, dict, frozenset, set, type(None))


def _ours(obj: object, package: str) -> bool:
    module = getattr(obj, "__module__", None) or ""
    root = module.split(".")[0]
    # the package itself and its generated sibling (``ogpu_bindings``)
    return root == package or root.startswith(package + "_")


def _params(obj: Any) -> list[list[Any]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, p.default is not inspect.Parameter.empty]
        for p in sig.parameters.values()
    ]


def _members(cls: type, package: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if issubclass(cls, enum.Enum):
        for name in cls.__members__:
            out[name] = {"kind": "enum_member"}
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if not f.name.startswith("_"):
                out[f.name] = {"kind": "field"}
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        for name in model_fields:
            if not name.startswith("_"):
                out[name] = {"kind": "field"}
    for klass in cls.__mro__:
        if not _ours(klass, package):
            continue
        for name, value in list(vars(klass).items()):
            if name.startswith("_") and name != "__init__":
                continue
            if name in out:
                continue
            raw = value
            if isinstance(raw, (staticmethod, classmethod)):
                raw = raw.__func__
            if isinstance(raw, property):
                out[name] = {"kind": "property"}
            elif isinstance(raw, types.MemberDescriptorType):
                # a ``__slots__`` attribute: set per instance, like a dataclass field
                out[name] = {"kind": "attribute"}
            elif callable(raw):
                out[name] = {"kind": "method", "params": _params(raw)}
            elif name in getattr(klass, "__annotations__", {}) or isinstance(raw, _PLAIN):
                out[name] = {"kind": "attribute"}
    return out


def _describe(obj: Any, package: str) -> dict[str, Any]:
    if isinstance(obj, types.ModuleType):
        return {"kind": "module", "name": obj.__name__}
    if inspect.isclass(obj):
        return {
            "kind": "class",
            "bases": [b.__name__ for b in obj.__mro__[1:]],
            "members": _members(obj, package),
        }
    if callable(obj):
        return {"kind": "function", "params": _params(obj)}
    return {"kind": "value", "type": type(obj).__name__}


def _public_names(module: types.ModuleType, package: str) -> list[str]:
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return sorted(set(declared))
    names = []
    for name, value in vars(module).items():
        # ``TYPE_CHECKING`` is typing's flag a module imported, not an API of its own
        if name.startswith("_") or name == "TYPE_CHECKING":
            continue
        if isinstance(value, types.ModuleType):
            if value.__name__.startswith(package + "."):
                names.append(name)
            continue
        if inspect.isclass(value) or callable(value):
            if _ours(value, package):
                names.append(name)
        elif isinstance(value, (*_PLAIN, enum.Enum)):
            names.append(name)
    return sorted(names)


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    found = [package]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        found.append(info.name)
    return sorted(found)


def dump(package: str = "ogpu", wanted: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The public API of ``package``; with ``wanted`` (module -> names), exactly those."""
    result: dict[str, Any] = {}
    for name in sorted(wanted) if wanted is not None else _modules(package):
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # an optional extra missing, a CLI entry point...
            result[name] = {"import_error": f"{type(exc).__name__}: {exc}"[:200]}
            continue
        entries = {}
        names = wanted[name] if wanted is not None else _public_names(module, package)
        for attr in names:
            if not hasattr(module, attr):
                entries[attr] = {"kind": "missing"}
                continue
            entries[attr] = _describe(getattr(module, attr), package)
        result[name] = {"names": entries}
    return result


if __name__ == "__main__":
    # ``--wanted``: read {module: [names]} from stdin and describe exactly those.
    want = json.load(sys.stdin) if "--wanted" in sys.argv else None
    json.dump(dump("ogpu", want), sys.stdout, indent=1, sort_keys=True)
