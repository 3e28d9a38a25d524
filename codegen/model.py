"""The typed intermediate model the templates render. Every derived string is computed here."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from .abitypes import AbiType, Param, lit
from .naming import safe, snake

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


# -- errors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorAttr:
    name: str
    type: str
    doc: str

    @property
    def annotation(self) -> str:
        return f"{self.type} | None"


@dataclass(frozen=True)
class RevertRule:
    reason: str
    contract: str | None
    function: str | None


@dataclass(frozen=True)
class ErrorClass:
    """One exception class: from errors.json, or a Solidity custom error (`custom` set)."""

    name: str
    parent: str | None
    builtin_bases: tuple[str, ...]
    doc: str
    message: str
    attrs: tuple[ErrorAttr, ...]
    inherited: tuple[ErrorAttr, ...]
    reverts: tuple[RevertRule, ...] = ()
    custom: CustomError | None = None
    also: tuple[str, ...] = ()
    """More SDK base classes after the parent (their chains add no attributes)."""
    official: tuple[str, ...] = ()
    """The official SDK's positional constructor arguments (attribute names), in order."""
    official_message: str | None = None
    """``str.format`` template of the message built from those arguments."""

    @property
    def bases(self) -> str:
        parents = [self.parent] if self.parent else []
        return ", ".join(parents + list(self.also) + list(self.builtin_bases))

    @property
    def defines_init(self) -> bool:
        return bool(self.attrs or self.official)

    @property
    def all_attrs(self) -> tuple[ErrorAttr, ...]:
        return self.inherited + self.attrs

    @property
    def doc_lines(self) -> list[str]:
        text = self.doc
        if self.custom is not None:
            text += f"\n\nDecoded from the custom error `{self.custom.display}` (selector "
            text += f"{self.custom.selector})."
        reasons = sorted({r.reason for r in self.reverts})
        if reasons:
            text += "\n\nRevert reasons: " + ", ".join(reasons) + "."
        return wrap(text)

    @property
    def message_lit(self) -> str:
        return pystr(self.message)

    def positional_params(self) -> list[str]:
        """The official positional arguments (before ``*``), else ``message``."""
        if not self.official:
            return ["message: str | None = None"]
        by_name = {a.name: a for a in self.all_attrs}
        return [f"{n}: {by_name[n].annotation} = None" for n in self.official]

    def keyword_params(self) -> list[str]:
        rest = [
            f"{a.name}: {a.annotation} = None"
            for a in self.all_attrs
            if a.name not in self.official
        ]
        return (["message: str | None = None"] if self.official else []) + rest

    def super_args(self) -> list[str]:
        return ["message=message"] + [f"{a.name}={a.name}" for a in self.inherited]

    @property
    def official_message_lit(self) -> str:
        """The template as an f-string over the (same-named) constructor arguments."""
        return "f" + lit(self.official_message or "")

    def official_condition(self) -> str:
        return " and ".join(["message is None"] + [f"{n} is not None" for n in self.official])


@dataclass(frozen=True)
class CustomError(_Member):
    """A Solidity custom error (union over every ABI)."""

    class_name: str
    selector: str
    sources: tuple[str, ...]

    @property
    def py_name(self) -> str:  # type: ignore[override]
        return snake(self.name)

    @property
    def display(self) -> str:
        inner = ", ".join(f"{p.type.display} {p.name}".strip() for p in self.inputs)
        return f"{self.name}({inner})"

    @property
    def types_lit(self) -> str:
        return tuple_lit([lit(p.type.canonical) for p in self.inputs])

    def attr_items(self) -> list[str]:
        return [f"{p.py_name}={p.type.decode_expr(f'_v[{i}]')}" for i, p in enumerate(self.inputs)]

    def names_used(self) -> set[str]:
        return names_used(self.inputs)

    def lazy_imports(self, enum_names: set[str]) -> list[tuple[str, str]]:
        """(module, name) imported inside the decoder (errors.py cannot import them at the top:
        structs -> runtime -> errors would be a cycle)."""
        return sorted(("enums" if n in enum_names else "structs", n) for n in self.names_used())


# -- contracts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultClass:
    """Frozen dataclass for a function with several outputs (fields keep Solidity names)."""

    name: str
    fields: tuple[Param, ...]
    function: str

    def field_lines(self) -> list[str]:
        return [f"{f.py_name}: {f.type.annotation()}" for f in self.fields]

    def from_abi_items(self) -> list[str]:
        return [
            f"{f.py_name}={f.type.decode_expr(f'values[{i}]')}" for i, f in enumerate(self.fields)
        ]


