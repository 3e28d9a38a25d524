"""Validate JSON data against the JSON Schema subset pydantic emits, with pydantic's verdict.

A source's handler validates its input with pydantic (lax mode) inside the
service; a client has only the handler's JSON Schema. :class:`SchemaValidator`
walks that schema (``type``, ``properties``, ``required``, ``additionalProperties``,
``propertyNames``, ``min/maxProperties``, ``items``, ``prefixItems``,
``min/maxItems``, ``enum``, ``const``, ``anyOf``, ``oneOf`` with a
``discriminator``, ``allOf``, ``$ref`` into ``$defs``) and hands each scalar
(string, integer, number, boolean) with its constraints (lengths, ``pattern``,
``minimum``/``maximum``, exclusive bounds, ``multipleOf``) to a pydantic
``TypeAdapter``: the coercions pydantic's lax mode allows (``"3"`` for an
integer, ``1`` for a boolean...), its regex engine (linear time, so a
stranger's pattern cannot hang the client) and its messages are exactly the
service's.

The rule where the schema cannot say what pydantic does: never refuse what the
service would accept. So a subschema marked ``"x-ogpu-lax": true`` (the service
transforms that value before validating it), a ``format`` (dates accept
numbers), ``uniqueItems`` (a set accepts duplicates), an external or unresolvable
``$ref``, a pattern pydantic cannot compile, or an unknown construct accepts any
value; and an enum reached through ``$ref`` (an ``Enum`` class; an ``IntEnum``
accepts ``"1"``) accepts numeric strings for its numeric members. Object schemas
may carry ``"x-ogpu-names": {alias: field name}`` (a model that also validates by
field name); either key then satisfies the property.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, NamedTuple

from ogpu._jsonvalue import JsonPath
from ogpu.errors import shown

__all__ = ["LAX_KEY", "NAMES_KEY", "Failure", "SchemaValidator"]

LAX_KEY = "x-ogpu-lax"
NAMES_KEY = "x-ogpu-names"
_MAX_REF_HOPS = 64  # $refs followed without descending into the data: a cycle
# subschemas visited for one value: unions over deep data could take exponential time,
# and the schema is a stranger's; past this, the check gives up (and accepts)
_MAX_STEPS = 100_000
_NUMERIC_BOUNDS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
}
_STRING_BOUNDS = {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"}


class Failure(NamedTuple):
    """Where the data breaks the schema (``path`` inside the data) and what it should be."""

    path: JsonPath
    reason: str


class _Unsupported(Exception):
    """The schema uses something this validator does not model: accept the value."""


@functools.lru_cache(maxsize=1024)
def _scalar_adapter(kind: str, constraints: tuple[tuple[str, Any], ...]) -> Any:
    from pydantic import Field, TypeAdapter

    base: Any = {"string": str, "integer": int, "number": float, "boolean": bool}[kind]
    if constraints:
        base = Annotated[base, Field(**dict(constraints))]
    try:
        return TypeAdapter(base)
    except Exception as exc:  # e.g. a pattern the regex engine cannot compile
        raise _Unsupported(str(exc)) from None


def _scalar_reason(kind: str, schema: Mapping[str, Any], value: object) -> str | None:
    from pydantic import ValidationError

    table = _STRING_BOUNDS if kind == "string" else _NUMERIC_BOUNDS
    constraints = tuple(sorted((table[k], schema[k]) for k in table if k in schema))
    if kind == "boolean":
        constraints = ()
    try:
        _scalar_adapter(kind, constraints).validate_python(value)
    except ValidationError as exc:
        message = str(exc.errors()[0].get("msg", "invalid value"))
        return f"{message} (got {shown(value)})"
    except TypeError:  # unhashable constraint values: a schema pydantic never emits
        raise _Unsupported("unhashable constraint") from None
    return None


def _same_member(value: object, member: object) -> bool:
    """pydantic's Literal/Enum membership: strings by equality with strings only, None by
    identity, other values by ``==`` (so ``1``, ``1.0`` and ``True`` are one member)."""
    if isinstance(member, str) or isinstance(value, str):
        return isinstance(member, str) and isinstance(value, str) and member == value
    if member is None or value is None:
        return member is None and value is None
    if isinstance(member, (list, dict)) or isinstance(value, (list, dict, tuple)):
        return False
    try:
        return bool(member == value)
    except Exception:
        return False


class SchemaValidator:
    """Checks JSON values against one root schema (with its ``$defs``). No I/O.

    Build once per schema; :meth:`first_error` is thread-safe.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._root = schema
        self._local = threading.local()

    def first_error(self, value: object) -> Failure | None:
        """The first place where ``value`` breaks the schema, or ``None`` when pydantic
        would accept it (or when the schema is beyond this validator, or checking it
        would take more than ``_MAX_STEPS`` steps). No I/O."""
        self._local.steps = 0
        try:
            return self._check(self._root, value, (), 0, via_ref=False)
        except (_Unsupported, RecursionError):
            return None

    # -- dispatch ------------------------------------------------------------------------------

    def _check(
        self, schema: object, value: object, path: JsonPath, hops: int, *, via_ref: bool
    ) -> Failure | None:
        self._local.steps += 1
        if self._local.steps > _MAX_STEPS:
            raise _Unsupported("too much work")
        if schema is True:
            return None
        if schema is False:
            return Failure(path, "no value is allowed here")
        if not isinstance(schema, Mapping):
            raise _Unsupported("a schema is not an object")
        if schema.get(LAX_KEY) is True or "format" in schema or "not" in schema:
            return None
        if "$ref" in schema:
            if hops >= _MAX_REF_HOPS:
                raise _Unsupported("$ref cycle")
            target = self._resolve(schema["$ref"])
            found = self._check(target, value, path, hops + 1, via_ref=True)
            if found is not None:
                return found
        for keyword, check in self._COMBINATORS:
            if keyword in schema:
                found = check(self, schema, value, path, hops)
                if found is not None:
                    return found
        if "enum" in schema or "const" in schema:
            return self._membership(schema, value, path, via_ref=via_ref)
        return self._typed(schema, value, path)

    def _resolve(self, ref: object) -> object:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise _Unsupported(f"external $ref {ref!r}")
        node: object = self._root
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise _Unsupported(f"unresolvable $ref {ref!r}")
        return node

    # -- combinators ---------------------------------------------------------------------------

    def _all_of(
        self, schema: Mapping[str, Any], value: object, path: JsonPath, hops: int
    ) -> Failure | None:
        for branch in self._branches(schema, "allOf"):
            found = self._check(branch, value, path, hops + 1, via_ref=False)
            if found is not None:
                return found
        return None

    def _any_of(
        self, schema: Mapping[str, Any], value: object, path: JsonPath, hops: int
    ) -> Failure | None:
        failures: list[Failure] = []
        for branch in self._branches(schema, "anyOf"):
            found = self._check(branch, value, path, hops + 1, via_ref=False)
            if found is None:
                return None
            failures.append(found)
        return self._best(failures, path)

    def _one_of(
        self, schema: Mapping[str, Any], value: object, path: JsonPath, hops: int
    ) -> Failure | None:
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, Mapping) and isinstance(discriminator.get("mapping"), Mapping):
            return self._tagged(discriminator, value, path, hops)
        # pydantic emits oneOf only for tagged unions; otherwise be as lenient as anyOf
        return self._any_of({"anyOf": self._branches(schema, "oneOf")}, value, path, hops)

    def _tagged(
        self, discriminator: Mapping[str, Any], value: object, path: JsonPath, hops: int
    ) -> Failure | None:
        name = discriminator.get("propertyName")
        mapping: Mapping[str, Any] = discriminator["mapping"]
        if not isinstance(name, str):
            raise _Unsupported("discriminator without propertyName")
        if not isinstance(value, Mapping):
            return Failure(path, f"Input should be a valid dictionary (got {shown(value)})")
        if name not in value:
            return Failure(path, f"Unable to extract tag using discriminator {name!r}")
        tag = value[name]
        key = tag if isinstance(tag, str) else _json_scalar_text(tag)
        if key is None or key not in mapping:
            expected = ", ".join(repr(k) for k in mapping)
            return Failure(
                (*path, name),
                f"Input tag {shown(tag)} found using {name!r} does not match any of the "
                f"expected tags: {expected}",
            )
        return self._check({"$ref": mapping[key]}, value, path, hops + 1, via_ref=False)

    def _branches(self, schema: Mapping[str, Any], keyword: str) -> Sequence[Any]:
        branches = schema[keyword]
        if not isinstance(branches, list) or not branches:
            raise _Unsupported(f"{keyword} is not a non-empty list")
        return branches

    @staticmethod
    def _best(failures: list[Failure], path: JsonPath) -> Failure:
        if len(failures) == 1:
            return failures[0]
        deepest = max(failures, key=lambda f: len(f.path))
        if len(deepest.path) > len(path):
            return deepest  # the value has the shape of that branch and fails inside it
        reasons = list(dict.fromkeys(f.reason for f in failures))
        return Failure(path, "matches none of the allowed forms: " + "; ".join(reasons[:4]))

    _COMBINATORS: tuple[tuple[str, Callable[..., Failure | None]], ...] = (
        ("allOf", _all_of),
        ("anyOf", _any_of),
        ("oneOf", _one_of),
    )

    # -- leaves --------------------------------------------------------------------------------

    def _membership(
        self, schema: Mapping[str, Any], value: object, path: JsonPath, *, via_ref: bool
    ) -> Failure | None:
        members = schema["enum"] if "enum" in schema else [schema["const"]]
        if not isinstance(members, list):
            raise _Unsupported("enum is not a list")
        if any(_same_member(value, m) for m in members):
            return None
        if via_ref and isinstance(value, str) and schema.get("type") in ("integer", "number"):
            # an Enum class: IntEnum and float-mixin enums also take numeric strings
            kind = str(schema["type"])
            if _scalar_reason(kind, {}, value) is None:
                number = _scalar_adapter(kind, ()).validate_python(value)
                if any(_same_member(number, m) for m in members):
                    return None
        expected = ", ".join(shown(m) for m in members[:10])
        return Failure(path, f"Input should be {expected} (got {shown(value)})")

    def _typed(self, schema: Mapping[str, Any], value: object, path: JsonPath) -> Failure | None:
        kinds = schema.get("type")
        if kinds is None:
            if isinstance(value, Mapping) and ("properties" in schema or "required" in schema):
                return self._object(schema, value, path)
            return None
        options = [kinds] if isinstance(kinds, str) else kinds
        if not isinstance(options, list) or not options:
            raise _Unsupported("type is neither a string nor a list")
        failures = []
        for kind in options:
            found = self._one_type(str(kind), schema, value, path)
            if found is None:
                return None
            failures.append(found)
        return self._best(failures, path)

    def _one_type(
        self, kind: str, schema: Mapping[str, Any], value: object, path: JsonPath
    ) -> Failure | None:
        if kind == "object":
            if not isinstance(value, Mapping):
                return Failure(path, f"Input should be a valid dictionary (got {shown(value)})")
            return self._object(schema, value, path)
        if kind == "array":
            if not isinstance(value, (list, tuple)):
                return Failure(path, f"Input should be a valid list (got {shown(value)})")
            return self._array(schema, value, path)
        if kind == "null":
            return (
                None
                if value is None
                else Failure(path, f"Input should be None (got {shown(value)})")
            )
        if kind in ("string", "integer", "number", "boolean"):
            if isinstance(value, (Mapping, list, tuple)) or value is None:
                return Failure(path, f"Input should be a valid {kind} (got {shown(value)})")
            reason = _scalar_reason(kind, schema, value)
            return None if reason is None else Failure(path, reason)
        raise _Unsupported(f"unknown type {kind!r}")

    # -- containers ----------------------------------------------------------------------------

    def _object(
        self, schema: Mapping[str, Any], value: Mapping[Any, Any], path: JsonPath
    ) -> Failure | None:
        properties = schema.get("properties", {})
        names = schema.get(NAMES_KEY, {})
        if not isinstance(properties, Mapping) or not isinstance(names, Mapping):
            raise _Unsupported("properties is not an object")
        counted = _count_problem(schema, "Properties", "Dictionary", len(value))
        if counted is not None:
            return Failure(path, counted)
        for name in schema.get("required", []):
            if name not in value and names.get(name) not in value:
                return Failure((*path, str(name)), "Field required")
        # a field name counts only when its alias is absent (pydantic reads the alias first)
        by_name = {n: a for a, n in names.items() if isinstance(n, str) and a not in value}
        extra = schema.get("additionalProperties", True)
        key_schema = schema.get("propertyNames")
        for key, item in value.items():
            here = (*path, str(key))
            if isinstance(key_schema, Mapping):
                # keys are strings: a bare {"maxLength": 3} constrains a string
                as_string = (
                    {"type": "string", **key_schema} if "type" not in key_schema else key_schema
                )
                found = self._check(as_string, key, here, 0, via_ref=False)
                if found is not None:
                    return Failure(here, f"invalid key: {found.reason}")
            if key in properties:
                child = properties[key]
            elif key in by_name and by_name[key] in properties:
                child = properties[by_name[key]]
            elif extra is False:
                return Failure(here, "Extra inputs are not permitted")
            else:
                child = extra
            found = self._check(child, item, here, 0, via_ref=False)
            if found is not None:
                return found
        return None

    def _array(
        self, schema: Mapping[str, Any], value: Sequence[Any], path: JsonPath
    ) -> Failure | None:
        counted = _count_problem(schema, "Items", "List", len(value))
        if counted is not None:
            return Failure(path, counted)
        prefix = schema.get("prefixItems", [])
        if not isinstance(prefix, list):
            raise _Unsupported("prefixItems is not a list")
        rest = schema.get("items", True)
        for index, item in enumerate(value):
            child = prefix[index] if index < len(prefix) else rest
            found = self._check(child, item, (*path, index), 0, via_ref=False)
            if found is not None:
                return found
        return None


def _count_problem(schema: Mapping[str, Any], suffix: str, what: str, size: int) -> str | None:
    """``minItems``/``maxItems`` (``suffix`` "Items") or ``min/maxProperties``, worded as
    pydantic words them."""
    low, high = schema.get("min" + suffix), schema.get("max" + suffix)
    for bound, text, broken in (
        (low, "at least", isinstance(low, int) and size < low),
        (high, "at most", isinstance(high, int) and size > high),
    ):
        if broken:
            noun = "item" if bound == 1 else "items"
            return f"{what} should have {text} {bound} {noun} after validation, not {size}"
    return None


def _json_scalar_text(value: object) -> str | None:
    """How a non-string tag appears as a key of a discriminator mapping (``1`` -> ``"1"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return None
