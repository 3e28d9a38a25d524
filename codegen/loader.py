"""Read abis/ (ABI JSON per ABI set + enums.json, errors.json, networks.json) into the Model.

Every check that can fail raises CodegenError naming the file and item; the ABI files are
parsed by loader_abi, errors.json by loader_errors (abis/protocol.json: protocol.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_utils.address import is_checksum_address
from eth_utils.crypto import keccak

from .errors import CodegenError, expect, read_json
from .loader_abi import (
    _NAME_RE,
    _Override,
    _Parser,
    _RawContract,
    _RawError,
    _RawEvent,
    _RawFunction,
    _rename,
    _result_class,
    _shape,
)
from .loader_errors import EXCEPTION_RESERVED, _build_error_classes, _load_errors
from .model import (
    Contract,
    CustomError,
    Enum,
    EnumMember,
    Event,
    Function,
    Model,
    NetworkInfo,
)
from .naming import safe, snake

_SET_RE = re.compile(r"[a-z][a-z0-9_]*\Z")

FUNCTION_RESERVED = frozenset({"w3", "address", "block_identifier"})
EVENT_RESERVED = frozenset({"address", "block_number", "transaction_hash", "log_index"})
#: Modules of ogpu_bindings that no contract module may shadow.
PACKAGE_MODULES = frozenset(
    {"abis", "enums", "errors", "events", "networks", "runtime", "structs", "_revert"}
)
MODULE_RESERVED = frozenset({"annotations", "dataclass"})
CUSTOM_ARG_RESERVED = EXCEPTION_RESERVED | {"tx_hash", "reason", "data", "contract", "function"}


def keccak_hex(text: str) -> str:
    """0x-prefixed keccak-256 of `text`."""
    return "0x" + keccak(text=text).hex()


# -- networks.json -------------------------------------------------------------------------------


def _objects(
    data: Any, key: str, where: str, pattern: re.Pattern[str]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(name, entry, where)`` per entry of the object ``data[key]``, sorted by name; each
    name must match ``pattern`` and each entry be an object (else CodegenError)."""
    entries = data.get(key)
    expect(isinstance(entries, dict), f"{where.partition(':')[0]}: '{key}' must be an object")
    for name in sorted(entries):
        at = f"{where} {name!r}"
        expect(bool(pattern.match(name)), f"{at}: name must match {pattern.pattern}")
        expect(isinstance(entries[name], dict), f"{at}: must be an object")
        yield name, entries[name], at