@dataclass(frozen=True)
class _ContractMember(_Member):
    """A function or an event of one contract."""

    contract: str
    py_name: str


@dataclass(frozen=True)
class Function(_ContractMember):
    outputs: tuple[Param, ...]
    mutability: str
    selector: str
    result: ResultClass | None
    present_on: tuple[str, ...]
    """ABI sets that deploy it."""
    partial: bool
    """Absent from some ABI set: the functions take `network` and check it first."""

    @property
    def is_read(self) -> bool:
        return self.mutability in ("view", "pure")

    @property
    def payable(self) -> bool:
        return self.mutability == "payable"

    @property
    def display(self) -> str:
        ins = ", ".join(f"{p.type.display} {p.name}".strip() for p in self.inputs)
        text = f"{self.name}({ins}) {self.mutability}"
        if self.outputs:
            outs = ", ".join(f"{p.type.display} {p.name}".strip() for p in self.outputs)
            text += f" returns ({outs})"
        return text

    @property
    def call_name(self) -> str:
        return f"{self.py_name}_call"

    @property
    def selector_const(self) -> str:
        return f"_{self.py_name.upper()}_SELECTOR"

    @property
    def return_annotation(self) -> str:
        if self.result is not None:
            return self.result.name
        if self.outputs:
            return self.outputs[0].type.annotation()
        return "None"

    @property
    def output_size(self) -> int | None:
        """Bytes of the encoded answer when fixed; None when it holds a string, bytes or T[]."""
        sizes = [p.type.static_size for p in self.outputs]
        return None if any(n is None for n in sizes) else sum(n or 0 for n in sizes)

    @property
    def out_types_lit(self) -> str:
        return tuple_lit([lit(p.type.canonical) for p in self.outputs])

    @property
    def in_types_lit(self) -> str:
        return tuple_lit([lit(p.type.canonical) for p in self.inputs])

    def params(self) -> list[str]:
        """`name: annotation` for every ABI input (after the contract `address`)."""
        return [f"{p.py_name}: {p.type.input_annotation()}" for p in self.inputs]

    @property
    def _network(self) -> list[str]:
        return ["network: str"] if self.partial else []

    def call_sig(self) -> str:
        kw = ["*", *self._network] if self.partial else []
        return ", ".join(["address: str", *self.params(), *kw])

    def read_sig(self) -> str:
        return ", ".join(
            ["w3: Web3", "address: str", *self.params(), "*", *self._network, _BLOCK_PARAM]
        )

    def write_sig(self) -> str:
        kw = (["value: int"] if self.payable else []) + self._network
        return ", ".join(["address: str", *self.params(), *(["*", *kw] if kw else [])])

    def method_sig(self) -> str:
        return ", ".join(["self", *self.params(), "*", *self._network, _BLOCK_PARAM])

    @property
    def network_arg(self) -> str:
        """`, network=network` for a partial function's inner call, else ''."""
        return ", network=network" if self.partial else ""

    @property
    def where(self) -> str:
        """`alpha, beta`: the ABI sets that deploy it."""
        return ", ".join(self.present_on)

    @property
    def method_name(self) -> str:
        return safe(self.py_name, {"w3", "address"}, avoid_builtins=False)

    @property
    def call_args(self) -> str:
        return ", ".join(["address", *self.arg_names()]) + self.network_arg

    @property
    def method_call_args(self) -> str:
        return ", ".join(["self.address", *self.arg_names()]) + self.network_arg

    @property
    def value_expr(self) -> str:
        return '_rt.check_uint(value, 256, "value")' if self.payable else "0"

    def arg_names(self) -> list[str]:
        return [p.py_name for p in self.inputs]

    @property
    def args_tuple(self) -> str:
        return tuple_lit(self.arg_names())

    @property
    def encoded_tuple(self) -> str:
        return tuple_lit([p.type.encode_expr(p.py_name, p.name or p.py_name) for p in self.inputs])

    @property
    def decode_return(self) -> str:
        """Expression over the decoded tuple `_v` giving the Python result."""
        if self.result is not None:
            return f"{self.result.name}.from_abi(_v)"
        if self.outputs:
            return self.outputs[0].type.decode_expr("_v[0]")
        return "None"

    def input_errors(self) -> list[str]:
        kinds = ["InvalidAddressError"]
        if self.partial:
            kinds.append("FunctionNotOnNetworkError")
        for p in self.inputs:
            for t in p.type.walk():
                if t.enum:
                    kinds.append("InvalidEnumValueError")
                elif t.kind in ("uint", "int"):
                    kinds.append("InvalidAmountError")
                elif t.kind == "address":
                    kinds.append("InvalidAddressError")
                else:
                    kinds.append("InvalidParamsError")
        if self.payable:
            kinds.append("InvalidAmountError")
        return sorted(set(kinds))

    def _doc(self, cost: str) -> list[str]:
        text = f"`{self.display}` on {self.contract}"
        if self.partial:
            text += f", deployed on {self.where} only: `network` (a network or ABI set name) is "
            text += "checked first"
        return wrap(f"{text}.\n\n{cost}")

    def result_doc(self) -> list[str]:
        return wrap(f"Outputs of `{self.display}`.")

    def doc_call(self) -> list[str]:
        errs = ", ".join(self.input_errors())
        return self._doc(f"No RPC: encodes the calldata and carries the decoder. Raises {errs}.")

    def doc_read(self) -> list[str]:
        errs = ", ".join(self.input_errors())
        return self._doc(
            f"One eth_call. Raises {errs} before any RPC; a TxRevertError subclass if the call "
            "reverts; RPCError on transport failure; AbiDecodeError if the answer does not decode."
        )

    def doc_write(self) -> list[str]:
        errs = ", ".join(self.input_errors())
        value = " `value` is the wei sent with the call." if self.payable else ""
        return self._doc(
            f"Returns a TxRequest; send it with the executor. No RPC.{value} Raises {errs}."
        )

    def doc_method(self) -> list[str]:
        return wrap(f"`{self.display}`: one eth_call (see the module function {self.py_name}).")

    def names_used(self) -> set[str]:
        return names_used(self.inputs + self.outputs)

    @property
    def uses_sequence(self) -> bool:
        return any(p.type.needs_sequence() for p in self.inputs)


