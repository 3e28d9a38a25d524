"""Hypothesis strategies and converters driven by the generator's own type model."""

from __future__ import annotations

import enum
from types import ModuleType
from typing import Any

from eth_utils import to_checksum_address
from hypothesis import strategies as st

from codegen.abitypes import AbiType

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)


def value_strategy(t: AbiType, enums: ModuleType, structs: ModuleType) -> st.SearchStrategy[Any]:
    """Python values the generated code accepts (and returns) for type `t`."""
    if t.enum:
        cls = getattr(enums, t.enum)
        if issubclass(cls, enum.Flag):
            mask = 0
            for member in cls:
                mask |= int(member)
            return st.integers(0, mask).map(cls)
        return st.sampled_from(list(cls))
    if t.kind == "uint":
        return st.integers(0, 2**t.size - 1)
    if t.kind == "int":
        return st.integers(-(2 ** (t.size - 1)), 2 ** (t.size - 1) - 1)
    if t.kind == "address":
        return addresses
    if t.kind == "bool":
        return st.booleans()
    if t.kind == "string":
        return st.text(max_size=40)
    if t.kind == "bytes":
        return st.binary(max_size=70)
    if t.kind == "fixed_bytes":
        return st.binary(min_size=t.size, max_size=t.size)
    if t.kind == "array":
        assert t.item is not None
        n = t.size
        return st.lists(value_strategy(t.item, enums, structs), min_size=n, max_size=n if n else 3)
    parts = [value_strategy(c.type, enums, structs) for c in t.components]
    if t.struct:
        cls = getattr(structs, t.struct)
        names = [c.py_name for c in t.components]
        return st.tuples(*parts).map(lambda vals: cls(**dict(zip(names, vals, strict=True))))
    return st.tuples(*parts)


def to_abi(t: AbiType, value: Any) -> Any:
    """What eth-abi (and web3) take for a Python value of type `t`."""
    if t.enum:
        return int(value)
    if t.kind == "array":
        assert t.item is not None
        return [to_abi(t.item, v) for v in value]
    if t.kind == "tuple":
        if t.struct:
            return tuple(to_abi(c.type, getattr(value, c.py_name)) for c in t.components)
        return tuple(to_abi(c.type, v) for c, v in zip(t.components, value, strict=True))
    return value
