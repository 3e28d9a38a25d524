"""A manifest's schemas as Python classes and types: fills :mod:`ogpu.taskclient.model`.

Every decision lives here (names, annotations, constraints, defaults).
Deterministic: functions in name order, input before output, ``$defs`` and
fields in name order (a manifest's key order is not significant: its hash sorts
keys); equal definitions shared by name and content.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ogpu.manifest import SourceManifest
from ogpu.manifest.schema import LAX_KEY
from ogpu.taskclient.model import (
    AliasModel,
    ClassModel,
    ClientModel,
    FieldModel,
    FunctionModel,
)

__all__ = ["build_client_model", "pascal"]

_RESERVED = frozenset(
    {
        "Annotated", "Any", "BaseModel", "ConfigDict", "Field", "Literal", "Signer", "Task",
        "TypeAlias", "MANIFEST_HASH", "SOURCE", "publish", "result",
    }
)  # fmt: skip
_MODEL_ATTRIBUTES = frozenset(dir(object)) | {
    "copy", "construct", "dict", "fields", "from_orm", "json", "parse_file", "parse_obj",
    "parse_raw", "schema", "schema_json", "update_forward_refs", "validate",
}  # fmt: skip
_BOUNDS = (
    ("minLength", "min_length"),
    ("maxLength", "max_length"),
    ("minItems", "min_length"),
    ("maxItems", "max_length"),
    ("minProperties", "min_length"),
    ("maxProperties", "max_length"),
    ("minimum", "ge"),
    ("maximum", "le"),
    ("exclusiveMinimum", "gt"),
    ("exclusiveMaximum", "lt"),
    ("multipleOf", "multiple_of"),
)
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def pascal(text: str) -> str:
    """``predict_batch`` -> ``PredictBatch``; a valid identifier, never empty."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Model"
    return name if name[0].isalpha() else "M" + name


def _identifier(key: str, taken: set[str]) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", key).lstrip("_") or "field"
    if name[0].isdigit():
        name = "f_" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _MODEL_ATTRIBUTES:
        name += "_"
    if name.startswith("model_"):
        name = "field_" + name
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _literal(value: object) -> str:
    """A JSON value as a Python literal (deterministic)."""
    return repr(json.loads(json.dumps(value)))


@dataclass
class _Names:
    """Class and alias names, unique across the module; one per (name, content)."""

    taken: set[str] = field(default_factory=lambda: set(_RESERVED))
    by_content: dict[str, str] = field(default_factory=dict)

    def claim(self, wanted: str, content: str | None = None) -> tuple[str, bool]:
        """(name, new): the name already given to ``content``, or a fresh one."""
        if content is not None and content in self.by_content:
            return self.by_content[content], False
        name, n = wanted, 2
        while name in self.taken:
            name, n = f"{wanted}{n}", n + 1
        self.taken.add(name)
        if content is not None:
            self.by_content[content] = name
        return name, True


