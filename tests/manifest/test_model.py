"""The manifest document: parsing, refusal of malformed documents, hash, suggestions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ogpu.manifest import (
    MANIFEST_VERSION,
    METADATA_KEY,
    InvalidManifestError,
    SourceManifest,
    TaskDataError,
    UnknownFunctionError,
    manifest_from_metadata,
)
from ogpu.types import InvalidParamsError

SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 1}},
    "required": ["text"],
}


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "manifest_version": 1,
        "framework": "ogpu.service",
        "framework_version": "0.3.0",
        "functions": {
            "predict": {"input_schema": SCHEMA, "output_schema": {}, "timeout": 30},
            "predict_batch": {"input_schema": {}, "output_schema": {}},
            "summarize": {"input_schema": {}, "output_schema": {}},
        },
    }
    doc.update(changes)
    return doc


def test_round_trip_keeps_unknown_keys_and_hash_is_canonical() -> None:
    doc = _doc(future_field={"x": 1})
    doc["functions"]["predict"]["examples"] = [1]
    manifest = SourceManifest.parse(doc)
    assert manifest.to_dict()["future_field"] == {"x": 1}
    assert manifest.to_dict()["functions"]["predict"]["examples"] == [1]
    again = SourceManifest.parse(json.dumps(doc, indent=4, sort_keys=False))
    assert again.hash == manifest.hash and again.hash.startswith("sha256:")
    assert SourceManifest.parse(manifest.to_json()) == manifest
    assert SourceManifest.parse(manifest.to_json().encode()) == manifest
    changed = _doc()
    changed["functions"]["predict"]["timeout"] = 31
    assert SourceManifest.parse(changed).hash != manifest.hash


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[" * 600 + "]" * 600, "nested deeper"),
        ([1, 2], "a JSON object"),
        (_doc(manifest_version=MANIFEST_VERSION + 1), "upgrade ogpu"),
        (_doc(manifest_version=0), "not supported"),
        (_doc(functions=5), "functions"),
        (_doc(functions={"../../health": {"input_schema": {}, "output_schema": {}}}), "handler"),
        (_doc(functions={"x" * 200: {"input_schema": {}, "output_schema": {}}}), "longer"),
        (_doc(functions={"f": {"input_schema": [], "output_schema": {}}}), "input_schema"),
        (_doc(functions={"f": {"output_schema": {}}}), "input_schema"),
        (_doc(framework_version=None), "framework_version"),
        (_doc(extra=float("nan")), "NaN"),
    ],
)
def test_malformed_documents_are_refused(document: Any, fragment: str) -> None:
    with pytest.raises(InvalidManifestError, match=fragment):
        SourceManifest.parse(document)


def test_metadata_key() -> None:
    assert METADATA_KEY == "ogpuManifest"
    assert manifest_from_metadata({"name": "x"}) is None
    assert manifest_from_metadata({METADATA_KEY: _doc()}) == SourceManifest.parse(_doc())
    with pytest.raises(InvalidManifestError):
        manifest_from_metadata({METADATA_KEY: "garbage"})


@pytest.mark.parametrize(
    ("asked", "suggestion"),
    [
        ("predcit", "predict"),
        ("PREDICT", "predict"),
        ("predict_bach", "predict_batch"),
        ("summarise", "summarize"),
        ("Summarize", "summarize"),
        ("translate", None),
        ("x", None),
    ],
)
def test_unknown_function_suggests_the_closest(asked: str, suggestion: str | None) -> None:
    manifest = SourceManifest.parse(_doc())
    with pytest.raises(UnknownFunctionError) as caught:
        manifest.check_task(asked, {}, source="0xabc")
    error = caught.value
    assert isinstance(error, InvalidParamsError) and error.param == "function_name"
    assert error.suggestion == suggestion and error.function == asked
    assert ("did you mean" in str(error)) is (suggestion is not None)
    assert "predict, predict_batch, summarize" in str(error)


def test_task_data_error_carries_the_path() -> None:
    manifest = SourceManifest.parse(_doc())
    manifest.check_task("predict", {"text": "ok"})
    with pytest.raises(TaskDataError) as caught:
        manifest.check_task("predict", {"text": ""}, source="0xabc")
    error = caught.value
    assert (error.path, error.location, error.param) == (("text",), "data.text", "data")
    assert "String should have at least 1 character" in error.reason
    assert "of source 0xabc" in str(error)


@pytest.mark.slow
def test_a_hostile_schema_cannot_hang_the_check() -> None:
    """Two-way unions at every level of deep data: 2**40 paths, cut by the step budget."""
    import time

    from ogpu.manifest import SchemaValidator

    branch = {"type": "array", "items": {"$ref": "#/$defs/T"}}
    schema = {"$defs": {"T": {"anyOf": [branch, {**branch, "maxItems": 5}]}}, "$ref": "#/$defs/T"}
    data: list[object] = []
    for _ in range(40):
        data = [data, 1]  # the trailing 1 fails both branches at every level
    started = time.monotonic()
    assert SchemaValidator(schema).first_error(data) is None  # gave up: accepted
    assert time.monotonic() - started < 5
    cycle = {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}
    assert SchemaValidator(cycle).first_error({"x": 1}) is None
