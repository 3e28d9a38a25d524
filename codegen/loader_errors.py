"""Read abis/errors.json (and the custom errors of the ABIs) into the error classes."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import expect, read_json
from .loader_abi import _NAME_RE
from .model import CustomError, ErrorAttr, ErrorClass, RevertRule

_ATTR_TYPES = ("str", "int", "float", "bytes", "bool")
EXCEPTION_RESERVED = frozenset(
    {"message", "args", "default_message", "with_traceback", "add_note", "errno", "strerror"}
    | {"filename", "filename2", "characters_written", "winerror", "SELECTOR", "SIGNATURE"}
)


def _official(raw: dict[str, Any], where: str) -> tuple[tuple[str, ...], str | None]:
    """``"official": {"params": [...], "message": "..."}``: the official SDK's constructor."""
    spec = raw.get("official")
    if spec is None:
        return (), None
    expect(isinstance(spec, dict), f"{where}: official must be an object")
    params, message = spec.get("params"), spec.get("message")
    expect(
        isinstance(params, list)
        and bool(params)
        and all(isinstance(p, str) and _NAME_RE.match(p) for p in params),
        f"{where}: official.params must list attribute names",
    )
    expect(isinstance(message, str) and bool(message), f"{where}: official.message is required")
    for name in params:
        expect("{" + name + "}" in message, f"{where}: official.message must use {{{name}}}")
    return tuple(params), message


def _load_errors(path: Path) -> tuple[list[ErrorClass], dict[str, dict[str, str]]]:
    data = read_json(path)
    expect(isinstance(data, dict), "errors.json: top level must be an object")
    classes = data.get("classes")
    expect(isinstance(classes, list) and bool(classes), "errors.json: 'classes' must be a list")
    specs: list[ErrorClass] = []
    for i, raw in enumerate(classes):
        expect(isinstance(raw, dict), f"errors.json: classes[{i}] must be an object")
        name = raw.get("name")
        where = f"errors.json: class {name!r}"
        expect(isinstance(name, str) and bool(_NAME_RE.match(name)), f"{where}: bad name")
        parent = raw.get("parent")
        expect(parent is None or isinstance(parent, str), f"{where}: parent must be a name")
        bases = raw.get("builtin_bases", [])
        expect(
            isinstance(bases, list)
            and all(
                isinstance(b, str) and re.fullmatch(r"(builtins\.)?[A-Z]\w*", b) for b in bases
            ),
            f"{where}: builtin_bases must list builtin exception names",
        )
        doc, message = raw.get("doc"), raw.get("message")
        expect(isinstance(doc, str) and bool(doc), f"{where}: doc must be a non-empty string")
        expect(isinstance(message, str) and bool(message), f"{where}: message must be a string")
        attrs: list[ErrorAttr] = []
        for a in raw.get("attrs", []):
            expect(
                isinstance(a, dict)
                and isinstance(a.get("name"), str)
                and bool(_NAME_RE.match(a["name"])),
                f"{where}: attribute without a valid name",
            )
            expect(
                a.get("type") in _ATTR_TYPES,
                f"{where}: attribute {a['name']} type must be one of {_ATTR_TYPES}",
            )
            attrs.append(ErrorAttr(a["name"], a["type"], str(a.get("doc", ""))))
        rules: list[RevertRule] = []
        for r in raw.get("reverts", []):
            expect(
                isinstance(r, dict) and isinstance(r.get("reason"), str) and bool(r["reason"]),
                f"{where}: revert rule without a reason",
            )
            contract, function = r.get("contract"), r.get("function")
            expect(
                (contract is None) == (function is None),
                f"{where}: revert rule {r['reason']} needs both contract and function (or neither)",
            )
            rules.append(RevertRule(r["reason"], contract, function))
        also = raw.get("also", [])
        expect(
            isinstance(also, list) and all(isinstance(a, str) for a in also),
            f"{where}: also must list class names",
        )
        official, official_message = _official(raw, where)
        specs.append(  # ``inherited`` is filled once every class is known
            ErrorClass(
                name,
                parent,
                tuple(bases),
                doc,
                message,
                tuple(attrs),
                inherited=(),
                reverts=tuple(rules),
                also=tuple(also),
                official=official,
                official_message=official_message,
            )
        )
    names = [s.name for s in specs]
    expect(len(set(names)) == len(names), "errors.json: duplicate class names")
    for s in specs:
        expect(
            s.parent is not None and (s.parent in names or sdk_error_attrs(s.parent) is not None),
            f"errors.json: class {s.name}: parent {s.parent} is neither here nor in ogpu.errors",
        )
        clash = sdk_error_attrs(s.name)
        expect(clash is None, f"errors.json: class {s.name} is already in ogpu.errors")
        for extra in s.also:
            expect(extra in names, f"errors.json: class {s.name}: unknown base {extra}")
    defaults: dict[str, str] = {}
    specific: set[tuple[str, str, str]] = set()
    for s in specs:
        for r in s.reverts:
            if r.contract is None:
                expect(
                    r.reason not in defaults,
                    f"errors.json: reason {r.reason} maps to both {defaults.get(r.reason)} "
                    f"and {s.name}",
                )
                defaults[r.reason] = s.name
            else:
                key = (r.contract, str(r.function), r.reason)
                expect(key not in specific, f"errors.json: duplicate override {key}")
                specific.add(key)
    custom = data.get("custom_errors", {})
    expect(isinstance(custom, dict), "errors.json: custom_errors must be an object")
    for cname, spec in custom.items():
        expect(
            isinstance(spec, dict)
            and (
                spec.get("parent", "TxRevertError") in names
                or sdk_error_attrs(spec.get("parent", "TxRevertError")) is not None
            ),
            f"errors.json: custom error {cname}: parent must be a class here or in ogpu.errors",
        )
    return specs, custom


