"""The client-side schema check against pydantic as the oracle.

Hypothesis builds pydantic models (scalars with constraints, literals, enums, lists,
tuples, dicts, optionals, unions, nested models with every ``extra`` policy,
aliases with validation by name, tagged unions, before-validators) and JSON-like
inputs aimed at pydantic's lax corners (numeric strings, ``"yes"``, ``1.0`` for an
int...). For each pair, the verdict of :class:`ogpu.manifest.SchemaValidator` on
the model's manifest schema equals ``Model.model_validate``'s.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from ogpu.manifest import SchemaValidator
from ogpu.service.manifest import _ManifestSchema

_names = itertools.count()


def _name(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


# -- types: an annotation plus a strategy of near-valid values -----------------------------------

TRICKY = st.sampled_from(
    [
        "1",
        " 2 ",
        "1.0",
        "1.5",
        "-3",
        "1_000",
        "0x1",
        "1e3",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "t",
        "f",
        "",
        "abc",
        "nan",
        "inf",
        "a",
        "b",
        "A",
        "x-1",
    ]
)
SCALARS = st.one_of(
    TRICKY,
    st.integers(-5, 300),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5]),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
)


@dataclass
class Spec:
    annotation: Any
    values: st.SearchStrategy[Any]
    models: list[type[BaseModel]] = field(default_factory=list)


def _json_noise(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth <= 0:
        return SCALARS
    inner = _json_noise(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    )


def _mixed(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, valid, _json_noise(1))


@st.composite
def string_spec(draw: st.DrawFn) -> Spec:
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["min_length"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        kwargs["max_length"] = draw(st.integers(3, 6))
    if draw(st.booleans()):
        kwargs["pattern"] = draw(st.sampled_from([r"^[a-z]+$", r"\d", r"^x", r"^(a|b)*$"]))
    annotation = Annotated[str, Field(**kwargs)] if kwargs else str
    return Spec(annotation, _mixed(st.one_of(st.text(max_size=7), TRICKY)))


@st.composite
def number_spec(draw: st.DrawFn) -> Spec:
    base = draw(st.sampled_from([int, float]))
    kwargs: dict[str, Any] = {}
    for key in ("ge", "gt", "le", "lt"):
        if draw(st.integers(0, 3)) == 0:
            kwargs[key] = (
                draw(st.integers(-3, 3)) if key in ("ge", "gt") else draw(st.integers(4, 9))
            )
    if draw(st.integers(0, 4)) == 0:
        kwargs["multiple_of"] = draw(st.sampled_from([2, 3] if base is int else [0.5, 2.0]))
    annotation = Annotated[base, Field(**kwargs)] if kwargs else base
    return Spec(annotation, _mixed(SCALARS))


@st.composite
def literal_spec(draw: st.DrawFn) -> Spec:
    members = draw(
        st.lists(
            st.sampled_from([0, 1, 2, "a", "b", "1", True, False, None]),
            min_size=1,
            max_size=3,
            unique_by=lambda v: (type(v), v),
        )
    )
    return Spec(Literal[tuple(members)], _mixed(st.sampled_from([*members, 1.0, 0.0, "0", 1, "A"])))


@st.composite
def enum_spec(draw: st.DrawFn) -> Spec:
    kind = draw(st.sampled_from(["int", "str"]))
    if kind == "int":
        cls: Any = enum.IntEnum(_name("IE"), {"ONE": 1, "TWO": 2})
        values = st.sampled_from([1, 2, 3, "1", " 2", "1.0", 1.0, True, "one"])
    else:
        cls = enum.Enum(_name("SE"), {"A": "a", "B": "b"}, type=str)
        values = st.sampled_from(["a", "b", "A", "c", 1, None])
    return Spec(cls, _mixed(values))


def scalar_spec() -> st.SearchStrategy[Spec]:
    return st.one_of(
        string_spec(),
        number_spec(),
        st.just(Spec(bool, _mixed(SCALARS))),
        st.just(Spec(None, _mixed(st.none()))),
        literal_spec(),
        enum_spec(),
    )


LAX_MODE: Literal["before"] = "before"


def _to_none(cls: Any, value: Any) -> Any:
    return None


@st.composite
def model_spec(draw: st.DrawFn, children: st.SearchStrategy[Spec]) -> Spec:
    count = draw(st.integers(1, 4))
    extra = draw(st.sampled_from(["ignore", "forbid", "allow"]))
    by_name = draw(st.booleans())
    fields: dict[str, Any] = {}
    keys: dict[str, st.SearchStrategy[Any]] = {}
    models: list[type[BaseModel]] = []
    lax_field: str | None = None
    for i in range(count):
        child = draw(children)
        models += child.models
        name = f"f{i}"
        alias = f"F-{i}" if draw(st.integers(0, 3)) == 0 else None
        required = draw(st.booleans())
        info = Field(alias=alias) if required else Field(default=None, alias=alias)
        annotation = child.annotation if required else Optional[child.annotation]  # noqa: UP045 (the annotation may be None)
        fields[name] = (annotation, info)
        keys[alias or name] = child.values
        if alias and by_name:
            keys[name] = child.values
        if lax_field is None and not required and draw(st.integers(0, 5)) == 0:
            lax_field = name
    validators = {}
    if lax_field is not None:
        # the service maps any input of this field to None before validating: the schema
        # cannot say so, the manifest marks it, and both verdicts accept anything there
        validators["lax"] = field_validator(lax_field, mode=LAX_MODE)(classmethod(_to_none))
    model = create_model(  # type: ignore[call-overload]
        _name("M"),
        __config__=ConfigDict(extra=extra, populate_by_name=by_name),
        __validators__=validators,
        **fields,
    )
    key_strategy = st.sampled_from([*keys, "zz", "f0"])

    @st.composite
    def values(draw2: st.DrawFn) -> Any:
        chosen = draw2(st.lists(key_strategy, unique=True, max_size=len(keys) + 1))
        out = {}
        for key in chosen:
            out[key] = draw2(keys.get(key, _json_noise(1)))
        return out

    return Spec(model, _mixed(values()), [*models, model])


@st.composite
def tagged_spec(draw: st.DrawFn, children: st.SearchStrategy[Spec]) -> Spec:
    a, b = draw(children), draw(children)
    cat = create_model(_name("Cat"), kind=(Literal["cat"], ...), x=(a.annotation, ...))
    dog = create_model(_name("Dog"), kind=(Literal["dog"], ...), y=(b.annotation, ...))
    annotation = Annotated[Union[cat, dog], Field(discriminator="kind")]  # noqa: UP007
    values = st.fixed_dictionaries(
        {"kind": st.sampled_from(["cat", "dog", "cow", 1])},
        optional={"x": a.values, "y": b.values},
    )
    return Spec(annotation, _mixed(values), [*a.models, *b.models, cat, dog])


def _extend(children: st.SearchStrategy[Spec]) -> st.SearchStrategy[Spec]:
    @st.composite
    def list_spec(draw: st.DrawFn) -> Spec:
        child = draw(children)
        kwargs = {}
        if draw(st.booleans()):
            kwargs = {"min_length": draw(st.integers(0, 2)), "max_length": draw(st.integers(2, 4))}
        annotation = Annotated[list[child.annotation], Field(**kwargs)]  # type: ignore[name-defined]
        return Spec(annotation, _mixed(st.lists(child.values, max_size=5)), child.models)

    @st.composite
    def tuple_spec(draw: st.DrawFn) -> Spec:
        a, b = draw(children), draw(children)
        return Spec(
            tuple[a.annotation, b.annotation],  # type: ignore[name-defined]
            _mixed(st.lists(st.one_of(a.values, b.values), max_size=3)),
            [*a.models, *b.models],
        )

    @st.composite
    def dict_spec(draw: st.DrawFn) -> Spec:
        child = draw(children)
        key = Annotated[str, Field(max_length=2)] if draw(st.booleans()) else str
        return Spec(
            dict[key, child.annotation],  # type: ignore[valid-type]
            _mixed(st.dictionaries(st.text(max_size=3), child.values, max_size=3)),
            child.models,
        )

    @st.composite
    def union_spec(draw: st.DrawFn) -> Spec:
        a, b = draw(children), draw(children)
        return Spec(
            Union[a.annotation, b.annotation],  # noqa: UP007
            st.one_of(a.values, b.values),
            [*a.models, *b.models],
        )

    return st.one_of(
        list_spec(),
        tuple_spec(),
        dict_spec(),
        union_spec(),
        model_spec(children),
        tagged_spec(children),
    )


SPECS = st.recursive(scalar_spec(), _extend, max_leaves=6)


@st.composite
def model_and_input(draw: st.DrawFn) -> tuple[type[BaseModel], Any]:
    spec = draw(model_spec(SPECS))
    return spec.annotation, draw(spec.values)


def _pydantic_accepts(model: type[BaseModel], value: Any) -> bool:
    try:
        model.model_validate(value)
    except ValidationError:
        return False
    return True


def _verdict(model: type[BaseModel], value: Any) -> tuple[dict[str, Any], Any]:
    """``model``'s manifest schema and the validator's first error for ``value`` (None:
    accepted)."""
    schema = model.model_json_schema(schema_generator=_ManifestSchema)
    return schema, SchemaValidator(schema).first_error(value)


#: The oracle tests' settings (each sets its own max_examples).
ORACLE = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.mark.slow
@settings(ORACLE, max_examples=600)
@given(model_and_input())
def test_verdict_equals_pydantic(case: tuple[type[BaseModel], Any]) -> None:
    model, value = case
    schema, failure = _verdict(model, value)
    expected = _pydantic_accepts(model, value)
    assert (failure is None) == expected, (schema, value, failure)


# -- beyond what a schema can say: never refuse what pydantic accepts ----------------------------


class PlainEnum(enum.Enum):  # no int mixin: refuses "1", which its schema cannot tell
    ONE = 1
    TWO = 2


class Echo(BaseModel):
    """A before-validator that passes the input through: the schema is a lower bound."""

    value: int

    @field_validator("value", mode="before")
    @classmethod
    def _echo(cls, value: Any) -> Any:
        return value


class Wrapped(BaseModel):
    """A model-level before-validator that wraps a bare value."""

    inner: str

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {"inner": str(value)}


WIDE = st.one_of(
    st.just(Spec(PlainEnum, st.sampled_from([1, 2, "1", " 2", 1.0, True, 3]))),
    st.just(Spec(datetime.datetime, st.sampled_from(["2024-01-01T00:00:00", 1_700_000_000, "x"]))),
    st.just(Spec(set[int], st.lists(st.sampled_from([1, 1, 2, "3"]), max_size=4))),
    st.just(Spec(Annotated[set[int], Field(max_length=2)], st.lists(st.sampled_from([1, 1, 2])))),
    st.just(Spec(decimal.Decimal, SCALARS)),
    st.just(Spec(uuid.UUID, st.sampled_from([str(uuid.UUID(int=7)), "nope", 5]))),
    st.just(Spec(bytes, SCALARS)),
    st.just(Spec(Echo, st.fixed_dictionaries({"value": SCALARS}))),
    st.just(Spec(Wrapped, st.one_of(SCALARS, st.fixed_dictionaries({"inner": SCALARS})))),
    scalar_spec(),
)


@st.composite
def wide_model_and_input(draw: st.DrawFn) -> tuple[type[BaseModel], Any]:
    spec = draw(model_spec(st.recursive(WIDE, _extend, max_leaves=4)))
    return spec.annotation, draw(spec.values)


@pytest.mark.slow
@settings(ORACLE, max_examples=400)
@given(wide_model_and_input())
def test_never_refuses_what_pydantic_accepts(case: tuple[type[BaseModel], Any]) -> None:
    model, value = case
    schema, failure = _verdict(model, value)
    if _pydantic_accepts(model, value):
        assert failure is None, (schema, value, failure)


@pytest.mark.parametrize(
    ("model", "value", "accepted"),
    [
        (create_model("A", n=(PlainEnum, ...)), {"n": "1"}, True),  # IntEnum would take it
        (create_model("B", d=(datetime.datetime, ...)), {"d": 1_700_000_000}, True),
        (create_model("C", s=(set[int], ...)), {"s": [1, 1]}, True),
        (create_model("D", e=(Echo, ...)), {"e": {"value": "x"}}, True),
        (create_model("E", w=(Wrapped, ...)), {"w": 5}, True),
        (create_model("F", n=(int, ...)), {"n": "x"}, False),
    ],
)
def test_documented_lenient_cases(model: type[BaseModel], value: Any, accepted: bool) -> None:
    assert (_verdict(model, value)[1] is None) is accepted
