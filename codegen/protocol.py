"""abis/protocol.json -> the mechanical part of ogpu.protocol (ogpu_bindings/protocol/<module>.py).

Every entry names one Solidity call, checked against the Model (the function exists, takes
that many arguments, is a view for a read), or one call of another entry (an instance
method with ``self.address`` filled in). Python parameters are the call's argument names,
typed from the ABI or by their conversion. The rendered code is precomputed here
(signature, docstring lines, body lines, imports); the template only lays it out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CodegenError
from .errors import expect as _expect
from .errors import read_json as _read_json
from .model import Function, Model
from .protocol_model import (
    TABLE,
    Conversion,
    ProtocolClass,
    ProtocolModule,
    Wrapper,
    doc_lines,
    wrap_text,
)

ROLES = ("CLIENT", "PROVIDER", "MASTER")
BINDINGS = "ogpu.protocol._bindings"
_PLAIN = ("str", "int", "bool", "bytes")


@dataclass(frozen=True)
class _Call:
    """A parsed ``name(arg, conv(arg), ...)``: (conversion or None, parameter) per argument."""

    function: str
    args: list[tuple[str | None, str]]


def _parse_call(text: str, where: str) -> _Call:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise CodegenError(f"{where}: {text!r} is not a call") from None
    if not isinstance(node, ast.Call):
        raise CodegenError(f"{where}: {text!r} is not a call")
    func = ast.unparse(node.func)
    return _Call(func, [_parse_arg(a, f"{where}: {text!r}") for a in node.args])


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


#: module -> official name -> its generated function (what instance methods may call)
_Targets = dict[str, dict[str, Wrapper]]


class _Builder:
    """Turns the table's entries of one module into Wrappers (and its class)."""

    def __init__(self, name: str, raw: dict[str, Any], model: Model, table: _Table) -> None:
        contracts = {c.name: c for c in model.contracts}
        cname = raw.get("contract")
        _expect(cname is None or cname in contracts, f"{TABLE}: {name}: unknown contract {cname}")
        self.module = ProtocolModule(name, contracts[cname] if cname else None)
        self.contracts = contracts
        self.raw, self.table = raw, table
        # the table's types first: its SourceParams is the SDK's model, not the bindings' struct
        self.homes = {e: "ogpu_bindings.enums" for e in model.enum_names}
        self.homes.update({s: "ogpu_bindings.structs" for s in model.struct_names}, **table.types)
        self.default_signer = raw.get("signer", "explicit")
        self.instance_reads = False

    def _where(self, name: str) -> str:
        return f"{TABLE}: {self.module.name}.{name}"

    def _function(self, text: str, where: str, read: bool) -> tuple[Function, _Call]:
        call = _parse_call(text, where)
        contract = self.module.contract
        _expect(contract is not None, f"{where}: the module names no contract")
        assert contract is not None
        fn = next((f for f in contract.functions if f.name == call.function), None)
        _expect(fn is not None, f"{where}: {contract.name} has no {call.function}")
        assert fn is not None
        _expect(fn.is_read == read, f"{where}: {call.function} is {'not ' * read}a view")
        _expect(
            len(fn.inputs) == len(call.args),
            f"{where}: {call.function} takes {len(fn.inputs)} arguments, not {len(call.args)}",
        )
        self.module.need("ogpu_bindings", f"{contract.module} as _abi")
        return fn, call

    def _param(self, w: Wrapper, name: str, annotation: str, where: str) -> None:
        if (name, annotation) not in w.params:
            _expect(all(n != name for n, _ in w.params), f"{where}: {name} typed twice")
            w.params.append((name, annotation))
        self.module.annotate(annotation, self.homes)

    def _arg(self, conv: str | None, name: str, abi_annotation: str, w: Wrapper, where: str) -> str:
        """Declare parameter ``name`` on ``w`` (once) and return the expression passing it."""
        if conv is None:
            plain = abi_annotation in _PLAIN
            _expect(plain, f"{where}: {name} ({abi_annotation}) needs a conversion")
            self._param(w, name, abi_annotation, where)
            return name
        c = self.table.conversion(conv, where)
        _expect(c.takes is not None, f"{where}: {conv} converts no argument")
        self._param(w, name, c.takes or "", where)
        expr = f'{conv}({name}, "{name}")' if c.named else f"{conv}({name})"
        if c.module == BINDINGS:  # imported as ``b`` by every generated module
            return "b." + expr
        w.imports.setdefault(c.module, set()).add(conv)
        return expr

    def _args(self, fn: Function, call: _Call, w: Wrapper, where: str) -> list[str]:
        args = [
            self._arg(conv, pname, p.type.annotation(), w, where)
            for (conv, pname), p in zip(call.args, fn.inputs, strict=True)
        ]
        return args + (["network=b.network()"] if fn.partial else [])

    def _read(self, name: str, raw: dict[str, Any], on: str, reader: str) -> Wrapper:
        """A view call on ``on`` (an address expression) through ``reader``."""
        where = self._where(name)
        fn, call = self._function(raw["read"], where, True)
        w = Wrapper(name)
        self.instance_reads |= reader == "self._read"
        args = ", ".join([on, *self._args(fn, call, w, where)])
        body = f"{reader}(_abi.{fn.call_name}({args}))"
        conv = raw.get("convert")
        if conv is None:
            w.returns = fn.return_annotation
        else:
            c = self.table.conversion(conv, where)
            _expect(c.returns is not None, f"{where}: {conv} converts no result")
            w.imports.setdefault(c.module, set()).add(conv)
            w.returns, body = c.returns or "", f"{conv}({body})"
        self.module.annotate(w.returns, self.homes)
        w.body = [f"return {body}"]
        assert self.module.contract is not None
        cost = f"Reads ``{self.module.contract.name}.{fn.name}``: one ``eth_call``."
        raises = raw.get("raises", [])
        missing = self.raw.get("missing")
        if reader == "self._read" and missing and not raises:
            raises = [f"{missing[0]}: no {self.module.contract.name} contract at the address."]
            raises.append("RPCError: the node failed.")
        w.doc = doc_lines(raw["doc"], cost, raises, 8 if on == "self.address" else 4)
        return w

    def function(self, name: str, raw: dict[str, Any]) -> Wrapper:
        """A module function: one read or one write of the module's singleton."""
        self.module.need(BINDINGS.rsplit(".", 1)[0], "_bindings as b")
        if "read" in raw:
            return self._read(name, raw, "_address()", "b.read")
        where = self._where(name)
        fn, call = self._function(raw["write"], where, False)
        w = Wrapper(name, write=True)
        args = self._args(fn, call, w, where)
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
        build = f"_abi.{fn.py_name}({', '.join(['_address()', *args])})"
        who = "None" if explicit else f"Role.{role}"
        if prelude:
            w.body = ["def build() -> TxRequest:", *("    " + x for x in prelude)]
            w.body += [f"    return {build}", "", f"return transact(build, signer, {who})"]
            self.module.annotate("TxRequest", self.homes)
        else:
            w.body = [f"return transact(lambda: {build}, signer, {who})"]
        self.module.need("ogpu.protocol._common", "transact")
        if not explicit:
            self.module.need("ogpu.types.enums", "Role")
        self.module.annotate("Signer Receipt", self.homes)
        assert self.module.contract is not None
        solidity = f"{self.module.contract.name}.{fn.name}"
        cost = f"Calls ``{solidity}``: one transaction (``TxExecutor.execute``)."
        w.doc = doc_lines(raw["doc"], cost, raw.get("raises", []), 4)
        return w

    def delegate(self, name: str, raw: dict[str, Any], targets: _Targets) -> Wrapper:
        """An instance method calling a function of a module here with ``self.address``."""
        where = self._where(name)
        call = _parse_call(raw["calls"], where)
        module, _, fname = call.function.partition(".")
        target = targets.get(module, {}).get(fname)
        _expect(target is not None, f"{where}: no function {call.function} in {TABLE}")
        assert target is not None
        _expect(len(call.args) == len(target.params), f"{where}: {call.function}'s arguments")
        w = Wrapper(
            name, keywords=list(target.keywords), returns=target.returns, write=target.write
        )
        args = []
        for (conv, arg), (_, annotation) in zip(call.args, target.params, strict=True):
            _expect(conv is None, f"{where}: {call.function} converts its own arguments")
            args.append("self.address" if arg == "self" else arg)
            if arg != "self":
                self._param(w, arg, annotation, where)
        if target.write:
            args.append(f"signer={self._signer(raw.get('signer'), w, where)}")
        self.module.annotate("Signer " * target.write + w.returns, self.homes)
        if module != self.module.name:
            self.module.need("ogpu_bindings.protocol", module)
        prefix = "" if module == self.module.name else f"{module}."
        w.body = [f"return {prefix}{fname}({', '.join(args)})"]
        shown = ", ".join(a for a in args if not a.startswith("signer="))
        cost = "one transaction" if target.write else "one ``eth_call``"
        said = f"Calls ``{module}.{fname}({shown})``: {cost}; raises what it raises."
        w.doc = doc_lines(raw["doc"], said, raw.get("raises", []), 8)
        return w

    def _signer(self, how: str | None, w: Wrapper, where: str) -> str:
        if how is None:
            return "signer"
        if how == "own":
            w.imports.setdefault("ogpu.protocol._common", set()).add("own_signer")
            return "own_signer(self.address, signer)"
        _expect(how in ROLES, f"{where}: bad signer {how!r}")
        w.imports.setdefault("ogpu.chain.signer", set()).add("resolve_signer")
        self.module.need("ogpu.types.enums", "Role")
        return f"resolve_signer(signer, Role.{how})"

    def cls(self, targets: _Targets, modules: dict[str, Any]) -> ProtocolClass:
        raw = self.raw
        extends = raw.get("extends", "AddressBound")
        home_raw = None
        if "." in extends:
            home, base = extends.split(".")
            home_raw = modules[home]
            self.module.need("ogpu_bindings.protocol." + home, base)
        else:
            self.module.need("ogpu.protocol._instance", extends)
            base = extends
        methods = []
        for name, entry in raw.get("methods", {}).items():
            if "read" in entry:
                methods.append(self._read(name, entry, "self.address", "self._read"))
            else:
                methods.append(self.delegate(name, entry, targets))
        missing = raw.get("missing")
        probe = None
        if missing is not None:
            self.module.need("ogpu.errors", missing[0])
            self.module.annotate("Self", self.homes)
        if "probe" in raw:
            self.module.need(BINDINGS.rsplit(".", 1)[0], "_bindings as b")
            where = self._where("load")
            calls = [self._function(text, where, True) for text in raw["probe"]]
            probe = [f"_abi.{fn.call_name}(found.address)" for fn, _ in calls]
        if self.instance_reads:  # the class's _read is generic over the call's result
            self.module.need(BINDINGS.rsplit(".", 1)[0], "_bindings as b")
            self.module.need("typing", "TypeVar")
            self.module.annotate("ContractCall", self.homes)
        doc = wrap_text(raw.get("doc", ""), 4)
        made = ProtocolClass(raw["class"], base, doc, methods, missing, probe, raw.get("check"))
        if "snapshot" in raw or (home_raw or {}).get("snapshot"):
            self._snapshot(made, raw.get("snapshot", {}), bool((home_raw or {}).get("snapshot")))
        return made

    def _snapshot(self, made: ProtocolClass, fields: dict[str, str], inherited: bool) -> None:
        """``_snapshot_calls``: field -> a view of this contract, or of a singleton
        (``Terminal.masterOf(self)``), every argument ``self``."""
        where = self._where("snapshot")
        singletons: dict[str, str] = {}
        for name, text in fields.items():
            call = _parse_call(text, where)
            owner, _, fname = call.function.rpartition(".")
            contract = self.contracts.get(owner) if owner else self.module.contract
            _expect(contract is not None, f"{where}: {text}: no such contract")
            assert contract is not None
            fn = next((f for f in contract.functions if f.name == fname and f.is_read), None)
            _expect(fn is not None, f"{where}: {contract.name} has no view {fname}")
            assert fn is not None
            ok = len(call.args) == len(fn.inputs) and all(a == (None, "self") for a in call.args)
            _expect(ok, f"{where}: {text}: the views of a snapshot take ``self`` only")
            args = ["self.address"] * len(call.args)
            if owner:
                local = f"{contract.module}_address"
                singletons[local] = f'b.singleton("{contract.name.upper()}")'
                self.module.need("ogpu_bindings", f"{contract.module} as _{contract.module}")
                view = f"_{contract.module}.{fn.call_name}({', '.join([local, *args])})"
                made.snapshot.append(f'"{name}": {view},')
            else:
                self.module.need("ogpu_bindings", f"{contract.module} as _abi")
                made.snapshot.append(f'"{name}": _abi.{fn.call_name}(self.address),')
        made.snapshot_locals = [f"{k} = {v}" for k, v in singletons.items()]
        made.snapshot_type = self.raw.get("snapshot_type")
        if made.snapshot_type:  # nothing to convert: snapshot() itself is generated
            self.module.need("ogpu.types.snapshots", made.snapshot_type)
        made.snapshot_super = inherited
        if singletons:
            self.module.need(BINDINGS.rsplit(".", 1)[0], "_bindings as b")
        self.module.need("typing", "Any")
        self.module.annotate("ContractCall", self.homes)


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


def load_protocol(abis_dir: Path, model: Model) -> list[ProtocolModule] | None:
    """The table checked against ``model``; None when abis_dir has no protocol.json. Reads
    that file only. Raises CodegenError on an entry that does not match the ABIs."""
    path = abis_dir / TABLE
    if not path.is_file():
        return None
    raw = _read_json(path)
    table = _Table(raw)
    builders = [_Builder(name, spec, model, table) for name, spec in sorted(raw["modules"].items())]
    targets: _Targets = {}
    for b in builders:  # every module function first: the classes' methods call them
        for fname, entry in b.raw.get("functions", {}).items():
            b.module.functions.append(b.function(fname, entry))
        targets[b.module.name] = {f.name: f for f in b.module.functions}
    for b in builders:
        if "class" in b.raw:
            b.module.cls = b.cls(targets, raw["modules"])
    return [b.module for b in builders]
