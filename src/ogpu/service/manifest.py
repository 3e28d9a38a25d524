"""The service's manifest: derived from the registered handlers, and read from a source file.

:func:`build_manifest` describes handlers (name, input and output JSON Schema,
timeout, docstring) as a :class:`~ogpu.manifest.SourceManifest`; the server
serves it at ``GET /manifest``. :func:`extract_manifest` imports a source file
(``examples/sentiment_source.py``) without serving it: inside
:func:`manifest_extraction`, ``ogpu.service.start()`` does not start a server;
it ends the file's execution at that point, as serving would (nothing after
``start()`` runs), and the handlers registered so far form the manifest.
``init`` functions never run. The file's top-level imports do run (a model
library is imported, not loaded); ``ogpu service manifest`` uses this.
"""

from __future__ import annotations

import inspect
import runpy
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from .. import __version__
from ..manifest.schema import LAX_KEY, NAMES_KEY
from .errors import ServiceError
from .logger import logger
from .registry import HandlerSpec
from .service import Service, default_service_swapped

if TYPE_CHECKING:
    from ..manifest import FunctionManifest, SourceManifest

__all__ = [
    "ManifestExtractionError",
    "build_manifest",
    "extract_manifest",
    "is_extracting",
    "manifest_extraction",
]

_LAX: JsonSchemaValue = {LAX_KEY: True}
_state = threading.local()
_extract_lock = threading.Lock()


class ManifestExtractionError(ServiceError):
    """A source file could not be imported, or registers no handler."""


class _StartReached(BaseException):  # not an Exception: user code's `except Exception` misses it
    def __init__(self, service: Service) -> None:
        super().__init__("ogpu.service.start() reached during manifest extraction")
        self.service = service


class _ManifestSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, marking what a client-side check cannot predict."""

    def function_before_schema(self, schema: core_schema.BeforeValidatorFunctionSchema) -> Any:
        return self._transformed(schema, super().function_before_schema(schema))

    def function_wrap_schema(self, schema: core_schema.WrapValidatorFunctionSchema) -> Any:
        return self._transformed(schema, super().function_wrap_schema(schema))

    def function_plain_schema(self, schema: core_schema.PlainValidatorFunctionSchema) -> Any:
        return self._transformed(schema, super().function_plain_schema(schema))

    def handle_invalid_for_json_schema(self, schema: CoreSchema, error_info: str) -> Any:
        return dict(_LAX)  # an arbitrary type: describe nothing, refuse nothing

    def model_schema(self, schema: core_schema.ModelSchema) -> Any:
        json_schema = super().model_schema(schema)
        names = _alternative_names(schema["cls"])
        if names and isinstance(json_schema, dict) and "$ref" not in json_schema:
            json_schema[NAMES_KEY] = names
        return json_schema

    def _transformed(self, schema: Mapping[str, Any], generated: Any) -> Any:
        # the service runs a function on the raw input first: unless it declared the input
        # it accepts, a client cannot tell what it takes
        if self.mode != "validation" or schema.get("json_schema_input_schema"):
            return generated
        if isinstance(generated, dict) and not generated.get("$ref"):
            return {**generated, LAX_KEY: True}
        return {"allOf": [generated], LAX_KEY: True}


def _alternative_names(cls: type[BaseModel]) -> dict[str, str]:
    """{alias: field name} of a model that validates by field name too."""
    config = cls.model_config
    if not (config.get("populate_by_name") or config.get("validate_by_name")):
        return {}
    names = {}
    for name, field in cls.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        if isinstance(alias, str) and alias != name:
            names[alias] = name
    return dict(sorted(names.items()))


def _schema(model: type[BaseModel], mode: Any, function: str, side: str) -> dict[str, Any]:
    try:
        return model.model_json_schema(schema_generator=_ManifestSchema, mode=mode)
    except Exception as exc:  # a model pydantic cannot describe: publish "anything"
        logger.warning(
            "the %s model of handler %r has no JSON Schema (%s); the manifest accepts any %s",
            side,
            function,
            exc,
            side,
        )
        return dict(_LAX)


def function_manifest(spec: HandlerSpec) -> FunctionManifest:
    """The manifest entry of one handler. No I/O."""
    from ..manifest import FunctionManifest

    return FunctionManifest(
        input_schema=_schema(spec.input_model, "validation", spec.name, "input"),
        output_schema=_schema(spec.output_model, "serialization", spec.name, "output"),
        timeout=spec.timeout,
        description=inspect.getdoc(spec.func) or "",
    )


def build_manifest(handlers: Mapping[str, HandlerSpec] | Service) -> SourceManifest:
    """The manifest of a service (or of a handler set, as an app copied it). No I/O."""
    from ..manifest import FRAMEWORK, MANIFEST_VERSION, SourceManifest

    specs = handlers.handlers if isinstance(handlers, Service) else handlers
    return SourceManifest(
        manifest_version=MANIFEST_VERSION,
        framework=FRAMEWORK,
        framework_version=__version__,
        functions={name: function_manifest(specs[name]) for name in sorted(specs)},
    )


# -- extraction from a source file ---------------------------------------------------------------


def is_extracting() -> bool:
    """Whether this thread is inside :func:`manifest_extraction`. No I/O."""
    return bool(getattr(_state, "active", False))


def start_intercepted(service: Service) -> None:
    """Called by ``start()``: under extraction, end the source file here. No I/O."""
    if is_extracting():
        raise _StartReached(service)


@contextmanager
def manifest_extraction() -> Iterator[None]:
    """Within the block, ``ogpu.service.start()`` serves nothing: it ends the calling code
    (like a server that never returns) so a source file can be imported for its manifest.
    Thread-local; no I/O."""
    previous = is_extracting()
    _state.active = True
    try:
        yield
    finally:
        _state.active = previous


def extract_manifest(path: str | Path) -> SourceManifest:
    """Import the source file at ``path`` without serving it; return its manifest.

    The file runs under :func:`manifest_extraction` with a fresh default service
    (the process's own is restored afterwards) and its folder first on ``sys.path``.
    The handlers come from the service passed to ``start()``, else the default
    service, else the one ``Service`` with handlers among the file's globals.
    Cost: whatever the file's imports cost; no network.

    Raises:
        ManifestExtractionError: the file is missing, raises while importing, or
            registers no handler.
    """
    file = Path(path)
    if not file.is_file():
        raise ManifestExtractionError(f"no source file at {file}")
    with _extract_lock, default_service_swapped() as fresh, manifest_extraction():
        sys.path.insert(0, str(file.resolve().parent))
        namespace: dict[str, Any] = {}
        chosen: Service | None = None
        try:
            namespace = runpy.run_path(str(file), run_name="__ogpu_manifest__")
        except _StartReached as reached:
            chosen = reached.service
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise ManifestExtractionError(
                f"importing {file} failed: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            sys.path.remove(str(file.resolve().parent))
        service = chosen or _found_service(fresh, namespace)
    if service is None or not service.handlers:
        raise ManifestExtractionError(
            f"{file} registers no handler; decorate functions with @ogpu.service.expose()"
        )
    return build_manifest(service)


def _found_service(default: Service, namespace: Mapping[str, Any]) -> Service | None:
    if default.handlers:
        return default
    found = [v for v in namespace.values() if isinstance(v, Service) and v.handlers]
    return found[0] if len(found) == 1 else None
