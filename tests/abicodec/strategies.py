"""Hypothesis strategies over ABI types and their values, driven by eth-abi's own type grammar
(the oracle parses the type; the codec under test parses it independently)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_abi.grammar import BasicType, TupleType, parse
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
ABIS = ROOT / "abis"


def canonical(param: dict[str, Any]) -> str:
    """Canonical type string of an ABI JSON parameter (tuples spelled out)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def abi_entries() -> list[tuple[str, str, tuple[str, ...]]]:
    """(where, kind, types) for every function input/output list, event data and indexed
    topic, and error of every ABI in abis/ (duplicates of the same types kept once)."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out: list[tuple[str, str, tuple[str, ...]]] = []

    def add(where: str, kind: str, types: tuple[str, ...]) -> None:
        if (kind, types) not in seen:
            seen.add((kind, types))
            out.append((where, kind, types))

    for path in sorted(ABIS.glob("*/*Abi.json")):
        for entry in json.loads(path.read_text()):
            name = f"{path.parent.name}/{path.stem}.{entry.get('name', entry['type'])}"
            inputs = entry.get("inputs", [])
            if entry["type"] in ("function", "error", "constructor"):
                add(name, "args", tuple(canonical(p) for p in inputs))
            if entry["type"] == "function":
                add(name, "returns", tuple(canonical(p) for p in entry.get("outputs", [])))
            if entry["type"] == "event":
                add(name, "data", tuple(canonical(p) for p in inputs if not p.get("indexed")))
                for p in inputs:
                    if p.get("indexed"):
                        add(name, "topic", (canonical(p),))
    return out


hex_address = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


def values_for(type_str: str) -> st.SearchStrategy[Any]:
    """Valid Python values of an ABI type (as eth-abi takes them)."""
    return _values(parse(type_str))


def _values(t: Any) -> st.SearchStrategy[Any]:
    if t.arrlist:
        dims = t.arrlist[-1]
        item = _values(t.item_type)
        if dims:
            return st.lists(item, min_size=dims[0], max_size=dims[0])
        return st.lists(item, max_size=4)
    if isinstance(t, TupleType):
        return st.tuples(*[_values(c) for c in t.components])
    assert isinstance(t, BasicType)
    base, sub = t.base, t.sub
    if base == "uint":
        return st.one_of(st.integers(0, 2**sub - 1), st.sampled_from([0, 2**sub - 1]))
    if base == "int":
        low, high = -(2 ** (sub - 1)), 2 ** (sub - 1) - 1
        return st.one_of(st.integers(low, high), st.sampled_from([low, high, -1, 0]))
    if base == "address":
        return hex_address | hex_address.map(str.upper).map(lambda a: "0x" + a[2:])
    if base == "bool":
        return st.booleans()
    if base == "string":
        return st.text(max_size=70)
    if base == "bytes" and sub is None:
        return st.binary(max_size=70)
    if base == "bytes":
        return st.binary(min_size=sub, max_size=sub)
    if base == "function":
        return st.binary(min_size=24, max_size=24)
    raise AssertionError(f"no strategy for {t}")


_ELEMENTARY = st.one_of(
    st.sampled_from(["address", "bool", "string", "bytes", "function", "uint256", "int256"]),
    st.integers(1, 32).map(lambda n: f"uint{8 * n}"),
    st.integers(1, 32).map(lambda n: f"int{8 * n}"),
    st.integers(1, 32).map(lambda n: f"bytes{n}"),
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrays = st.tuples(inner, st.sampled_from(["[]", "[1]", "[2]", "[3]"])).map("".join)
    tuples = st.lists(inner, min_size=1, max_size=4).map(lambda ts: "(" + ",".join(ts) + ")")
    return arrays | tuples


#: Any type the codec supports: elementary, arrays (fixed, dynamic) and tuples, nested.
abi_types = st.recursive(_ELEMENTARY, _extend, max_leaves=6)
type_lists = st.lists(abi_types, min_size=1, max_size=4).map(tuple)
