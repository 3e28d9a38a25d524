"""Read abis/ (ABI JSON per ABI set + enums.json, errors.json, networks.json) into the Model.

Every check that can fail lives here and raises CodegenError naming the file and item.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_utils.address import is_checksum_address
from eth_utils.crypto import keccak

from .abitypes import AbiType, Param, parse_type
from .errors import CodegenError
from .model import (
    Contract,
    CustomError,
    Enum,
    EnumMember,
    ErrorAttr,
    ErrorClass,
    Event,
    Function,
    Model,
    NetworkInfo,
    ResultClass,
    RevertRule,
    Struct,
)
from .naming import param_names, pascal, safe, snake

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SET_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_ATTR_TYPES = ("str", "int", "float", "bytes", "bool")
_MUTABILITIES = ("pure", "view", "nonpayable", "payable")

FUNCTION_RESERVED = frozenset({"w3", "address", "block_identifier"})
EVENT_RESERVED = frozenset({"address", "block_number", "transaction_hash", "log_index"})
FIELD_RESERVED = frozenset({"to_abi", "from_abi"})
#: Modules of ogpu_bindings that no contract module may shadow.
PACKAGE_MODULES = frozenset(
    {"abis", "enums", "errors", "events", "networks", "runtime", "structs", "_revert"}
)
MODULE_RESERVED = frozenset({"annotations", "dataclass"})
EXCEPTION_RESERVED = frozenset(
    {"message", "args", "default_message", "with_traceback", "add_note", "errno", "strerror"}
    | {"filename", "filename2", "characters_written", "winerror", "SELECTOR", "SIGNATURE"}
)
CUSTOM_ARG_RESERVED = EXCEPTION_RESERVED | {"tx_hash", "reason", "data", "contract", "function"}


def keccak_hex(text: str) -> str:
    """0x-prefixed keccak-256 of `text`."""
    return "0x" + keccak(text=text).hex()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodegenError(f"{path.name}: file not found at {path}") from None
    except json.JSONDecodeError as exc:
        raise CodegenError(f"{path.name}: invalid JSON: {exc}") from None


def _expect(cond: bool, message: str) -> None:
    if not cond:
        raise CodegenError(message)


# -- networks.json -------------------------------------------------------------------------------


def _objects(
    data: Any, key: str, where: str, pattern: re.Pattern[str]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(name, entry, where)`` per entry of the object ``data[key]``, sorted by name; each
    name must match ``pattern`` and each entry be an object (else CodegenError)."""
    entries = data.get(key)
    _expect(isinstance(entries, dict), f"{where.partition(':')[0]}: '{key}' must be an object")
    for name in sorted(entries):
        at = f"{where} {name!r}"
        _expect(bool(pattern.match(name)), f"{at}: name must match {pattern.pattern}")
        _expect(isinstance(entries[name], dict), f"{at}: must be an object")
        yield name, entries[name], at


def _load_networks(path: Path) -> tuple[tuple[NetworkInfo, ...], frozenset[str]]:
    data = _read_json(path)
    _expect(isinstance(data, dict), "networks.json: top level must be an object")
    instance = data.get("instance_contracts", [])
    _expect(
        isinstance(instance, list) and all(isinstance(x, str) for x in instance),
        "networks.json: instance_contracts must be a list of contract names",
    )
    _expect(bool(data.get("networks")), "networks.json: 'networks' must name a network")
    out: list[NetworkInfo] = []
    for name, raw, where in _objects(data, "networks", "networks.json: network", _SET_RE):
        chain_id = raw.get("chain_id")
        _expect(
            isinstance(chain_id, int) and not isinstance(chain_id, bool) and chain_id > 0,
            f"{where}: chain_id must be a positive int",
        )
        rpc = raw.get("rpc")
        _expect(isinstance(rpc, str) and rpc.startswith("http"), f"{where}: rpc must be a URL")
        abi_set = raw.get("abi_set")
        _expect(
            isinstance(abi_set, str) and bool(_SET_RE.match(abi_set)),
            f"{where}: abi_set must name a folder under abis/",
        )
        addresses = raw.get("addresses") or {}
        _expect(isinstance(addresses, dict), f"{where}: addresses must be an object")
        for key, addr in addresses.items():
            _expect(
                isinstance(addr, str) and is_checksum_address(addr),
                f"{where}: address of {key} is not a checksummed address",
            )
        agent = raw.get("default_agent")
        _expect(
            agent is None or (isinstance(agent, str) and is_checksum_address(agent)),
            f"{where}: default_agent must be null or a checksummed address",
        )
        out.append(
            NetworkInfo(
                name=name,
                chain_id=chain_id,
                rpc=rpc,
                abi_set=abi_set,
                addresses=tuple(sorted(addresses.items())),
                default_agent=agent,
            )
        )
    ids = [n.chain_id for n in out]
    _expect(len(set(ids)) == len(ids), "networks.json: two networks share a chain_id")
    return tuple(out), frozenset(instance)


