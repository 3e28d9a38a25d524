"""Shared pieces of the Model: text helpers, enums, structs, and what functions, events
and custom errors share."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from .abitypes import AbiType, Param, lit

DOC_WIDTH = 88
_BLOCK_PARAM = 'block_identifier: BlockIdentifier = "latest"'


def pystr(text: str, width: int = 60) -> str:
    """A Python string literal; long texts become a parenthesised implicit concatenation,
    split after spaces where possible."""
    if len(text) <= width:
        return lit(text)
    chunks = textwrap.wrap(
        text, width, drop_whitespace=False, replace_whitespace=False, break_on_hyphens=False
    )
    if "".join(chunks) != text:
        chunks = [text[i : i + width] for i in range(0, len(text), width)]
    return "(" + " ".join(lit(c) for c in chunks) + ")"


def wrap(text: str, indent: int = 4) -> list[str]:
    """Docstring lines for `text` (paragraphs separated by blank lines), wrapped to fit."""
    out: list[str] = []
    for i, para in enumerate(text.split("\n\n")):
        if i:
            out.append("")
        out.extend(textwrap.wrap(para, DOC_WIDTH - indent, break_on_hyphens=False) or [""])
    return out


def names_used(params: Iterable[Param]) -> set[str]:
    """Enum and struct class names the Python code of ``params`` refers to."""
    return set().union(*(p.type.names_used() for p in params))


def tuple_lit(items: list[str]) -> str:
    """`(a, b)` / `(a,)` / `()` from already-rendered expressions."""
    if not items:
        return "()"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


# -- enums, structs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnumMember:
    name: str
    value: int


@dataclass(frozen=True)
class Enum:
    name: str
    doc: str
    flag: bool
    members: tuple[EnumMember, ...]

    @property
    def base(self) -> str:
        return "IntFlag" if self.flag else "IntEnum"

    @property
    def doc_lines(self) -> list[str]:
        kind = "Bit flags" if self.flag else "Values"
        vals = ", ".join(f"{m.name}={m.value}" for m in self.members)
        return wrap(f"{self.doc}\n\n{kind} (on-chain uint8): {vals}.")


@dataclass(frozen=True)
class Struct:
    """A Solidity struct rendered as a frozen dataclass (fields keep their Solidity names)."""

    name: str
    fields: tuple[Param, ...]
    sources: tuple[str, ...]

    @property
    def type(self) -> AbiType:
        return AbiType("tuple", components=self.fields, struct=self.name)

    @property
    def doc_lines(self) -> list[str]:
        body = ", ".join(f"{f.type.display} {f.name}" for f in self.fields)
        return wrap(
            f"Solidity `struct {self.name} {{{body}}}` (ABI tuple {self.type.canonical}).\n\n"
            "to_abi() validates every field (InvalidInputError subclasses, no RPC) and returns the "
            "tuple eth-abi encodes; from_abi() builds an instance from a decoded tuple."
        )

    def field_lines(self) -> list[str]:
        return [f"{f.py_name}: {f.type.annotation()}" for f in self.fields]

    def to_abi_items(self) -> list[str]:
        return [
            f.type.encode_expr(f"self.{f.py_name}", f"{self.name}.{f.name or f.py_name}")
            for f in self.fields
        ]

    def from_abi_items(self) -> list[str]:
        return [
            f"{f.py_name}={f.type.decode_expr(f'values[{i}]')}" for i, f in enumerate(self.fields)
        ]

    def names_used(self) -> set[str]:
        return names_used(self.fields)


@dataclass(frozen=True)
class _Member:
    """What functions, events and custom errors share: a name over typed inputs, hence a
    signature, and a decoder."""

    name: str
    inputs: tuple[Param, ...]

    @property
    def decoder_name(self) -> str:
        return f"_decode_{self.py_name}"

    @property
    def signature(self) -> str:
        return f"{self.name}(" + ",".join(p.type.canonical for p in self.inputs) + ")"

    @property
    def signature_lit(self) -> str:
        return pystr(self.signature)
