"""ABI type trees and their Python mapping: annotations, validation and decode expressions.

All code that the templates print for a value (annotation, encode/validate expression, decode
expression) is built here, so the templates only paste strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import CodegenError

_INT_RE = re.compile(r"(u?)int(\d*)\Z")
_BYTES_RE = re.compile(r"bytes(\d+)\Z")
_ARRAY_RE = re.compile(r"(.*)\[(\d*)\]\Z")

SCALAR_KINDS = ("uint", "int", "address", "bool", "string", "bytes", "fixed_bytes")


#: What validates a scalar argument ({v}: the value, {n}: the size, {lab}: its label).
_CHECKS = {
    "uint": "_rt.check_uint({v}, {n}, {lab})",
    "int": "_rt.check_int({v}, {n}, {lab})",
    "address": "_rt.check_address({v}, {lab})",
    "bool": "_rt.check_bool({v}, {lab})",
    "string": "_rt.check_str({v}, {lab})",
    "bytes": "_rt.check_bytes({v}, None, {lab})",
    "fixed_bytes": "_rt.check_bytes({v}, {n}, {lab})",
}
#: The runtime function typing a decoded scalar.
_DECODERS = {
    "uint": "as_int",
    "int": "as_int",
    "address": "as_address",
    "bool": "as_bool",
    "string": "as_str",
    "bytes": "as_bytes",
    "fixed_bytes": "as_bytes",
}


def _per_item(var: str, parts: list[str], value: str) -> str:
    """``(lambda var: (part0, part1, ...))(value)``: a tuple built item by item."""
    body = ", ".join(parts) + ("," if len(parts) == 1 else "")
    return f"(lambda {var}: ({body}))({value})"


def lit(text: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(text)


@dataclass(frozen=True)
class Param:
    """One ABI parameter, event argument, struct field or output."""

    name: str
    """Solidity name ('' when unnamed)."""
    py_name: str
    """Python identifier used for it (argument, attribute or field name)."""
    type: AbiType
    indexed: bool = False


@dataclass(frozen=True)
class AbiType:
    """A parsed ABI type; `struct`/`enum` carry the Solidity name resolved from internalType."""

    kind: str
    size: int = 0
    """Bits for (u)int, N for bytesN, length for fixed arrays (0 for dynamic arrays)."""
    item: AbiType | None = None
    components: tuple[Param, ...] = field(default=())
    struct: str | None = None
    enum: str | None = None

    # -- Solidity side -------------------------------------------------------------------------

    @property
    def canonical(self) -> str:
        """Canonical type string used in signatures and by eth-abi, e.g. `(address,uint8)[]`."""
        if self.kind == "uint":
            return f"uint{self.size}"
        if self.kind == "int":
            return f"int{self.size}"
        if self.kind == "fixed_bytes":
            return f"bytes{self.size}"
        if self.kind == "array":
            assert self.item is not None
            return f"{self.item.canonical}[{self.size or ''}]"
        if self.kind == "tuple":
            return "(" + ",".join(c.type.canonical for c in self.components) + ")"
        return self.kind

    @property
    def display(self) -> str:
        """Human-readable Solidity type for docstrings (struct/enum names instead of tuples)."""
        if self.kind == "array":
            assert self.item is not None
            return f"{self.item.display}[{self.size or ''}]"
        if self.struct:
            return self.struct
        if self.enum:
            return f"{self.enum}({self.canonical})"
        return self.canonical

    @property
    def is_dynamic(self) -> bool:
        """True when an indexed event argument of this type is stored as a keccak hash."""
        return self.kind in ("string", "bytes", "array", "tuple")

    @property
    def static_size(self) -> int | None:
        """Bytes of its ABI encoding when fixed (no string, bytes or T[] inside); else None."""
        if self.kind in ("string", "bytes") or (self.kind == "array" and not self.size):
            return None
        if self.kind == "array":
            assert self.item is not None
            inner = self.item.static_size
            return None if inner is None else inner * self.size
        if self.kind == "tuple":
            sizes = [c.type.static_size for c in self.components]
            return None if any(n is None for n in sizes) else sum(n or 0 for n in sizes)
        return 32

    def walk(self) -> list[AbiType]:
        """This type and every nested type, depth first."""
        out: list[AbiType] = [self]
        if self.item is not None:
            out.extend(self.item.walk())
        for comp in self.components:
            out.extend(comp.type.walk())
        return out

    def with_enum(self, enum: str) -> AbiType:
        """The same uint type, typed as `enum` (used by enums.json overrides)."""
        if self.kind != "uint":
            raise CodegenError(f"cannot type {self.canonical} as enum {enum}: only uint fields can")
        if self.enum is not None:
            raise CodegenError(f"field of type enum {self.enum} cannot be overridden to {enum}")
        return replace(self, enum=enum)

    # -- Python side ---------------------------------------------------------------------------

    def annotation(self) -> str:
        """Python type of a decoded value."""
        if self.enum:
            return self.enum
        if self.kind in ("uint", "int"):
            return "int"
        if self.kind in ("address", "string"):
            return "str"
        if self.kind == "bool":
            return "bool"
        if self.kind in ("bytes", "fixed_bytes"):
            return "bytes"
        if self.kind == "array":
            assert self.item is not None
            return f"list[{self.item.annotation()}]"
        if self.struct:
            return self.struct
        return "tuple[" + ", ".join(c.type.annotation() for c in self.components) + "]"

    def input_annotation(self) -> str:
        """Python type accepted as an argument (enums also take ints, arrays any sequence)."""
        if self.enum:
            return f"{self.enum} | int"
        if self.kind == "array":
            assert self.item is not None
            return f"Sequence[{self.item.input_annotation()}]"
        if self.kind == "tuple" and not self.struct:
            return "tuple[" + ", ".join(c.type.input_annotation() for c in self.components) + "]"
        return self.annotation()

    def encode_expr(self, value: str, label: str, depth: int = 0) -> str:
        """Expression that validates `value` (raising InvalidInputError subclasses) and returns
        what eth-abi encodes for this type."""
        lab = lit(label)
        if self.enum:
            return f"_rt.check_enum({value}, {self.enum}, {lab})"
        if self.kind in _CHECKS:
            return _CHECKS[self.kind].format(v=value, n=self.size, lab=lab)
        if self.kind == "array":
            assert self.item is not None
            var = f"_x{depth}"
            inner = self.item.encode_expr(var, label + "[]", depth + 1)
            length = self.size or None
            return f"[{inner} for {var} in _rt.check_seq({value}, {length}, {lab})]"
        if self.struct:
            return f"_rt.check_struct({value}, {self.struct}, {lab}).to_abi()"
        var = f"_t{depth}"
        parts = [
            c.type.encode_expr(f"{var}[{i}]", f"{label}[{i}]", depth + 1)
            for i, c in enumerate(self.components)
        ]
        return _per_item(var, parts, f"_rt.check_tuple({value}, {len(parts)}, {lab})")

    def decode_expr(self, raw: str, depth: int = 0) -> str:
        """Expression turning the eth-abi decoded `raw` into the annotated Python value."""
        if self.enum:
            return f"_rt.as_enum({self.enum}, {raw})"
        if self.kind in _DECODERS:
            return f"_rt.{_DECODERS[self.kind]}({raw})"
        if self.kind == "array":
            assert self.item is not None
            var = f"_x{depth}"
            return f"[{self.item.decode_expr(var, depth + 1)} for {var} in _rt.as_seq({raw})]"
        if self.struct:
            return f"{self.struct}.from_abi({raw})"
        var = f"_t{depth}"
        parts = [
            c.type.decode_expr(f"{var}[{i}]", depth + 1) for i, c in enumerate(self.components)
        ]
        return _per_item(var, parts, f"_rt.as_seq({raw})")

    def needs_sequence(self) -> bool:
        """True when input_annotation() mentions Sequence."""
        if self.kind == "array":
            return True
        if self.kind == "tuple" and not self.struct:
            return any(c.type.needs_sequence() for c in self.components)
        return False

    def names_used(self) -> set[str]:
        """Enum and struct class names this type's Python code refers to (a struct's own
        fields are the struct's business)."""
        if self.enum:
            return {self.enum}
        if self.struct:
            return {self.struct}
        if self.item is not None:
            return self.item.names_used()
        out: set[str] = set()
        for comp in self.components:
            out |= comp.type.names_used()
        return out


