"""The service's manifest: derived from handlers, served at ``GET /manifest``, extracted from
a source file without serving it; and the shared routing rule at registration and routing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import ogpu.service
from ogpu import __version__
from ogpu.manifest import SourceManifest
from ogpu.manifest.schema import LAX_KEY, NAMES_KEY
from ogpu.service import HandlerSignatureError, Service
from ogpu.service.manifest import (
    ManifestExtractionError,
    build_manifest,
    extract_manifest,
    is_extracting,
    manifest_extraction,
)

ROOT = Path(__file__).resolve().parents[2]


class Text(BaseModel):
    text: str = Field(min_length=1)


class Label(BaseModel):
    label: str


def _service() -> Service:
    service = Service()

    @service.expose(timeout=5)
    def classify(data: Text) -> Label:
        """Label one text.

        More words."""
        return Label(label=data.text)

    @service.expose()
    async def shout(data: Text) -> Text:
        return Text(text=data.text.upper())

    return service


def test_manifest_describes_every_handler() -> None:
    manifest = _service().manifest()
    assert manifest.manifest_version == 1
    assert (manifest.framework, manifest.framework_version) == ("ogpu.service", __version__)
    assert sorted(manifest.functions) == ["classify", "shout"]
    classify = manifest.functions["classify"]
    assert classify.input_schema == Text.model_json_schema()
    assert classify.output_schema == Label.model_json_schema(mode="serialization")
    assert (classify.timeout, manifest.functions["shout"].timeout) == (5.0, None)
    assert classify.description == "Label one text.\n\nMore words."
    assert build_manifest(_service().handlers) == manifest


def test_get_manifest_is_served(serve: Any) -> None:
    service = _service()
    with serve(service) as running:
        running.wait_ready()
        answer = requests.get(running.url("/manifest"), timeout=10)
        openapi = requests.get(running.url("/openapi.json"), timeout=10).json()
    assert answer.status_code == 200
    assert SourceManifest.parse(answer.json()) == service.manifest()
    assert "/manifest" in openapi["paths"]


class Loose(BaseModel):
    """Models whose input a schema cannot describe are marked for the client-side check."""

    model_config = ConfigDict(populate_by_name=True)
    count: int = Field(alias="Count")
    tags: list[str] = []

    @field_validator("tags", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value


class Wrapping(BaseModel):
    inner: int

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {"inner": value}


class Opaque:
    pass


class Arbitrary(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque


def test_schemas_mark_what_a_client_cannot_check() -> None:
    service = Service()

    @service.expose()
    def loose(data: Loose) -> Label:
        return Label(label="")

    @service.expose()
    def wrapping(data: Wrapping) -> Label:
        return Label(label="")

    @service.expose()
    def arbitrary(data: Arbitrary) -> Label:
        return Label(label="")

    manifest = service.manifest()
    loose_schema = manifest.functions["loose"].input_schema
    assert loose_schema[NAMES_KEY] == {"Count": "count"}
    assert loose_schema["properties"]["tags"][LAX_KEY] is True
    assert LAX_KEY not in loose_schema["properties"]["Count"]
    assert manifest.functions["wrapping"].input_schema[LAX_KEY] is True
    assert manifest.functions["arbitrary"].input_schema["properties"]["thing"][LAX_KEY] is True
    # the check then accepts what the service accepts
    manifest.check_task("loose", {"count": 1, "tags": "a,b"})
    manifest.check_task("wrapping", 5)
    manifest.check_task("arbitrary", {"thing": object()})


# -- extraction from a source file ---------------------------------------------------------------


def test_extract_the_sample_source_without_touching_the_default_service() -> None:
    ogpu.service.reset()

    @ogpu.service.expose()
    def mine(data: Text) -> Text:
        return data

    manifest = extract_manifest(ROOT / "examples" / "sentiment_source.py")
    assert sorted(manifest.functions) == ["predict", "predict_batch"]
    assert sorted(ogpu.service.get_default_service().handlers) == ["mine"]
    assert not is_extracting()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "source.py"
    path.write_text(
        "from pydantic import BaseModel\nimport ogpu.service\nfrom ogpu.service import Service\n"
        "class In(BaseModel):\n    n: int\n"
        "class Out(BaseModel):\n    n: int\n" + body
    )
    return path


@pytest.mark.parametrize(
    ("body", "functions"),
    [
        (  # a custom Service started at module level
            "svc = Service()\n@svc.expose()\ndef one(data: In) -> Out:\n    return Out(n=1)\n"
            "svc.start()\nraise SystemExit('after start')\n",
            ["one"],
        ),
        (  # a custom Service behind the __main__ guard: found among the globals
            "svc = Service()\n@svc.expose()\ndef two(data: In) -> Out:\n    return Out(n=2)\n"
            "if __name__ == '__main__':\n    svc.start()\n",
            ["two"],
        ),
        (  # start() inside user code that catches Exception
            "@ogpu.service.expose()\ndef three(data: In) -> Out:\n    return Out(n=3)\n"
            "try:\n    ogpu.service.start()\nexcept Exception:\n    raise SystemExit('caught')\n",
            ["three"],
        ),
        (  # a local import next to the file
            "from helper import VALUE\n@ogpu.service.expose()\ndef four(data: In) -> Out:\n"
            "    return Out(n=VALUE)\nogpu.service.start()\n",
            ["four"],
        ),
    ],
)
def test_extract_source_files(tmp_path: Path, body: str, functions: list[str]) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 4\n")
    manifest = extract_manifest(_write(tmp_path, body))
    assert sorted(manifest.functions) == functions
    assert str(tmp_path) not in __import__("sys").path


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("raise RuntimeError('broken import')\n", "broken import"),
        ("import sys\nsys.exit(2)\n", "SystemExit"),
        ("", "registers no handler"),
        (
            "a, b = Service(), Service()\n"
            "@a.expose()\ndef x(data: In) -> Out:\n    return Out(n=1)\n"
            "@b.expose()\ndef y(data: In) -> Out:\n    return Out(n=1)\n",
            "registers no handler",
        ),
    ],
)
def test_extract_errors(tmp_path: Path, body: str, fragment: str) -> None:
    with pytest.raises(ManifestExtractionError, match=fragment):
        extract_manifest(_write(tmp_path, body))


def test_start_serves_nothing_only_inside_the_extraction_context() -> None:
    service = _service()
    with manifest_extraction():
        assert is_extracting()
        with pytest.raises(BaseException, match="manifest extraction"):
            service.start()
        seen: list[bool] = []
        worker = threading.Thread(target=lambda: seen.append(is_extracting()))
        worker.start()
        worker.join()
        assert seen == [False]  # thread-local: a server thread elsewhere is unaffected
    assert not is_extracting()


# -- the shared routing rule ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x" * 129, "naïve", "with-dash", "_" * 200])
def test_unroutable_handler_names_are_refused_at_registration(name: str) -> None:
    def handler(data: Text) -> Text:
        return data

    handler.__name__ = name
    with pytest.raises(HandlerSignatureError, match="function_name"):
        Service().register(handler)


def test_routing_explains_unroutable_names(serve: Any) -> None:
    with serve(_service()) as running:
        running.wait_ready()
        answers = {
            name: requests.post(running.url(f"/run/{name}/0x1"), json={"text": "a"}, timeout=10)
            for name in ("classiffy", "bad-name", "%2E%2E", "x" * 200)
        }
    for answer in answers.values():
        assert answer.status_code == 404
        assert answer.json()["available"] == ["classify", "shout"]
    assert answers["classiffy"].json()["detail"] == "unknown function 'classiffy'"
    assert "not a handler name" in answers["bad-name"].json()["detail"]
    assert "not a handler name" in answers["%2E%2E"].json()["detail"]
    assert "longer than 128" in answers["x" * 200].json()["detail"]
