"""The typed intermediate model the templates render. Every derived string is computed here."""

from __future__ import annotations

from dataclasses import dataclass

from .abitypes import lit
from .model_base import DOC_WIDTH, Enum, EnumMember, Struct, pystr, tuple_lit, wrap
from .model_errors import CustomError, ErrorAttr, ErrorClass, RevertRule
from .model_members import Event, EventField, Function, ResultClass

__all__ = [
    "DOC_WIDTH",
    "Contract",
    "CustomError",
    "Enum",
    "EnumMember",
    "ErrorAttr",
    "ErrorClass",
    "Event",
    "EventField",
    "Function",
    "Model",
    "NetworkInfo",
    "ResultClass",
    "RevertRule",
    "Struct",
    "pystr",
    "tuple_lit",
    "wrap",
]


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
