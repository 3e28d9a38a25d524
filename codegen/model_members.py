"""The Model's contract members: functions (with their result classes) and events."""

from __future__ import annotations

from dataclasses import dataclass

from .abitypes import Param, lit
from .model_base import _BLOCK_PARAM, _Member, names_used, tuple_lit, wrap
from .naming import safe


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