@dataclass(frozen=True)
class EventField:
    param: Param
    """The event argument (py_name is the dataclass field name)."""
    annotation: str
    expr: str
    """Decode expression over `_v` (data values) and `_topics`."""


@dataclass(frozen=True)
class Event(_ContractMember):
    anonymous: bool
    topic: str
    present_on: tuple[str, ...]
    partial: bool
    defined_in: str | None
    """Module (snake contract name) that defines the class when this one re-exports it."""

    @property
    def class_name(self) -> str:
        base = self.name[:1].upper() + self.name[1:]
        return base if base.endswith("Event") else f"{base}Event"

    @property
    def topic_const(self) -> str:
        return f"{self.py_name.upper()}_TOPIC"

    @property
    def display(self) -> str:
        parts = []
        for p in self.inputs:
            idx = " indexed" if p.indexed else ""
            parts.append(f"{p.type.display}{idx} {p.name}".strip())
        return f"{self.name}({', '.join(parts)})"

    @property
    def decoder_name(self) -> str:  # public: the events modules export their decoders
        return f"decode_{self.py_name}"

    @property
    def uses_topics(self) -> bool:
        return any(p.indexed for p in self.inputs)

    @property
    def n_topics(self) -> int:
        return sum(1 for p in self.inputs if p.indexed) + (0 if self.anonymous else 1)

    @property
    def data_types_lit(self) -> str:
        return tuple_lit([lit(p.type.canonical) for p in self.inputs if not p.indexed])

    def fields(self) -> list[EventField]:
        out: list[EventField] = []
        data_i = 0
        topic_i = 0 if self.anonymous else 1
        for p in self.inputs:
            if p.indexed:
                if p.type.is_dynamic:
                    ann, expr = "bytes", f"_rt.as_bytes(_topics[{topic_i}])"
                else:
                    raw = f"_rt.decode_topic({lit(p.type.canonical)}, _topics[{topic_i}])"
                    ann, expr = p.type.annotation(), p.type.decode_expr(raw)
                topic_i += 1
            else:
                ann, expr = p.type.annotation(), p.type.decode_expr(f"_v[{data_i}]")
                data_i += 1
            out.append(EventField(p, ann, expr))
        return out

    def doc_class(self) -> list[str]:
        text = f"Event `{self.display}` emitted by {self.contract}"
        if self.partial:
            text += f" (deployed on {', '.join(self.present_on)} only)"
        text += (
            ".\n\nFields are the event arguments (snake_case) plus the log's address, "
            "block_number, transaction_hash and log_index."
        )
        if any(p.indexed and p.type.is_dynamic for p in self.inputs):
            text += " Indexed dynamic arguments hold the 32-byte keccak hash from the topic."
        return wrap(text)

    def doc_decoder(self) -> list[str]:
        return wrap(
            f"Decode a raw log (web3 LogReceipt or a dict with hex strings) of `{self.display}`."
            "\n\nNo RPC. Raises AbiDecodeError if the log is not this event or is malformed."
        )

    def names_used(self) -> set[str]:
        # an indexed dynamic value is only its hash: nothing of its type is decoded
        return names_used(p for p in self.inputs if not (p.indexed and p.type.is_dynamic))


