"""The Model's error classes: errors.json classes and the ABIs' custom errors."""

from __future__ import annotations

from dataclasses import dataclass

from .abitypes import lit
from .model_base import _Member, names_used, pystr, tuple_lit, wrap
from .naming import snake

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