def sdk_error_attrs(name: str) -> tuple[ErrorAttr, ...] | None:
    """Constructor attributes (all but the message) of the hand-written ``ogpu.errors`` class
    ``name``; None if ogpu.errors has no such OGPUError subclass. Imports ogpu.errors."""
    from ogpu import errors as sdk

    cls = getattr(sdk, name, None)
    if not (isinstance(cls, type) and issubclass(cls, sdk.OGPUError)):
        return None
    out: list[ErrorAttr] = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        kind = str(p.annotation).removesuffix(" | None")
        if p.name != "message" and p.kind is not p.VAR_KEYWORD:
            expect(kind in _ATTR_TYPES, f"ogpu.errors.{name}: {p.name} is not one of {_ATTR_TYPES}")
            out.append(ErrorAttr(p.name, kind, ""))
    return tuple(out)


def _build_error_classes(
    specs: list[ErrorClass],
    custom_specs: dict[str, dict[str, str]],
    customs: list[CustomError],
) -> tuple[ErrorClass, ...]:
    by_name = {s.name: s for s in specs}
    expect("PanicError" in by_name, "errors.json: class PanicError is required (revert decoding)")

    def chain_attrs(name: str | None) -> tuple[ErrorAttr, ...]:
        seen: set[str] = set()
        out: list[ErrorAttr] = []
        lineage: list[str] = []
        while name is not None and name in by_name:
            expect(name not in lineage, f"errors.json: inheritance cycle through {name}")
            lineage.append(name)
            name = by_name[name].parent
        if name is not None:  # a hand-written ogpu.errors class: its keyword attributes
            for a in sdk_error_attrs(name) or ():
                seen.add(a.name)
                out.append(a)
        for n in reversed(lineage):
            for a in by_name[n].attrs:
                expect(
                    a.name not in seen and a.name not in EXCEPTION_RESERVED,
                    f"errors.json: class {n}: attribute {a.name} clashes with an inherited one",
                )
                seen.add(a.name)
                out.append(a)
        return tuple(out)

    classes: dict[str, ErrorClass] = {}
    children: dict[str | None, list[str]] = {}
    for s in specs:
        inherited = chain_attrs(s.parent)
        chain_attrs(s.name)
        available = {a.name for a in inherited + s.attrs}
        for extra in s.also:
            # an extra base may only bring attributes the class already has
            expect(
                {a.name for a in chain_attrs(extra)} <= available,
                f"errors.json: class {s.name}: base {extra} brings attributes of its own",
            )
        for param in s.official:
            expect(
                param in available,
                f"errors.json: class {s.name}: official parameter {param} is not an attribute",
            )
        classes[s.name] = replace(s, inherited=inherited)
        children.setdefault(s.parent, []).append(s.name)
    for ce in customs:
        expect(
            ce.class_name not in classes,
            f"custom error {ce.name}: class {ce.class_name} clashes with errors.json",
        )
        spec = custom_specs.get(ce.name, {})
        parent = spec.get("parent", "TxRevertError")
        inherited = chain_attrs(parent)
        taken = {a.name for a in inherited}
        attrs = []
        for p in ce.inputs:
            expect(
                p.py_name not in taken,
                f"custom error {ce.name}: argument {p.py_name} clashes with an inherited attribute",
            )
            attrs.append(ErrorAttr(p.py_name, p.type.annotation(), f"Decoded `{p.name}` argument."))
        classes[ce.class_name] = ErrorClass(
            name=ce.class_name,
            parent=parent,
            builtin_bases=(),
            doc=spec.get("doc", f"Solidity custom error {ce.name}."),
            message=spec.get("message", f"The contract reverted with {ce.name}."),
            attrs=tuple(attrs),
            inherited=inherited,
            reverts=(),
            custom=ce,
        )
        children.setdefault(parent, []).append(ce.class_name)
    ordered: list[ErrorClass] = []

    def visit(name: str) -> None:
        ordered.append(classes[name])
        for child in sorted(children.get(name, [])):
            visit(child)

    for root in sorted(p for p in children if p is not None and p not in classes):
        for child in sorted(children[root]):
            visit(child)
    expect(len(ordered) == len(classes), "errors.json: inheritance cycle among the classes")
    position = {c.name: i for i, c in enumerate(ordered)}
    for c in ordered:
        for extra in c.also:
            expect(
                position[extra] < position[c.name],
                f"errors.json: class {c.name}: base {extra} must come earlier in the tree walk",
            )
    return tuple(ordered)
