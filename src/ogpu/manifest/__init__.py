"""Source manifests: what a source's handlers take and return, checked before a task is paid.

A manifest is derived by :mod:`ogpu.service` from the registered handlers
(``Service.manifest()``, ``GET /manifest``, ``ogpu service manifest
source.py``), published in the source's metadata JSON under the key
:data:`METADATA_KEY` (``publish_source(..., manifest=...)``), read back with
``Source.get_manifest()``, and used by ``publish_task``/``publish_tasks`` to
refuse a misspelt function or wrongly shaped data before anything is pinned or
paid, and by ``ogpu source client`` to generate a typed task client.

Format (``manifest_version`` 1; JSON, keys in any order)::

    {
      "manifest_version": 1,                 # int; readers refuse a higher version
      "framework": "ogpu.service",           # what derived it
      "framework_version": "0.3.0",          # that framework's version
      "functions": {                         # one entry per handler, by function_name
        "predict": {
          "input_schema": {...},             # JSON Schema of the input model (validation)
          "output_schema": {...},            # JSON Schema of the output (serialisation)
          "timeout": 30.0,                   # seconds, or null for none
          "description": "Classify ..."      # the handler's docstring
        }
      }
    }

Schemas are pydantic's, plus two annotations the client-side check reads (see
:mod:`ogpu.manifest.schema`): ``"x-ogpu-lax": true`` on a value the service
transforms before validating it, and ``"x-ogpu-names"`` on a model that also
accepts its field names. Unknown keys are allowed anywhere and kept; a change
that older readers would misread bumps ``manifest_version``. The manifest's
identity is :attr:`SourceManifest.hash`: ``sha256:`` of its canonical JSON
(sorted keys, no whitespace, UTF-8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports

__all__ = [
    "FRAMEWORK",
    "MANIFEST_VERSION",
    "METADATA_KEY",
    "FunctionManifest",
    "InvalidManifestError",
    "SchemaValidator",
    "SourceManifest",
    "TaskDataError",
    "UnknownFunctionError",
    "clear_manifest_cache",
    "manifest_from_metadata",
    "read_manifest",
    "recently_unreadable",
    "remember_unreadable",
]

if TYPE_CHECKING:
    from ogpu.manifest.errors import InvalidManifestError, TaskDataError, UnknownFunctionError
    from ogpu.manifest.model import (
        FRAMEWORK,
        MANIFEST_VERSION,
        METADATA_KEY,
        FunctionManifest,
        SourceManifest,
    )
    from ogpu.manifest.schema import SchemaValidator
    from ogpu.manifest.store import (
        clear_manifest_cache,
        manifest_from_metadata,
        read_manifest,
        recently_unreadable,
        remember_unreadable,
    )
else:  # loaded on first use: ogpu.service imports ogpu.manifest.schema at start-up
    __getattr__, __dir__ = lazy_imports(__name__, globals())