# -- enums.json ----------------------------------------------------------------------------------


@dataclass
class _Override:
    key: tuple[str, ...]
    enum: str
    text: str
    used: bool = False


def _load_enums(path: Path) -> tuple[tuple[Enum, ...], dict[tuple[str, ...], _Override]]:
    data = _read_json(path)
    _expect(isinstance(data, dict), "enums.json: top level must be an object")
    enums: list[Enum] = []
    for name, raw, where in _objects(data, "enums", "enums.json: enum", _NAME_RE):
        flag = raw.get("flag", False)
        _expect(isinstance(flag, bool), f"{where}: flag must be true or false")
        members = raw.get("members")
        _expect(isinstance(members, dict) and bool(members), f"{where}: members must be an object")
        items: list[EnumMember] = []
        for mname, value in members.items():
            _expect(bool(_NAME_RE.match(mname)), f"{where}: member {mname!r} is not an identifier")
            _expect(
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**256,
                f"{where}: member {mname} must have a non-negative int value",
            )
            if flag:
                _expect(
                    value > 0 and value & (value - 1) == 0,
                    f"{where}: flag member {mname} must be a power of two",
                )
            items.append(EnumMember(mname, value))
        values = [m.value for m in items]
        _expect(len(set(values)) == len(values), f"{where}: two members share a value")
        doc = raw.get("doc", f"Solidity enum {name}.")
        _expect(isinstance(doc, str), f"{where}: doc must be a string")
        enums.append(Enum(name, doc, flag, tuple(sorted(items, key=lambda m: m.value))))
    names = {e.name for e in enums}
    overrides: dict[tuple[str, ...], _Override] = {}
    for i, raw in enumerate(data.get("overrides", [])):
        where = f"enums.json: overrides[{i}]"
        _expect(isinstance(raw, dict), f"{where}: must be an object")
        enum = raw.get("enum")
        _expect(enum in names, f"{where}: enum {enum!r} is not defined in 'enums'")
        if "struct" in raw:
            key: tuple[str, ...] = ("struct", str(raw["struct"]), str(raw.get("field")))
        elif "event" in raw:
            key = ("event", str(raw.get("contract")), str(raw["event"]), str(raw.get("param")))
        elif "function" in raw and "input" in raw:
            key = ("input", str(raw.get("contract")), str(raw["function"]), str(raw["input"]))
        elif "function" in raw and "output" in raw:
            key = ("output", str(raw.get("contract")), str(raw["function"]), str(raw["output"]))
        else:
            raise CodegenError(
                f"{where}: needs {{struct, field}}, {{contract, event, param}}, "
                "{contract, function, input} or {contract, function, output}"
            )
        _expect(key not in overrides, f"{where}: duplicate override {key}")
        overrides[key] = _Override(key, str(enum), json.dumps(raw, sort_keys=True))
    return tuple(enums), overrides


# -- errors.json ---------------------------------------------------------------------------------


def _official(raw: dict[str, Any], where: str) -> tuple[tuple[str, ...], str | None]:
    """``"official": {"params": [...], "message": "..."}``: the official SDK's constructor."""
    spec = raw.get("official")
    if spec is None:
        return (), None
    _expect(isinstance(spec, dict), f"{where}: official must be an object")
    params, message = spec.get("params"), spec.get("message")
    _expect(
        isinstance(params, list)
        and bool(params)
        and all(isinstance(p, str) and _NAME_RE.match(p) for p in params),
        f"{where}: official.params must list attribute names",
    )
    _expect(isinstance(message, str) and bool(message), f"{where}: official.message is required")
    for name in params:
        _expect("{" + name + "}" in message, f"{where}: official.message must use {{{name}}}")
    return tuple(params), message


