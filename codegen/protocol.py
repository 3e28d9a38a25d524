"""abis/protocol.json -> the mechanical part of ogpu.protocol (ogpu_bindings/protocol/<module>.py).

Every entry names one Solidity call (checked against the Model: the function exists, takes
that many arguments, is a view for a read); the Python parameters are the call's argument
names, typed from the ABI or by their conversion. The rendered code is precomputed here
(signature, docstring lines, body); the template only lays it out.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CodegenError
from .loader import _expect, _read_json
from .model import DOC_WIDTH, Contract, Function, Model

TABLE = "protocol.json"
ROLES = ("CLIENT", "PROVIDER", "MASTER")
_PLAIN = ("str", "int", "bool", "bytes")
BINDINGS = "ogpu.protocol._bindings"


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
    """One generated function: signature pieces, docstring lines and the returned expression."""

    name: str
    params: list[str]
    keywords: list[str]
    returns: str
    doc: list[str]
    body: list[str]
    imports: dict[str, set[str]] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        return ", ".join([*self.params, *(["*", *self.keywords] if self.keywords else [])])

    @property
    def body_imports(self) -> list[str]:
        return [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(self.imports.items())]


@dataclass
class ProtocolModule:
    """One generated module: ogpu_bindings/protocol/<name>.py."""

    name: str
    contract: Contract
    functions: list[Wrapper]
    sources: list[str]
    types: set[str] = field(default_factory=set)
    roles: bool = False
    writes: bool = False
    builds: bool = False

    @property
    def singleton(self) -> str:
        return self.contract.name.upper()

    @property
    def exports(self) -> list[str]:
        return sorted(f.name for f in self.functions)

    @property
    def doc_lines(self) -> list[str]:
        return _wrap(
            f"The mechanical part of ``ogpu.protocol.{self.name}``: one function per "
            f"{self.contract.name} call, bound to the active chain's {self.contract.name}."
            f"\n\nGenerated from abis/{TABLE}; ``ogpu.protocol.{self.name}`` re-exports every "
            "name and adds what needs judgement.",
            0,
        )

    def type_imports(self, table_types: dict[str, str]) -> list[str]:
        lines = ["from ogpu.types import Signer"] if self.writes else []
        by_module: dict[str, set[str]] = {}
        for name in self.types:
            by_module.setdefault(table_types[name], set()).add(name)
        if self.writes:
            by_module.setdefault("ogpu.types.receipt", set()).add("Receipt")
        if self.builds:
            by_module.setdefault("ogpu_bindings.runtime", set()).add("TxRequest")
        lines += [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(by_module.items())]
        return sorted(lines)  # one isort section here: ogpu.* sorts before ogpu_bindings


def _wrap(text: str, indent: int) -> list[str]:
    out: list[str] = []
    for i, para in enumerate(text.split("\n\n")):
        if i:
            out.append("")
        out.extend(textwrap.wrap(para, DOC_WIDTH - indent, break_on_hyphens=False))
    return out


def _raises(items: list[str], indent: int) -> list[str]:
    if not items:
        return []
    out = ["", "Raises:"]
    for item in items:
        lines = textwrap.wrap(item, DOC_WIDTH - indent - 4, break_on_hyphens=False)
        out += ["    " + lines[0], *("        " + line for line in lines[1:])]
    return out


@dataclass(frozen=True)
class _Call:
    """A parsed ``solidityName(arg, conv(arg), ...)``: (conversion or None, parameter) per arg."""

    function: str
    args: list[tuple[str | None, str]]


def _parse_call(text: str, where: str) -> _Call:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise CodegenError(f"{where}: {text!r} is not a call") from None
    _expect(isinstance(node, ast.Call) and isinstance(node.func, ast.Name), f"{where}: {text!r}")
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return _Call(node.func.id, [_parse_arg(a, f"{where}: {text!r}") for a in node.args])


def _parse_arg(node: ast.expr, where: str) -> tuple[str | None, str]:
    if isinstance(node, ast.Name):
        return None, node.id
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
    ):
        return node.func.id, node.args[0].id
    raise CodegenError(f"{where}: an argument is a name or conversion(name)")


class _Builder:
    """Turns the table's entries of one module into Wrappers."""

    def __init__(self, name: str, raw: dict[str, Any], model: Model, table: _Table) -> None:
        contracts = {c.name: c for c in model.contracts}
        cname = raw.get("contract")
        _expect(cname in contracts, f"{TABLE}: {name}: unknown contract {cname!r}")
        self.module = ProtocolModule(name, contracts[cname], [], sorted(contracts[cname].sources))
        self.table = table
        self.functions = {f.name: f for f in self.module.contract.functions}
        self.default_signer = raw.get("signer", "explicit")

    def _function(self, call: _Call, where: str, read: bool) -> Function:
        fn = self.functions.get(call.function)
        _expect(fn is not None, f"{where}: {self.module.contract.name} has no {call.function}")
        assert fn is not None
        _expect(fn.is_read == read, f"{where}: {call.function} is {'not ' * read}a view")
        _expect(
            len(fn.inputs) == len(call.args),
            f"{where}: {call.function} takes {len(fn.inputs)} arguments, not {len(call.args)}",
        )
        return fn

    def _arg(self, conv: str | None, name: str, abi_annotation: str, w: Wrapper, where: str) -> str:
        """Declare parameter ``name`` on ``w`` (once) and return the expression passing it."""
        if conv is None:
            plain = abi_annotation in _PLAIN
            _expect(plain, f"{where}: {name} ({abi_annotation}) needs a conversion")
            annotation, expr = abi_annotation, name
        else:
            c = self.table.conversion(conv, where)
            _expect(c.takes is not None, f"{where}: {conv} converts no argument")
            annotation = c.takes or ""
            expr = f'{conv}({name}, "{name}")' if c.named else f"{conv}({name})"
            if c.module == BINDINGS:  # imported as ``b`` by every generated module
                expr = "b." + expr
            else:
                w.imports.setdefault(c.module, set()).add(conv)
        declared = f"{name}: {annotation}"
        if declared not in w.params:
            _expect(all(not p.startswith(f"{name}:") for p in w.params), f"{where}: {name} retyped")
            w.params.append(declared)
        if annotation in self.table.types:
            self.module.types.add(annotation)
        return expr

    def add(self, name: str, raw: dict[str, Any]) -> None:
        where = f"{TABLE}: {self.module.name}.{name}"
        read = "read" in raw
        call = _parse_call(raw["read" if read else "write"], where)
        fn = self._function(call, where, read)
        w = Wrapper(name, [], [], "", [], [])
        args = ["_address()"] + [
            self._arg(conv, pname, p.type.annotation(), w, where)
            for (conv, pname), p in zip(call.args, fn.inputs, strict=True)
        ]
        if fn.partial:
            args.append("network=b.network()")
        solidity = f"``{self.module.contract.name}.{fn.name}``"
        if read:
            w.returns, template = self._read_return(fn, raw, w, where)
            call = f"b.read(_abi.{fn.call_name}({', '.join(args)}))"
            w.body = ["return " + template.format(call)]
            cost = f"Reads {solidity}: one ``eth_call``."
        else:
            prelude = []
            if "value" in raw:  # checked first, as the wei sent is named after the parameter
                conv, pname = _parse_arg(ast.parse(raw["value"], mode="eval").body, where)
                prelude.append(f"paid = {self._arg(conv, pname, 'int', w, where)}")
                args.append("value=paid")
            role = raw.get("signer", self.default_signer)
            _expect(role in (*ROLES, "explicit"), f"{where}: bad signer {role!r}")
            explicit = role == "explicit"
            w.keywords.append("signer: Signer" if explicit else "signer: Signer | None = None")
            w.returns = "Receipt"
            build = f"_abi.{fn.py_name}({', '.join(args)})"
            who = "None" if explicit else f"Role.{role}"
            if prelude:
                w.body = ["def build() -> TxRequest:", *("    " + x for x in prelude)]
                w.body += [f"    return {build}", "", f"return transact(build, signer, {who})"]
                self.module.builds = True
            else:
                w.body = [f"return transact(lambda: {build}, signer, {who})"]
            self.module.writes = True
            self.module.roles |= role != "explicit"
            cost = f"Calls {solidity}: one transaction (``TxExecutor.execute``)."
        w.doc = _wrap(f"{raw['doc']}\n\n{cost}", 4) + _raises(raw.get("raises", []), 4)
        self.module.functions.append(w)

    def _read_return(
        self, fn: Function, raw: dict[str, Any], w: Wrapper, where: str
    ) -> tuple[str, str]:
        conv = raw.get("convert")
        if conv is None:
            _expect(fn.return_annotation in _PLAIN, f"{where}: returns {fn.return_annotation}")
            return fn.return_annotation, "{}"
        c = self.table.conversion(conv, where)
        _expect(c.returns is not None, f"{where}: {conv} converts no result")
        w.imports.setdefault(c.module, set()).add(conv)
        self.module.types.add(c.returns or "")
        return c.returns or "", f"{conv}({{}})"


class _Table:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.types: dict[str, str] = dict(raw.get("types", {}))
        self.conversions = {
            name: Conversion(
                name, c["from"], c.get("takes"), c.get("returns"), bool(c.get("named"))
            )
            for name, c in raw.get("conversions", {}).items()
        }

    def conversion(self, name: str, where: str) -> Conversion:
        _expect(name in self.conversions, f"{where}: unknown conversion {name!r}")
        return self.conversions[name]


@dataclass
class Protocol:
    """Everything rendered from abis/protocol.json."""

    modules: list[ProtocolModule]
    types: dict[str, str]


def load_protocol(abis_dir: Path, model: Model) -> Protocol | None:
    """The table checked against ``model``; None when abis_dir has no protocol.json. No I/O
    besides reading it. Raises CodegenError on an entry that does not match the ABIs."""
    path = abis_dir / TABLE
    if not path.is_file():
        return None
    raw = _read_json(path)
    table = _Table(raw)
    modules = []
    for name, spec in sorted(raw["modules"].items()):
        builder = _Builder(name, spec, model, table)
        for fname, entry in spec.get("functions", {}).items():
            builder.add(fname, entry)
        modules.append(builder.module)
    return Protocol(modules, table.types)
