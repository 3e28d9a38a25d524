"""Typed task clients generated from a source's manifest (``ogpu source client``).

:func:`generate_client` turns a :class:`~ogpu.manifest.SourceManifest` into a
Python module with, per function, an input model, ``publish_<function>(data,
payment=..., expiry=...) -> Task`` and ``result_<function>(task) -> Output``.
The pipeline is the project's: a typed model (:mod:`ogpu.taskclient.model`,
filled by :mod:`ogpu.taskclient.build`), a jinja2 template, ``ruff format``; the
output is deterministic, ``mypy --strict`` clean and starts with a DO-NOT-EDIT
header naming the source and the manifest hash. Generating needs the ``codegen``
extra (``pip install 'ogpu[codegen]'``: jinja2, ruff); the generated module needs
only ``ogpu`` (:mod:`ogpu.taskclient.runtime`).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from ogpu.taskclient.errors import ResultNotReadyError, TaskClientError, TaskResultError

if TYPE_CHECKING:
    from ogpu.manifest import SourceManifest

__all__ = [
    "ResultNotReadyError",
    "TaskClientError",
    "TaskResultError",
    "generate_client",
    "load_client",
]


def generate_client(
    manifest: SourceManifest, *, source: str | None = None, origin: str = ""
) -> str:
    """The task-client module for ``manifest``, as text. Runs ruff once; no network.

    ``source``: the source's address (the functions default to it; without it they
    take ``source=``). ``origin``: the manifest file's name, shown in the header when
    there is no address.

    Raises:
        TaskClientError: jinja2 or ruff is missing, or the output could not be formatted.
        InvalidAddressError: ``source`` is not an address.
    """
    from ogpu.taskclient.build import build_client_model
    from ogpu.taskclient.render import render_client

    address = None
    if source is not None:
        from ogpu_bindings.runtime import check_address

        address = check_address(source, "source")
    return render_client(build_client_model(manifest, source=address, origin=origin))


def load_client(
    manifest: SourceManifest, *, source: str | None = None, module_name: str = "ogpu_task_client"
) -> types.ModuleType:
    """Generate the task client and import it as module ``module_name`` (registered in
    ``sys.modules``, replacing one of that name). For scripts and demos; in a typed
    code base, write the module with ``ogpu source client -o`` and import it.

    Raises:
        TaskClientError, InvalidAddressError: as :func:`generate_client`.
    """
    text = generate_client(manifest, source=source)
    module = types.ModuleType(module_name)
    module.__file__ = f"<task client {module_name}>"
    sys.modules[module_name] = module  # pydantic resolves the annotations through it
    exec(compile(text, module.__file__, "exec"), module.__dict__)
    return module
