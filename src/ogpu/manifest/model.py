"""The manifest document: pydantic models, parsing, canonical JSON and the content hash."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator

from ogpu._jsonsafe import JSONTooDeepError, loads_bounded
from ogpu._jsonvalue import json_value_problem
from ogpu._routing import function_name_problem
from ogpu.errors import shown
from ogpu.manifest.errors import InvalidManifestError, TaskDataError, UnknownFunctionError
from ogpu.manifest.schema import SchemaValidator

__all__ = ["FRAMEWORK", "MANIFEST_VERSION", "METADATA_KEY", "FunctionManifest", "SourceManifest"]

#: The format version this SDK writes and reads; a reader refuses a higher one.
MANIFEST_VERSION = 1
#: The key of the source metadata JSON (``imageMetadataUrl``) that holds the manifest.
METADATA_KEY = "ogpuManifest"
#: ``framework`` of manifests derived by :mod:`ogpu.service`.
FRAMEWORK = "ogpu.service"


class _Checked(BaseModel):
    """Construction errors are typed (``InvalidManifestError``, a ValueError as pydantic's
    ValidationError is); ``model_validate`` (what ``parse`` calls) is left as pydantic's."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidManifestError(
                f"invalid {type(self).__name__}: {first_problem(exc, 'the value')}"
            ) from None


class FunctionManifest(_Checked):
    """One handler: ``POST /run/{name}/{task}`` takes ``input_schema`` and calls back with
    ``output_schema`` (JSON Schema, as pydantic generates them); ``timeout`` in seconds
    (None: unbounded); ``description``: the handler's docstring."""

    model_config = ConfigDict(extra="allow", frozen=True)

    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    timeout: float | None = None
    description: str = ""


class SourceManifest(_Checked):
    """What a source's handlers take and return, published in its metadata JSON.

    Unknown keys are kept (later minor additions); ``manifest_version`` above
    :data:`MANIFEST_VERSION` is refused. Frozen; compare by :attr:`hash`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    manifest_version: int = MANIFEST_VERSION
    framework: str = FRAMEWORK
    framework_version: str
    functions: dict[str, FunctionManifest]

    _validators: dict[str, SchemaValidator] = PrivateAttr(default_factory=dict)

    @field_validator("manifest_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if not 1 <= value <= MANIFEST_VERSION:
            raise ValueError(
                f"manifest_version {value} is not supported by this ogpu (reads 1 to "
                f"{MANIFEST_VERSION}); upgrade ogpu to read it"
            )
        return value

    @field_validator("functions")
    @classmethod
    def _routable_names(cls, value: dict[str, FunctionManifest]) -> dict[str, FunctionManifest]:
        for name in value:
            problem = function_name_problem(name)
            if problem is not None:
                raise ValueError(problem)
        return value

    # -- reading and writing -------------------------------------------------------------------

    @classmethod
    def parse(cls, document: object) -> SourceManifest:
        """Read a manifest from a JSON object, or JSON text/bytes. No I/O.

        Raises:
            InvalidManifestError: not JSON, not an object, an unsupported version, a
                function name no service can route, or a schema that is not an object.
        """
        if isinstance(document, (str, bytes, bytearray)):
            try:  # a lone surrogate fails the encoding: a UnicodeEncodeError, a ValueError
                raw = document.encode("utf-8") if isinstance(document, str) else bytes(document)
                document = loads_bounded(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                reason = str(exc) if isinstance(exc, JSONTooDeepError) else type(exc).__name__
                raise InvalidManifestError(f"the manifest is not valid JSON ({reason})") from None
        if not isinstance(document, Mapping):
            raise InvalidManifestError(
                f"a manifest is a JSON object, got {type(document).__name__}"
            )
        problem = json_value_problem(document)
        if problem is not None:
            raise InvalidManifestError(f"the manifest is not JSON at {problem.describe('$')}")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise InvalidManifestError(
                f"not a source manifest: {first_problem(exc, 'the manifest')} "
                f"({exc.error_count()} problem(s))"
            ) from None

    @classmethod
    def load(cls, path: str | Path) -> SourceManifest:
        """Read a manifest JSON file (``ogpu service manifest`` writes one). Reads one file.

        Raises:
            InvalidManifestError: unreadable file or not a manifest (see :meth:`parse`).
        """
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidManifestError(
                f"cannot read manifest file {path}: {exc.strerror or exc}"
            ) from None
        try:
            return cls.parse(data)
        except InvalidManifestError as exc:
            raise InvalidManifestError(f"{path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (unknown keys included). No I/O."""
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = 2) -> str:
        """The JSON text, keys sorted: the same manifest always gives the same text. No I/O."""
        if indent is None:
            return _canonical(self.to_dict())
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, ensure_ascii=False) + "\n"

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` of the canonical JSON (sorted keys, no spaces, UTF-8)."""
        return "sha256:" + hashlib.sha256(_canonical(self.to_dict()).encode("utf-8")).hexdigest()

    # -- checking tasks ------------------------------------------------------------------------

    def function(self, name: str, *, source: str | None = None) -> FunctionManifest:
        """The manifest of function ``name``. No I/O.

        Raises:
            UnknownFunctionError: not listed (with the closest name as ``suggestion``).
        """
        available = tuple(sorted(self.functions))
        if not isinstance(name, str):
            raise UnknownFunctionError(shown(name), available, None, source=source)
        found = self.functions.get(name)
        if found is not None:
            return found
        raise UnknownFunctionError(name, available, _closest(name, available), source=source)

    def check_task(self, function_name: str, data: object, *, source: str | None = None) -> None:
        """Refuse a task the source's service would refuse: an unlisted function, or data
        that does not match the function's input schema (pydantic's lax rules). No I/O.

        Raises:
            UnknownFunctionError: ``function_name`` is not listed (with a suggestion).
            TaskDataError: ``data`` breaks the schema (``path`` and ``reason`` set).
        """
        spec = self.function(function_name, source=source)
        validator = self._validators.get(function_name)
        if validator is None:
            validator = self._validators[function_name] = SchemaValidator(spec.input_schema)
        failure = validator.first_error(data)
        if failure is not None:
            raise TaskDataError(function_name, failure.path, failure.reason, source=source)


def first_problem(exc: ValidationError, whole: str) -> str:
    """``loc.of.the.value: message`` of a validation error's first problem (``whole``
    when it is about the value itself). No I/O."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or whole
    return f"{where}: {first.get('msg')}"


def _canonical(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _closest(name: str, available: tuple[str, ...]) -> str | None:
    by_case = [a for a in available if a.lower() == name.lower()]
    if by_case:
        return by_case[0]
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {a.lower(): a for a in available}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None