@dataclass(frozen=True)
class Contract:
    name: str
    module: str
    sources: tuple[str, ...]
    functions: tuple[Function, ...]
    events: tuple[Event, ...]
    proxy: bool

    @property
    def has_proxy(self) -> bool:
        return self.proxy and bool(self.reads)

    @property
    def proxy_name(self) -> str:
        return f"{self.name}Contract"

    @property
    def reads(self) -> tuple[Function, ...]:
        return tuple(f for f in self.functions if f.is_read)

    @property
    def own_events(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.defined_in is None)

    @property
    def reexports(self) -> list[tuple[str, list[str]]]:
        """(events module, names) the events module imports for events shared with others."""
        by_mod: dict[str, list[str]] = {}
        for e in self.events:
            if e.defined_in is not None:
                by_mod.setdefault(e.defined_in, []).extend(
                    [e.class_name, e.topic_const, e.decoder_name]
                )
        return [(m, sorted(names)) for m, names in sorted(by_mod.items())]

    @property
    def event_names(self) -> list[str]:
        """Every event name (class, topic, decoder) the contract module re-exports from its
        events module ogpu_bindings.<network>.events.<module>."""
        names: list[str] = []
        for e in self.events:
            names += [e.topic_const, e.class_name, e.decoder_name]
        # isort's order-by-type: CONSTANTS, then Classes, then functions
        return sorted(names, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))

    @property
    def results(self) -> list[ResultClass]:
        return [f.result for f in self.functions if f.result is not None]

    @property
    def selectors(self) -> list[tuple[str, str]]:
        return sorted((f.name, f.selector) for f in self.functions)

    @property
    def availability(self) -> list[tuple[str, str]]:
        """(Solidity name, tuple literal of ABI sets) for every function and event."""
        members = [(f.name, f.present_on) for f in self.functions]
        members += [(e.name, e.present_on) for e in self.events]
        return sorted((name, tuple_lit([lit(s) for s in sets])) for name, sets in members)

    @property
    def has_partial(self) -> bool:
        return any(f.partial for f in self.functions)

    def enum_imports(self, enum_names: set[str]) -> list[str]:
        return sorted(self._names_used() & enum_names)

    def struct_imports(self, struct_names: set[str]) -> list[str]:
        return sorted(self._names_used() & struct_names)

    def _names_used(self) -> set[str]:
        out: set[str] = set()
        for f in self.functions:
            out |= f.names_used()
        return out

    def _event_names_used(self) -> set[str]:
        out: set[str] = set()
        for e in self.own_events:
            out |= e.names_used()
        return out

    @property
    def uses_sequence(self) -> bool:
        return any(f.uses_sequence for f in self.functions)

    def imports(self, enum_names: set[str], struct_names: set[str]) -> dict[str, list[str]]:
        """Names each import line of the contract module needs (empty lists are skipped)."""
        has_reads = bool(self.reads)
        has_writes = any(not f.is_read for f in self.functions)
        typing = ["Final"]
        if self.results:
            typing.append("Any")
        if has_reads or self.events:
            typing.append("TYPE_CHECKING")
        abc = ["Mapping"]
        if self.uses_sequence or self.results:
            abc.append("Sequence")
        runtime = []
        if has_reads:
            runtime.append("ContractCall")
        if has_writes:
            runtime.append("TxRequest")
        return {
            "abc": sorted(abc),
            "dataclasses": ["dataclass"] if self.results else [],
            "typing": sorted(typing, key=lambda n: (not n.isupper(), n)),
            "runtime": runtime,
            "enums": self.enum_imports(enum_names),
            "structs": self.struct_imports(struct_names),
        }

    def event_imports(self, enum_names: set[str], struct_names: set[str]) -> dict[str, list[str]]:
        """Names each import line of the events module needs (empty lists are skipped)."""
        own = bool(self.own_events)
        used = self._event_names_used()
        return {
            "dataclasses": ["dataclass"] if own else [],
            "typing": ["ClassVar", "Final"] if own else ["Final"],
            "runtime": ["LogLike"] if own else [],
            "enums": sorted(used & enum_names),
            "structs": sorted(used & struct_names),
        }

    @property
    def doc_lines(self) -> list[str]:
        return wrap(
            f"Bindings for the {self.name} contract, over every ABI set that deploys it.\n\n"
            "Reads: `<fn>_call(address, ...)` returns a ContractCall (no RPC) and "
            "`<fn>(w3, address, ...)` does one eth_call. Writes return a TxRequest (no RPC). "
            "AVAILABILITY names the ABI sets of every function and event; a function missing "
            "from some set takes `network=` and raises FunctionNotOnNetworkError, before any "
            "RPC, on a network that lacks it. Events: `<Name>Event` dataclasses, `<NAME>_TOPIC` "
            "and `decode_<name>(log)`"
            + (
                f", loaded from ogpu_bindings.events.{self.module} on first access."
                if self.events
                else "."
            ),
            indent=0,
        )

    @property
    def event_doc_lines(self) -> list[str]:
        return wrap(
            f"Events of the {self.name} contract: `<Name>Event` dataclasses, `<NAME>_TOPIC` and "
            f"`decode_<name>(log)`.\n\nogpu_bindings.{self.module} re-exports them; importing "
            "this module alone loads none of the contract's functions (what a log watcher needs).",
            indent=0,
        )


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    chain_id: int
    rpc: str
    abi_set: str
    addresses: tuple[tuple[str, str], ...]
    default_agent: str | None