def _load_errors(path: Path) -> tuple[list[ErrorClass], dict[str, dict[str, str]]]:
    data = _read_json(path)
    _expect(isinstance(data, dict), "errors.json: top level must be an object")
    classes = data.get("classes")
    _expect(isinstance(classes, list) and bool(classes), "errors.json: 'classes' must be a list")
    specs: list[ErrorClass] = []
    for i, raw in enumerate(classes):
        _expect(isinstance(raw, dict), f"errors.json: classes[{i}] must be an object")
        name = raw.get("name")
        where = f"errors.json: class {name!r}"
        _expect(isinstance(name, str) and bool(_NAME_RE.match(name)), f"{where}: bad name")
        parent = raw.get("parent")
        _expect(parent is None or isinstance(parent, str), f"{where}: parent must be a name")
        bases = raw.get("builtin_bases", [])
        _expect(
            isinstance(bases, list)
            and all(
                isinstance(b, str) and re.fullmatch(r"(builtins\.)?[A-Z]\w*", b) for b in bases
            ),
            f"{where}: builtin_bases must list builtin exception names",
        )
        doc, message = raw.get("doc"), raw.get("message")
        _expect(isinstance(doc, str) and bool(doc), f"{where}: doc must be a non-empty string")
        _expect(isinstance(message, str) and bool(message), f"{where}: message must be a string")
        attrs: list[ErrorAttr] = []
        for a in raw.get("attrs", []):
            _expect(
                isinstance(a, dict)
                and isinstance(a.get("name"), str)
                and bool(_NAME_RE.match(a["name"])),
                f"{where}: attribute without a valid name",
            )
            _expect(
                a.get("type") in _ATTR_TYPES,
                f"{where}: attribute {a['name']} type must be one of {_ATTR_TYPES}",
            )
            attrs.append(ErrorAttr(a["name"], a["type"], str(a.get("doc", ""))))
        rules: list[RevertRule] = []
        for r in raw.get("reverts", []):
            _expect(
                isinstance(r, dict) and isinstance(r.get("reason"), str) and bool(r["reason"]),
                f"{where}: revert rule without a reason",
            )
            contract, function = r.get("contract"), r.get("function")
            _expect(
                (contract is None) == (function is None),
                f"{where}: revert rule {r['reason']} needs both contract and function (or neither)",
            )
            rules.append(RevertRule(r["reason"], contract, function))
        also = raw.get("also", [])
        _expect(
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
    _expect(len(set(names)) == len(names), "errors.json: duplicate class names")
    for s in specs:
        _expect(
            s.parent is not None and (s.parent in names or sdk_error_attrs(s.parent) is not None),
            f"errors.json: class {s.name}: parent {s.parent} is neither here nor in ogpu.errors",
        )
        clash = sdk_error_attrs(s.name)
        _expect(clash is None, f"errors.json: class {s.name} is already in ogpu.errors")
        for extra in s.also:
            _expect(extra in names, f"errors.json: class {s.name}: unknown base {extra}")
    defaults: dict[str, str] = {}
    specific: set[tuple[str, str, str]] = set()
    for s in specs:
        for r in s.reverts:
            if r.contract is None:
                _expect(
                    r.reason not in defaults,
                    f"errors.json: reason {r.reason} maps to both {defaults.get(r.reason)} "
                    f"and {s.name}",
                )
                defaults[r.reason] = s.name
            else:
                key = (r.contract, str(r.function), r.reason)
                _expect(key not in specific, f"errors.json: duplicate override {key}")
                specific.add(key)
    custom = data.get("custom_errors", {})
    _expect(isinstance(custom, dict), "errors.json: custom_errors must be an object")
    for cname, spec in custom.items():
        _expect(
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
            _expect(
                kind in _ATTR_TYPES, f"ogpu.errors.{name}: {p.name} is not one of {_ATTR_TYPES}"
            )
            out.append(ErrorAttr(p.name, kind, ""))
    return tuple(out)


def _build_error_classes(
    specs: list[ErrorClass],
    custom_specs: dict[str, dict[str, str]],
    customs: list[CustomError],
) -> tuple[ErrorClass, ...]:
    by_name = {s.name: s for s in specs}
    _expect("PanicError" in by_name, "errors.json: class PanicError is required (revert decoding)")

    def chain_attrs(name: str | None) -> tuple[ErrorAttr, ...]:
        seen: set[str] = set()
        out: list[ErrorAttr] = []
        lineage: list[str] = []
        while name is not None and name in by_name:
            _expect(name not in lineage, f"errors.json: inheritance cycle through {name}")
            lineage.append(name)
            name = by_name[name].parent
        if name is not None:  # a hand-written ogpu.errors class: its keyword attributes
            for a in sdk_error_attrs(name) or ():
                seen.add(a.name)
                out.append(a)
        for n in reversed(lineage):
            for a in by_name[n].attrs:
                _expect(
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
            _expect(
                {a.name for a in chain_attrs(extra)} <= available,
                f"errors.json: class {s.name}: base {extra} brings attributes of its own",
            )
        for param in s.official:
            _expect(
                param in available,
                f"errors.json: class {s.name}: official parameter {param} is not an attribute",
            )
        classes[s.name] = replace(s, inherited=inherited)
        children.setdefault(s.parent, []).append(s.name)
    for ce in customs:
        _expect(
            ce.class_name not in classes,
            f"custom error {ce.name}: class {ce.class_name} clashes with errors.json",
        )
        spec = custom_specs.get(ce.name, {})
        parent = spec.get("parent", "TxRevertError")
        inherited = chain_attrs(parent)
        taken = {a.name for a in inherited}
        attrs = []
        for p in ce.inputs:
            _expect(
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
    _expect(len(ordered) == len(classes), "errors.json: inheritance cycle among the classes")
    position = {c.name: i for i, c in enumerate(ordered)}
    for c in ordered:
        for extra in c.also:
            _expect(
                position[extra] < position[c.name],
                f"errors.json: class {c.name}: base {extra} must come earlier in the tree walk",
            )
    return tuple(ordered)


# -- ABI files -----------------------------------------------------------------------------------


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
        _expect(isinstance(raw, dict), f"{where}: component {index} must be an object")
        name = raw.get("name") or ""
        _expect(isinstance(name, str), f"{where}: component name must be a string")
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
            _expect(
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
        _expect(
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
        _expect(isinstance(raw, list), f"{where}: inputs/outputs must be a list")
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
        data = _read_json(path)
        _expect(isinstance(data, list), f"{rel}: an ABI must be a JSON list")
        rc = _RawContract({}, {}, {}, rel)
        for i, entry in enumerate(data):
            _expect(isinstance(entry, dict), f"{rel}: entry {i} must be an object")
            kind = entry.get("type", "function")
            if kind in ("constructor", "fallback", "receive"):
                continue
            ename = entry.get("name")
            _expect(
                isinstance(ename, str) and bool(_NAME_RE.match(ename)),
                f"{rel}: entry {i} ({kind}) has no valid name",
            )
            where = f"{rel}: {kind} {ename}"
            if kind == "function":
                _expect(
                    ename not in rc.functions, f"{where}: overloaded functions are not supported"
                )
                mut = entry.get("stateMutability")
                if mut is None:
                    mut = (
                        "view"
                        if entry.get("constant")
                        else ("payable" if entry.get("payable") else "nonpayable")
                    )
                _expect(mut in _MUTABILITIES, f"{where}: unknown stateMutability {mut!r}")
                rc.functions[ename] = _RawFunction(
                    ename,
                    self.params(entry.get("inputs"), where, rel, ("input", name, ename)),
                    self.params(entry.get("outputs"), where, rel, ("output", name, ename)),
                    mut,
                    rel,
                )
            elif kind == "event":
                _expect(ename not in rc.events, f"{where}: overloaded events are not supported")
                rc.events[ename] = _RawEvent(
                    ename,
                    self.params(entry.get("inputs"), where, rel, ("event", name, ename)),
                    bool(entry.get("anonymous", False)),
                    rel,
                )
            elif kind == "error":
                _expect(ename not in rc.errors, f"{where}: overloaded errors are not supported")
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


def load_model(abis_dir: Path) -> Model:
    """Parse `abis_dir` into the Model. No network; raises CodegenError on any inconsistency."""
    networks, instance_contracts = _load_networks(abis_dir / "networks.json")
    enums, overrides = _load_enums(abis_dir / "enums.json")
    error_specs, custom_specs = _load_errors(abis_dir / "errors.json")
    parser = _Parser(overrides, {e.name for e in enums})

    set_names = sorted({n.abi_set for n in networks})
    raw_sets: dict[str, dict[str, _RawContract]] = {}
    for set_name in set_names:
        folder = abis_dir / set_name
        files = sorted(folder.glob("*Abi.json"))
        _expect(bool(files), f"abis/{set_name}: no *Abi.json files (named by networks.json)")
        contracts: dict[str, _RawContract] = {}
        for path in files:
            cname = path.name[: -len("Abi.json")]
            _expect(bool(_NAME_RE.match(cname)), f"abis/{set_name}/{path.name}: bad contract name")
            rel = f"abis/{set_name}/{path.name}"
            contracts[cname] = parser.contract(path, rel, cname)
        modules = [snake(c) for c in contracts]
        _expect(len(set(modules)) == len(modules), f"abis/{set_name}: module names collide")
        taken = sorted(set(modules) & PACKAGE_MODULES)
        _expect(not taken, f"abis/{set_name}: contract modules {taken} clash with the package's")
        raw_sets[set_name] = contracts

    unused = sorted(ov.text for ov in overrides.values() if not ov.used)
    _expect(not unused, f"enums.json: overrides match nothing in the ABIs: {unused}")
    for n in networks:
        for cname, _ in n.addresses:
            _expect(
                cname in raw_sets[n.abi_set],
                f"networks.json: {n.name} has an address for {cname}, "
                f"but abis/{n.abi_set} has no {cname}Abi.json",
            )

    all_contracts = sorted({c for contracts in raw_sets.values() for c in contracts})
    contracts = _share_events(
        [_build_contract(c, raw_sets, instance_contracts) for c in all_contracts]
    )
    customs = _build_custom_errors(raw_sets)
    errors = _build_error_classes(error_specs, custom_specs, customs)
    structs = tuple(sorted((s for s, _ in parser.structs.values()), key=lambda s: s.name))
    enum_names, struct_names = {e.name for e in enums}, {s.name for s in structs}
    clash = enum_names & struct_names
    _expect(not clash, f"names used for both a struct and an enum: {sorted(clash)}")
    for contract in contracts:
        _check_module_names(contract, enum_names, struct_names)
    return Model(
        enums, structs, errors, tuple(customs), tuple(set_names), tuple(contracts), networks
    )


def _union(
    raw_sets: dict[str, dict[str, _RawContract]], cname: str, kind: str
) -> dict[str, dict[str, Any]]:
    """member name -> {abi set -> raw member} for one contract across sets."""
    out: dict[str, dict[str, Any]] = {}
    for set_name, contracts in sorted(raw_sets.items()):
        rc = contracts.get(cname)
        if rc is None:
            continue
        for mname, member in getattr(rc, kind).items():
            out.setdefault(mname, {})[set_name] = member
    return out


def _alike(per_set: dict[str, Any], shape: Callable[[Any], object], what: str) -> Any:
    """A member as the first ABI set declares it, checked to have the same ``shape`` in
    every set (else CodegenError)."""
    raws = list(per_set.values())
    for other in raws[1:]:
        _expect(
            shape(other) == shape(raws[0]),
            f"{what} differs between {raws[0].source} and {other.source}; "
            "one Python API cannot cover both",
        )
    return raws[0]


def _build_contract(
    cname: str,
    raw_sets: dict[str, dict[str, _RawContract]],
    instance_contracts: frozenset[str],
) -> Contract:
    """One contract over the union of the ABI sets; members keep the sets that deploy them."""
    n_sets = len(raw_sets)
    fn_union = _union(raw_sets, cname, "functions")
    ev_union = _union(raw_sets, cname, "events")
    functions: list[Function] = []
    sources: set[str] = set()
    for fname, per_set in sorted(fn_union.items()):
        raw: _RawFunction = _alike(
            per_set,
            lambda f: (_shape(f.inputs), _shape(f.outputs), f.mutability),
            f"{cname}.{fname}",
        )
        sources.update(r.source for r in per_set.values())
        reserved = FUNCTION_RESERVED | ({"value"} if raw.mutability == "payable" else set())
        if len(per_set) < n_sets:
            reserved = reserved | {"network"}
        where = f"{raw.source}: function {fname}"
        inputs = _rename(raw.inputs, frozenset(reserved), True, where)
        outputs = _rename(raw.outputs, frozenset(), True, where)
        signature = f"{fname}(" + ",".join(p.type.canonical for p in inputs) + ")"
        functions.append(
            Function(
                contract=cname,
                name=fname,
                py_name=safe(snake(fname), MODULE_RESERVED),
                inputs=inputs,
                outputs=outputs,
                mutability=raw.mutability,
                selector=keccak_hex(signature)[:10],
                result=_result_class(raw, cname),
                present_on=tuple(sorted(per_set)),
                partial=len(per_set) < n_sets,
            )
        )
    events: list[Event] = []
    for ename, per_set in sorted(ev_union.items()):
        raw_e: _RawEvent = _alike(
            per_set, lambda e: (_shape(e.inputs), e.anonymous), f"event {cname}.{ename}"
        )
        sources.update(r.source for r in per_set.values())
        inputs = _rename(raw_e.inputs, EVENT_RESERVED, False, f"{raw_e.source}: event {ename}")
        signature = f"{ename}(" + ",".join(p.type.canonical for p in inputs) + ")"
        events.append(
            Event(
                contract=cname,
                name=ename,
                py_name=snake(ename),
                inputs=inputs,
                anonymous=raw_e.anonymous,
                topic=keccak_hex(signature),
                present_on=tuple(sorted(per_set)),
                partial=len(per_set) < n_sets,
                defined_in=None,
            )
        )
    return Contract(
        name=cname,
        module=snake(cname),
        sources=tuple(sorted(sources)),
        functions=tuple(sorted(functions, key=lambda f: f.py_name)),
        events=tuple(sorted(events, key=lambda e: e.py_name)),
        proxy=cname in instance_contracts,
    )


def _share_events(contracts: list[Contract]) -> list[Contract]:
    """Define each event present in several contracts once (first contract by name)."""
    owners: dict[str, tuple[str, Event]] = {}
    for c in contracts:
        for e in c.events:
            known = owners.get(e.topic)
            if known is None:
                owners[e.topic] = (c.module, e)
                continue
            _expect(
                _shape(known[1].inputs) == _shape(e.inputs)
                and known[1].name == e.name
                and known[1].anonymous == e.anonymous,
                f"abis: events {known[1].contract}.{known[1].name} and "
                f"{c.name}.{e.name} share topic {e.topic} but differ in layout; "
                "EVENT_DECODERS cannot tell them apart",
            )
    out: list[Contract] = []
    for c in contracts:
        events = []
        for e in c.events:
            owner = owners.get(e.topic)
            if owner is not None and owner[0] != c.module:
                e = replace(e, defined_in=owner[0])
            events.append(e)
        out.append(replace(c, events=tuple(events)))
    return out


def _check_module_names(c: Contract, enum_names: set[str], struct_names: set[str]) -> None:
    names: list[str] = ["AVAILABILITY", "CONTRACT", "FUNCTION_SELECTORS"]
    names += ["require_network"] if c.has_partial else []
    names += c.enum_imports(enum_names) + c.struct_imports(struct_names)
    for f in c.functions:
        names += [f.py_name, f.decoder_name, f.selector_const]
        if f.is_read:
            names.append(f.call_name)
        if f.result is not None:
            names.append(f.result.name)
    for e in c.events:
        names += [e.class_name, e.topic_const, e.decoder_name]
    if c.has_proxy:
        names.append(c.proxy_name)
    for f in c.reads:
        shadowed = {p.py_name for p in f.inputs} & {f.py_name, f.call_name}
        _expect(
            not shadowed,
            f"{c.module}.py: a parameter of {f.name} shadows {sorted(shadowed)}",
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    _expect(not dup, f"{c.module}.py: generated names collide: {dup}")


def _build_custom_errors(raw_sets: dict[str, dict[str, _RawContract]]) -> list[CustomError]:
    found: dict[str, tuple[_RawError, set[str]]] = {}
    for contracts in raw_sets.values():
        for rc in contracts.values():
            for name, err in rc.errors.items():
                known = found.get(name)
                if known is None:
                    found[name] = (err, {err.source})
                    continue
                _expect(
                    _shape(known[0].inputs) == _shape(err.inputs),
                    f"custom error {name} differs between {known[0].source} and {err.source}",
                )
                known[1].add(err.source)
    out: list[CustomError] = []
    selectors: dict[str, str] = {}
    for name in sorted(found):
        err, sources = found[name]
        params = _rename(err.inputs, CUSTOM_ARG_RESERVED, False, f"{err.source}: error {name}")
        signature = f"{name}(" + ",".join(p.type.canonical for p in params) + ")"
        selector = keccak_hex(signature)[:10]
        _expect(
            selector not in selectors,
            f"custom errors {name} and {selectors.get(selector)} share a selector",
        )
        selectors[selector] = name
        class_name = name if name.endswith("Error") else f"{name}Error"
        out.append(CustomError(name, params, class_name, selector, tuple(sorted(sources))))
    return out