def _load_networks(path: Path) -> tuple[tuple[NetworkInfo, ...], frozenset[str]]:
    data = read_json(path)
    expect(isinstance(data, dict), "networks.json: top level must be an object")
    instance = data.get("instance_contracts", [])
    expect(
        isinstance(instance, list) and all(isinstance(x, str) for x in instance),
        "networks.json: instance_contracts must be a list of contract names",
    )
    expect(bool(data.get("networks")), "networks.json: 'networks' must name a network")
    out: list[NetworkInfo] = []
    for name, raw, where in _objects(data, "networks", "networks.json: network", _SET_RE):
        chain_id = raw.get("chain_id")
        expect(
            isinstance(chain_id, int) and not isinstance(chain_id, bool) and chain_id > 0,
            f"{where}: chain_id must be a positive int",
        )
        rpc = raw.get("rpc")
        expect(isinstance(rpc, str) and rpc.startswith("http"), f"{where}: rpc must be a URL")
        abi_set = raw.get("abi_set")
        expect(
            isinstance(abi_set, str) and bool(_SET_RE.match(abi_set)),
            f"{where}: abi_set must name a folder under abis/",
        )
        addresses = raw.get("addresses") or {}
        expect(isinstance(addresses, dict), f"{where}: addresses must be an object")
        for key, addr in addresses.items():
            expect(
                isinstance(addr, str) and is_checksum_address(addr),
                f"{where}: address of {key} is not a checksummed address",
            )
        agent = raw.get("default_agent")
        expect(
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
    expect(len(set(ids)) == len(ids), "networks.json: two networks share a chain_id")
    return tuple(out), frozenset(instance)


# -- enums.json ----------------------------------------------------------------------------------


def _load_enums(path: Path) -> tuple[tuple[Enum, ...], dict[tuple[str, ...], _Override]]:
    data = read_json(path)
    expect(isinstance(data, dict), "enums.json: top level must be an object")
    enums: list[Enum] = []
    for name, raw, where in _objects(data, "enums", "enums.json: enum", _NAME_RE):
        flag = raw.get("flag", False)
        expect(isinstance(flag, bool), f"{where}: flag must be true or false")
        members = raw.get("members")
        expect(isinstance(members, dict) and bool(members), f"{where}: members must be an object")
        items: list[EnumMember] = []
        for mname, value in members.items():
            expect(bool(_NAME_RE.match(mname)), f"{where}: member {mname!r} is not an identifier")
            expect(
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**256,
                f"{where}: member {mname} must have a non-negative int value",
            )
            if flag:
                expect(
                    value > 0 and value & (value - 1) == 0,
                    f"{where}: flag member {mname} must be a power of two",
                )
            items.append(EnumMember(mname, value))
        values = [m.value for m in items]
        expect(len(set(values)) == len(values), f"{where}: two members share a value")
        doc = raw.get("doc", f"Solidity enum {name}.")
        expect(isinstance(doc, str), f"{where}: doc must be a string")
        enums.append(Enum(name, doc, flag, tuple(sorted(items, key=lambda m: m.value))))
    names = {e.name for e in enums}
    overrides: dict[tuple[str, ...], _Override] = {}
    for i, raw in enumerate(data.get("overrides", [])):
        where = f"enums.json: overrides[{i}]"
        expect(isinstance(raw, dict), f"{where}: must be an object")
        enum = raw.get("enum")
        expect(enum in names, f"{where}: enum {enum!r} is not defined in 'enums'")
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
        expect(key not in overrides, f"{where}: duplicate override {key}")
        overrides[key] = _Override(key, str(enum), json.dumps(raw, sort_keys=True))
    return tuple(enums), overrides


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
        expect(bool(files), f"abis/{set_name}: no *Abi.json files (named by networks.json)")
        contracts: dict[str, _RawContract] = {}
        for path in files:
            cname = path.name[: -len("Abi.json")]
            expect(bool(_NAME_RE.match(cname)), f"abis/{set_name}/{path.name}: bad contract name")
            rel = f"abis/{set_name}/{path.name}"
            contracts[cname] = parser.contract(path, rel, cname)
        modules = [snake(c) for c in contracts]
        expect(len(set(modules)) == len(modules), f"abis/{set_name}: module names collide")
        taken = sorted(set(modules) & PACKAGE_MODULES)
        expect(not taken, f"abis/{set_name}: contract modules {taken} clash with the package's")
        raw_sets[set_name] = contracts

    unused = sorted(ov.text for ov in overrides.values() if not ov.used)
    expect(not unused, f"enums.json: overrides match nothing in the ABIs: {unused}")
    for n in networks:
        for cname, _ in n.addresses:
            expect(
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
    expect(not clash, f"names used for both a struct and an enum: {sorted(clash)}")
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
        expect(
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
            expect(
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
        expect(
            not shadowed,
            f"{c.module}.py: a parameter of {f.name} shadows {sorted(shadowed)}",
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    expect(not dup, f"{c.module}.py: generated names collide: {dup}")


def _build_custom_errors(raw_sets: dict[str, dict[str, _RawContract]]) -> list[CustomError]:
    found: dict[str, tuple[_RawError, set[str]]] = {}
    for contracts in raw_sets.values():
        for rc in contracts.values():
            for name, err in rc.errors.items():
                known = found.get(name)
                if known is None:
                    found[name] = (err, {err.source})
                    continue
                expect(
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
        expect(
            selector not in selectors,
            f"custom errors {name} and {selectors.get(selector)} share a selector",
        )
        selectors[selector] = name
        class_name = name if name.endswith("Error") else f"{name}Error"
        out.append(CustomError(name, params, class_name, selector, tuple(sorted(sources))))
    return out
