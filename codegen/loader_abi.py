"""Parse one ABI file (abis/<set>/<Name>Abi.json) into raw functions, events and errors,
applying the enums.json overrides and collecting the struct types."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .abitypes import AbiType, Param, parse_type
from .errors import CodegenError, expect, read_json
from .model import ResultClass, Struct
from .naming import param_names, pascal

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MUTABILITIES = ("pure", "view", "nonpayable", "payable")
FIELD_RESERVED = frozenset({"to_abi", "from_abi"})


@dataclass
class _Override:
    key: tuple[str, ...]
    enum: str
    text: str
    used: bool = False


@dataclass
class _RawFunction:
    name: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    mutability: str
    source: str


@dataclass
class _RawEvent:
    name: str
    inputs: tuple[Param, ...]
    anonymous: bool
    source: str


@dataclass
class _RawError:
    name: str
    inputs: tuple[Param, ...]
    source: str


@dataclass
class _RawContract:
    functions: dict[str, _RawFunction]
    events: dict[str, _RawEvent]
    errors: dict[str, _RawError]
    source: str


class _Parser:
    """Parses ABI entries, applying enums.json overrides and collecting structs."""

    def __init__(self, overrides: dict[tuple[str, ...], _Override], enum_names: set[str]):
        self.overrides = overrides
        self.enum_names = enum_names
        self.structs: dict[str, tuple[Struct, str]] = {}

    def _component(self, raw: Any, index: int, where: str) -> Param:
        expect(isinstance(raw, dict), f"{where}: component {index} must be an object")
        name = raw.get("name") or ""
        expect(isinstance(name, str), f"{where}: component name must be a string")
        t = parse_type(raw, f"{where}.{name or index}", self._component)
        return Param(name, name, t, bool(raw.get("indexed", False)))

    def _fix(self, t: AbiType, where: str, source: str) -> AbiType:
        """Apply struct-field overrides, name struct fields, check enums, register structs."""
        if t.kind == "array":
            assert t.item is not None
            return replace(t, item=self._fix(t.item, where, source))
        if t.kind == "tuple":
            comps = []
            raw_names = [c.name for c in t.components]
            style = "keep" if t.struct else "snake"
            names = param_names(
                raw_names, reserved=FIELD_RESERVED, style=style, avoid_builtins=False
            )
            for comp, py in zip(t.components, names, strict=True):
                ctype = self._fix(comp.type, where, source)
                if t.struct:
                    ov = self.overrides.get(("struct", t.struct, comp.name))
                    if ov is not None:
                        ov.used = True
                        ctype = self._with_enum(ctype, ov, where)
                comps.append(Param(comp.name, py, ctype))
            fixed = replace(t, components=tuple(comps))
            if t.struct:
                self._register_struct(fixed, where, source)
            return fixed
        if t.enum is not None:
            expect(
                t.enum in self.enum_names,
                f"{where}: enum {t.enum} (from internalType) is not defined in enums.json",
            )
        return t

    def _with_enum(self, t: AbiType, ov: _Override, where: str) -> AbiType:
        try:
            return t.with_enum(ov.enum)
        except CodegenError as exc:
            raise CodegenError(f"{where}: enums.json override {ov.text}: {exc}") from None

    def _register_struct(self, t: AbiType, where: str, source: str) -> None:
        assert t.struct is not None
        shape = [(c.name, c.type) for c in t.components]
        known = self.structs.get(t.struct)
        if known is None:
            self.structs[t.struct] = (Struct(t.struct, t.components, (source,)), where)
            return
        struct, first = known
        expect(
            [(c.name, c.type) for c in struct.fields] == shape,
            f"struct {t.struct} differs between {first} and {where}; "
            "the generator needs one definition per struct name",
        )
        if source not in struct.sources:
            self.structs[t.struct] = (
                replace(struct, sources=tuple(sorted({*struct.sources, source}))),
                first,
            )

    def params(
        self, raw: Any, where: str, source: str, site: tuple[str, ...] | None
    ) -> tuple[Param, ...]:
        """Top-level parameters (py_name left as the Solidity name; callers rename)."""
        if raw is None:
            return ()
        expect(isinstance(raw, list), f"{where}: inputs/outputs must be a list")
        out: list[Param] = []
        for i, item in enumerate(raw):
            p = self._component(item, i, where)
            t = self._fix(p.type, where, source)
            if site is not None:
                keys = [(*site, p.name)] if p.name else []
                if site[0] == "output":
                    keys.append((*site, str(i)))
                for key in keys:
                    ov = self.overrides.get(key)
                    if ov is not None:
                        ov.used = True
                        t = self._with_enum(t, ov, f"{where} {p.name or i}")
            out.append(replace(p, type=t))
        return tuple(out)

    def contract(self, path: Path, rel: str, name: str) -> _RawContract:
        data = read_json(path)
        expect(isinstance(data, list), f"{rel}: an ABI must be a JSON list")
        rc = _RawContract({}, {}, {}, rel)
        for i, entry in enumerate(data):
            expect(isinstance(entry, dict), f"{rel}: entry {i} must be an object")
            kind = entry.get("type", "function")
            if kind in ("constructor", "fallback", "receive"):
                continue
            ename = entry.get("name")
            expect(
                isinstance(ename, str) and bool(_NAME_RE.match(ename)),
                f"{rel}: entry {i} ({kind}) has no valid name",
            )
            where = f"{rel}: {kind} {ename}"
            if kind == "function":
                expect(
                    ename not in rc.functions, f"{where}: overloaded functions are not supported"
                )
                mut = entry.get("stateMutability")
                if mut is None:
                    mut = (
                        "view"
                        if entry.get("constant")
                        else ("payable" if entry.get("payable") else "nonpayable")
                    )
                expect(mut in _MUTABILITIES, f"{where}: unknown stateMutability {mut!r}")
                rc.functions[ename] = _RawFunction(
                    ename,
                    self.params(entry.get("inputs"), where, rel, ("input", name, ename)),
                    self.params(entry.get("outputs"), where, rel, ("output", name, ename)),
                    mut,
                    rel,
                )
            elif kind == "event":
                expect(ename not in rc.events, f"{where}: overloaded events are not supported")
                rc.events[ename] = _RawEvent(
                    ename,
                    self.params(entry.get("inputs"), where, rel, ("event", name, ename)),
                    bool(entry.get("anonymous", False)),
                    rel,
                )
            elif kind == "error":
                expect(ename not in rc.errors, f"{where}: overloaded errors are not supported")
                rc.errors[ename] = _RawError(
                    ename, self.params(entry.get("inputs"), where, rel, None), rel
                )
            else:
                raise CodegenError(f"{where}: unknown ABI entry type {kind!r}")
        return rc


def _shape(params: tuple[Param, ...]) -> list[tuple[str, AbiType, bool]]:
    return [(p.name, p.type, p.indexed) for p in params]


def _rename(
    params: tuple[Param, ...], reserved: frozenset[str], avoid_builtins: bool, where: str
) -> tuple[Param, ...]:
    try:
        names = param_names(
            [p.name for p in params], reserved=reserved, avoid_builtins=avoid_builtins
        )
    except CodegenError as exc:
        raise CodegenError(f"{where}: {exc}") from None
    return tuple(replace(p, py_name=n) for p, n in zip(params, names, strict=True))


def _result_class(fn: _RawFunction, contract: str) -> ResultClass | None:
    if len(fn.outputs) < 2:
        return None
    names = param_names(
        [p.name for p in fn.outputs], reserved=FIELD_RESERVED, style="keep", avoid_builtins=False
    )
    fields = tuple(replace(p, py_name=n) for p, n in zip(fn.outputs, names, strict=True))
    return ResultClass(f"{pascal(fn.name)}Result", fields, f"{contract}.{fn.name}")