def _strip_array(internal: str | None) -> str | None:
    if internal is None:
        return None
    m = _ARRAY_RE.match(internal)
    return m.group(1) if m else internal


def _qualified_tail(internal: str, prefix: str) -> str:
    name = internal[len(prefix) :].strip()
    return name.rsplit(".", 1)[-1]


def parse_type(
    raw: dict[str, Any],
    where: str,
    make_param: Any,
) -> AbiType:
    """Parse one ABI parameter's type (`type`, `components`, `internalType`).

    `make_param(raw_component, index, where)` builds component Params (naming lives in the
    loader). Raises CodegenError on types the generator does not support.
    """
    type_str = raw.get("type")
    if not isinstance(type_str, str):
        raise CodegenError(f"{where}: parameter without a 'type'")
    internal = raw.get("internalType")
    if internal is not None and not isinstance(internal, str):
        raise CodegenError(f"{where}: internalType must be a string")
    return _parse(type_str, internal, raw.get("components"), where, make_param)


def _parse(
    type_str: str,
    internal: str | None,
    components: Any,
    where: str,
    make_param: Any,
) -> AbiType:
    m = _ARRAY_RE.match(type_str)
    if m:
        item = _parse(m.group(1), _strip_array(internal), components, where, make_param)
        length = int(m.group(2)) if m.group(2) else 0
        if m.group(2) and length == 0:
            raise CodegenError(f"{where}: zero-length array type {type_str!r}")
        return AbiType("array", size=length, item=item)
    if type_str == "tuple":
        if not isinstance(components, list) or not components:
            raise CodegenError(f"{where}: tuple without components")
        struct = None
        if internal and internal.startswith("struct "):
            struct = _qualified_tail(internal, "struct ")
        comps = tuple(
            make_param(c, i, f"{where}.{struct or 'tuple'}") for i, c in enumerate(components)
        )
        return AbiType("tuple", components=comps, struct=struct)
    enum = None
    if internal and internal.startswith("enum "):
        enum = _qualified_tail(internal, "enum ")
    m = _INT_RE.match(type_str)
    if m:
        bits = int(m.group(2) or 256)
        if bits % 8 or not 8 <= bits <= 256:
            raise CodegenError(f"{where}: invalid integer type {type_str!r}")
        kind = "uint" if m.group(1) else "int"
        if enum and kind != "uint":
            raise CodegenError(f"{where}: enum {enum} on non-uint type {type_str!r}")
        return AbiType(kind, size=bits, enum=enum)
    m = _BYTES_RE.match(type_str)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 32:
            raise CodegenError(f"{where}: invalid type {type_str!r}")
        return AbiType("fixed_bytes", size=n)
    if type_str in ("address", "bool", "string", "bytes"):
        return AbiType(type_str)
    raise CodegenError(f"{where}: unsupported ABI type {type_str!r}")