@dataclass(frozen=True)
class Model:
    enums: tuple[Enum, ...]
    structs: tuple[Struct, ...]
    errors: tuple[ErrorClass, ...]
    """errors.json classes then custom-error classes, parents before children."""
    custom_errors: tuple[CustomError, ...]
    set_names: tuple[str, ...]
    """ABI sets (abis/<name>/), sorted."""
    contracts: tuple[Contract, ...]
    """One per contract over the union of the sets."""
    networks: tuple[NetworkInfo, ...]

    def event_decoder_items(self) -> list[tuple[str, str]]:
        """(topic expression, decoder expression) over the events modules, sorted."""
        out = []
        for c in self.contracts:
            for e in c.events:
                if e.anonymous or e.defined_in is not None:
                    continue
                out.append((f"{c.module}.{e.topic_const}", f"{c.module}.{e.decoder_name}"))
        return sorted(out)

    @property
    def event_contracts(self) -> tuple[Contract, ...]:
        """Contracts with an events module (ogpu_bindings.events.<module>)."""
        return tuple(c for c in self.contracts if c.events)

    @property
    def decoder_modules(self) -> list[str]:
        """Events modules that define a decoder listed in EVENT_DECODERS."""
        return sorted({item[0].split(".", 1)[0] for item in self.event_decoder_items()})

    @property
    def enum_names(self) -> set[str]:
        return {e.name for e in self.enums}

    @property
    def struct_names(self) -> set[str]:
        return {s.name for s in self.structs}

    def revert_defaults(self) -> list[tuple[str, str]]:
        out = [
            (r.reason, c.name)
            for c in self.errors
            for r in c.reverts
            if r.contract is None and r.function is None
        ]
        return sorted(out)

    def revert_overrides(self) -> list[tuple[str, str, str, str]]:
        out = [
            (r.contract or "*", r.function or "*", r.reason, c.name)
            for c in self.errors
            for r in c.reverts
            if r.contract is not None or r.function is not None
        ]
        return sorted(out)

    def sdk_error_imports(self) -> list[str]:
        """The hand-written ogpu.errors classes errors.py derives from or names."""
        generated = {c.name for c in self.errors}
        used = {"TxRevertError"}
        for c in self.errors:
            used |= {b for b in (c.parent, *c.also) if b is not None and b not in generated}
        return sorted(used)

    def custom_error_imports(self) -> list[tuple[str, list[str]]]:
        """(module, names) the custom error attributes' annotations need."""
        used: set[str] = set()
        for ce in self.custom_errors:
            used |= ce.names_used()
        out = [
            ("enums", sorted(used & self.enum_names)),
            ("structs", sorted(used & self.struct_names)),
        ]
        return [(m, names) for m, names in out if names]

    def struct_enum_imports(self) -> list[str]:
        used: set[str] = set()
        for s in self.structs:
            used |= s.names_used()
        return sorted(used & self.enum_names)
