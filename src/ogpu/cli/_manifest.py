"""Manifests on the command line: read one from a JSON file or a source file, write one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ogpu.cli._common import one_line, output
from ogpu.cli.base import CommandError

if TYPE_CHECKING:
    from ogpu.manifest import SourceManifest

__all__ = ["load_manifest", "write_output"]


def load_manifest(path: str) -> SourceManifest:
    """A manifest from ``path``: a ``.py`` source file (imported without serving, needs the
    ``service`` extra) or a JSON manifest (``ogpu service manifest -o``). Reads files only.

    Raises:
        CommandError: unreadable, not a manifest, or a source file that fails to import.
    """
    from ogpu.manifest import InvalidManifestError, SourceManifest

    if Path(path).suffix.lower() == ".py":
        try:
            from ogpu.service.manifest import ManifestExtractionError, extract_manifest
        except ImportError as exc:
            raise CommandError(
                f"reading a manifest from {path} needs the service extra ({one_line(exc)}); "
                "pip install 'ogpu[service]'"
            ) from None
        try:
            return extract_manifest(path)
        except ManifestExtractionError as exc:
            raise CommandError(one_line(exc), kind="input") from None
    try:
        return SourceManifest.load(path)
    except InvalidManifestError as exc:
        raise CommandError(one_line(exc), kind="input") from None


def write_output(args: argparse.Namespace, text: str, manifest: SourceManifest) -> None:
    """Write ``text`` to ``args.output`` (UTF-8, replacing it) and say what was written (from
    ``manifest``). Writes one file.

    Raises:
        CommandError: the file cannot be written.
    """
    path = str(args.output)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    functions = sorted(manifest.functions)
    output(
        args,
        {"path": path, "manifest": manifest.hash, "functions": functions},
        [("Wrote", path), ("Manifest", manifest.hash), ("Functions", functions)],
    )
