"""The render model of ogpu_bindings/protocol/<module>.py: what codegen/protocol.py builds
from abis/protocol.json and templates/protocol.py.j2 lays out (signatures, docstring lines,
body lines and imports, all precomputed)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from .model import DOC_WIDTH, Contract

TABLE = "protocol.json"

#: Where the names the generated code uses only in annotations live.
_TYPE_HOMES = {
    "Signer": "ogpu.types",
    "Receipt": "ogpu.types.receipt",
    "TxRequest": "ogpu_bindings.runtime",
    "ContractCall": "ogpu_bindings.runtime",
    "Self": "typing_extensions",
}


def _names_key(name: str) -> tuple[bool, bool, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions."""
    return (not name.isupper(), not name[:1].isupper(), name)


def _import_lines(by_module: dict[str, set[str]]) -> list[str]:
    """Sorted as isort does: one line per ``x as y`` name, the other names combined."""
    lines = []
    for m, names in sorted(by_module.items()):
        plain = sorted((n for n in names if " as " not in n), key=_names_key)
        lines += [f"from {m} import {', '.join(plain)}"] if plain else []
        lines += [f"from {m} import {n}" for n in sorted(n for n in names if " as " in n)]
    return lines


def wrap_text(text: str, indent: int) -> list[str]:
    out: list[str] = []
    for i, para in enumerate(text.split("\n\n")):
        if i:
            out.append("")
        out.extend(textwrap.wrap(para, DOC_WIDTH - indent, break_on_hyphens=False))
    return out


def doc_lines(text: str, cost: str, raises: list[str], indent: int) -> list[str]:
    """Docstring lines: the table's text, the cost paragraph, then a Raises: section."""
    out = wrap_text(f"{text}\n\n{cost}", indent)
    if raises:
        out += ["", "Raises:"]
    for item in raises:
        lines = textwrap.wrap(item, DOC_WIDTH - indent - 4, break_on_hyphens=False)
        out += ["    " + lines[0], *("        " + line for line in lines[1:])]
    return out


@dataclass(frozen=True)
class Conversion:
    """A hand-written helper the generated code passes a value through."""

    name: str
    module: str
    takes: str | None
    returns: str | None
    named: bool


@dataclass
class Wrapper:
    """One generated function or method: signature pieces, docstring and body lines."""

    name: str
    params: list[tuple[str, str]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    returns: str = "None"
    doc: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    imports: dict[str, set[str]] = field(default_factory=dict)
    write: bool = False

    @property
    def signature(self) -> str:
        params = [f"{n}: {a}" for n, a in self.params]
        return ", ".join([*params, *(["*", *self.keywords] if self.keywords else [])])

    @property
    def body_imports(self) -> list[str]:
        return _import_lines(self.imports)


@dataclass
class ProtocolClass:
    """The generated base of an instance class (or the whole class, when nothing is left)."""

    name: str
    extends: str
    doc: list[str]
    methods: list[Wrapper]
    missing: tuple[str, str] | None
    probe: list[str] | None
    check: str | None
    snapshot: list[str] = field(default_factory=list)
    """``"field": call,`` items of ``_snapshot_calls``; locals (singleton addresses) first."""
    snapshot_locals: list[str] = field(default_factory=list)
    snapshot_super: bool = False
    snapshot_type: str | None = None


@dataclass
class ProtocolModule:
    """One generated module: ogpu_bindings/protocol/<name>.py."""

    name: str
    contract: Contract | None
    functions: list[Wrapper] = field(default_factory=list)
    cls: ProtocolClass | None = None
    runtime: dict[str, set[str]] = field(default_factory=dict)
    typing: dict[str, set[str]] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return [f"abis/{TABLE}", *(self.contract.sources if self.contract else ())]

    @property
    def exports(self) -> list[str]:
        names = [f.name for f in self.functions] + ([self.cls.name] if self.cls else [])
        return sorted(names, key=_names_key)

    @property
    def singleton(self) -> str:
        assert self.contract is not None
        return self.contract.name.upper()

    @property
    def doc_lines(self) -> list[str]:
        what = []
        if self.contract is not None and self.functions:
            name = self.contract.name
            what.append(f"one function per {name} call, bound to the active chain's {name}")
        if self.cls:
            what.append(f"``{self.cls.name}``, the mechanical methods of the instance class")
        return wrap_text(
            f"The mechanical part of ``ogpu.protocol.{self.name}``: {'; '.join(what)}.\n\n"
            f"Generated from abis/{TABLE}; ``ogpu.protocol.{self.name}`` builds on it and adds "
            "what needs judgement.",
            0,
        )

    def need(self, module: str, name: str, *, runtime: bool = True) -> None:
        (self.runtime if runtime else self.typing).setdefault(module, set()).add(name)

    def annotate(self, annotation: str, homes: dict[str, str]) -> None:
        """Import what ``annotation`` names (under TYPE_CHECKING)."""
        for name in annotation.replace("|", " ").split():
            home = homes.get(name) or _TYPE_HOMES.get(name)
            if home is not None:
                self.need(home, name, runtime=False)

    @property
    def stdlib(self) -> str:
        names = self.runtime.get("typing", set()) | ({"TYPE_CHECKING"} if self.typing else set())
        return f"from typing import {', '.join(sorted(names, key=_names_key))}" if names else ""

    @property
    def runtime_imports(self) -> list[str]:
        return _import_lines({m: n for m, n in self.runtime.items() if m != "typing"})

    @property
    def type_imports(self) -> list[str]:
        third = {m: n for m, n in self.typing.items() if m == "typing_extensions"}
        first = {m: n for m, n in self.typing.items() if m not in third}
        gap = [""] if third and first else []  # isort: third-party, then ogpu and ogpu_bindings
        return _import_lines(third) + gap + _import_lines(first)