class _Builder:
    """Turns one root schema (with its ``$defs``) into classes, aliases and annotations."""

    def __init__(self, root: Mapping[str, Any], names: _Names, out: _Output) -> None:
        self.root = root
        self.defs: Mapping[str, Any] = root.get("$defs", {}) if isinstance(root, Mapping) else {}
        self.names = names
        self.out = out
        self.def_names: dict[str, str] = {}

    # -- definitions ---------------------------------------------------------------------------

    def _content(self, schema: object, seen: frozenset[str] = frozenset()) -> str:
        """Canonical text of a schema with its ``$ref``s expanded (cycles by name)."""

        def expand(node: object, seen: frozenset[str]) -> object:
            if isinstance(node, Mapping):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/$defs/"):
                    target = ref.removeprefix("#/$defs/")
                    if target in seen or target not in self.defs:
                        return {"$cycle": target}
                    return expand(self.defs[target], seen | {target})
                return {k: expand(v, seen) for k, v in node.items() if k != "$defs"}
            if isinstance(node, list):
                return [expand(v, seen) for v in node]
            return node

        return json.dumps(expand(schema, seen), sort_keys=True)

    def ref(self, ref: str) -> str:
        target = ref.removeprefix("#/$defs/")
        if not ref.startswith("#/$defs/") or target not in self.defs:
            return "Any"
        if target in self.def_names:
            return self.def_names[target]
        schema = self.defs[target]
        content = self._content(schema, frozenset({target}))
        name, new = self.names.claim(pascal(target), content)
        self.def_names[target] = name
        if new:
            self.define(name, schema)
        return name

    def define(self, name: str, schema: object) -> None:
        """Emit ``name`` as a class (objects with properties) or a type alias."""
        if _is_object(schema):
            assert isinstance(schema, Mapping)
            self.out.classes.append(self.object_class(name, schema))
        else:
            self.out.aliases.append(AliasModel(name, self.annotation(schema, name)))

    # -- classes -------------------------------------------------------------------------------

    def object_class(
        self, name: str, schema: Mapping[str, Any], role: str = "A JSON object"
    ) -> ClassModel:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        taken: set[str] = set()
        fields = []
        # name order: a manifest's key order is not significant (its hash sorts keys)
        for key in sorted(properties):
            sub = properties[key]
            hint = name + pascal(key)
            annotation, constraints = self.field_type(sub, hint)
            is_required = key in required
            default = "None"
            if not is_required:
                if isinstance(sub, Mapping) and "default" in sub:
                    default = _literal(sub["default"])
                elif "None" not in annotation.split(" | ") and annotation != "Any":
                    annotation += " | None"
            description = sub.get("description", "") if isinstance(sub, Mapping) else ""
            fields.append(
                FieldModel(
                    name=_identifier(str(key), taken),
                    key=str(key),
                    annotation=annotation,
                    required=is_required,
                    default=default,
                    constraints=constraints,
                    description=str(description),
                )
            )
        extra = schema.get("additionalProperties", True)
        policy = "forbid" if extra is False else ("ignore" if extra is True else "allow")
        title = schema.get("title")
        doc = str(
            schema.get("description")
            or (f"{role}: the service's {title}." if title else f"{role}.")
        )
        return ClassModel(
            name=name,
            doc=doc,
            fields=tuple(fields),
            extra=policy,
            by_name=any(f.name != f.key for f in fields),
        )

    def field_type(self, schema: object, hint: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """(annotation, Field constraints) of a property: its own bounds go to ``Field``."""
        if isinstance(schema, Mapping) and "anyOf" not in schema and "$ref" not in schema:
            return self.annotation(schema, hint, bounds=False), _constraints(schema)
        return self.annotation(schema, hint), ()

    # -- annotations ---------------------------------------------------------------------------

    def annotation(self, schema: object, hint: str, *, bounds: bool = True) -> str:
        """The Python type of ``schema``; with ``bounds``, constraints as ``Annotated``."""
        if not isinstance(schema, Mapping) or schema.get(LAX_KEY) or "format" in schema:
            return "str" if _plain_string_format(schema) else "Any"
        if "$ref" in schema:
            return self.ref(str(schema["$ref"]))
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return _union(self.annotation(s, f"{hint}{i}") for i, s in enumerate(schema[key]))
        if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            return self.annotation(schema["allOf"][0], hint)
        if "const" in schema:
            return f"Literal[{_literal(schema['const'])}]"
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return "Literal[" + ", ".join(_literal(v) for v in schema["enum"]) + "]"
        base = self._typed(schema, hint)
        extra = _constraints(schema) if bounds else ()
        if extra and base not in ("Any", "None"):
            return f"Annotated[{base}, Field({', '.join(f'{k}={v}' for k, v in extra)})]"
        return base

    def _typed(self, schema: Mapping[str, Any], hint: str) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union(self._typed({**schema, "type": k}, hint) for k in kind)
        if kind in _SCALARS:
            return _SCALARS[str(kind)]
        if kind == "array":
            prefix = schema.get("prefixItems")
            if isinstance(prefix, list) and prefix and schema.get("maxItems") == len(prefix):
                parts = ", ".join(self.annotation(s, f"{hint}{i}") for i, s in enumerate(prefix))
                return f"tuple[{parts}]"
            items = schema.get("items")
            return f"list[{self.annotation(items, hint + 'Item') if items else 'Any'}]"
        if kind == "object" or "properties" in schema:
            if _is_object(schema):
                name, _ = self.names.claim(hint)
                self.out.classes.append(self.object_class(name, schema))
                return name
            values = schema.get("additionalProperties")
            inner = (
                self.annotation(values, hint + "Value") if isinstance(values, Mapping) else "Any"
            )
            return f"dict[str, {inner}]"
        return "Any"


@dataclass
class _Output:
    classes: list[ClassModel] = field(default_factory=list)
    aliases: list[AliasModel] = field(default_factory=list)


def _is_object(schema: object) -> bool:
    return (
        isinstance(schema, Mapping)
        and not schema.get(LAX_KEY)
        and isinstance(schema.get("properties"), Mapping)
        and bool(schema["properties"])
        and schema.get("type", "object") == "object"
    )


def _plain_string_format(schema: object) -> bool:
    # a formatted string still is a str for the client (dates are sent as ISO text)
    return (
        isinstance(schema, Mapping)
        and not schema.get(LAX_KEY)
        and schema.get("type") == "string"
        and "format" in schema
    )


def _union(parts: Any) -> str:
    unique = list(dict.fromkeys(parts))
    if "Any" in unique:
        return "Any"
    unique.sort(key=lambda p: p == "None")  # None last, order otherwise kept
    return " | ".join(unique)


def _pattern_ok(pattern: object) -> bool:
    """Whether pydantic (the generated model's validator) can compile ``pattern``."""
    if not isinstance(pattern, str):
        return False
    from typing import Annotated

    from pydantic import Field, TypeAdapter

    try:
        TypeAdapter(Annotated[str, Field(pattern=pattern)])
    except Exception:
        return False
    return True


def _constraints(schema: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found = []
    for key, name in _BOUNDS:
        value = schema.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((name, _literal(value)))
    if "pattern" in schema and _pattern_ok(schema["pattern"]):
        found.append(("pattern", repr(schema["pattern"])))
    return tuple(found)


def _root_class(builder: _Builder, name: str, schema: object, role: str) -> str:
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str) and builder.ref(ref) != "Any":  # e.g. a recursive model
        builder.out.aliases.append(AliasModel(name, builder.ref(ref), late=True))
        return name
    if _is_object(schema):
        assert isinstance(schema, Mapping)
        builder.out.classes.append(builder.object_class(name, schema, role))
    else:  # anything the service takes (or returns): an open model
        builder.out.classes.append(
            ClassModel(name, f"{role}: any JSON object.", (), "allow", False)
        )
    return name


def build_client_model(
    manifest: SourceManifest, *, source: str | None = None, origin: str = ""
) -> ClientModel:
    """The client model of ``manifest`` (for ``source`` when known). No I/O."""
    names = _Names()
    out = _Output()
    ordered = sorted(manifest.functions)
    # the per-function class names are the client's API: claimed before any definition's
    roots = {
        (fn, side): names.claim(pascal(fn) + side)[0]
        for fn in ordered
        for side in ("Input", "Output")
    }
    functions = []
    for fn_name in ordered:
        spec = manifest.functions[fn_name]
        sides = []
        for schema, side in ((spec.input_schema, "Input"), (spec.output_schema, "Output")):
            builder = _Builder(schema, names, out)
            for def_name in sorted(builder.defs):
                builder.ref(f"#/$defs/{def_name}")
            role = f"{'Input' if side == 'Input' else 'Output'} of ``{fn_name}``"
            sides.append(_root_class(builder, roots[fn_name, side], schema, role))
        functions.append(
            FunctionModel(fn_name, sides[0], sides[1], spec.description.strip(), spec.timeout)
        )
    return ClientModel(
        source=source,
        manifest_hash=manifest.hash,
        framework=manifest.framework,
        framework_version=manifest.framework_version,
        origin=origin,
        aliases=tuple(out.aliases),
        classes=tuple(out.classes),
        functions=tuple(functions),
    )
