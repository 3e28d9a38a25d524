"""``ogpu service manifest``: a source's manifest, read from its source file without serving it.

``ogpu service manifest examples/sentiment_source.py`` imports the file with
``ogpu.service.start()`` turned into a stop (see ``ogpu.service.manifest``):
nothing is served, no init function runs, no network is used. It prints the
manifest JSON, or writes it with ``-o FILE``; publish it with ``ogpu source
publish source.toml --manifest FILE`` (or ``manifest = "FILE"`` in the TOML).
"""

from __future__ import annotations

import argparse

from ogpu.cli._common import add_common
from ogpu.cli._manifest import load_manifest, write_output
from ogpu.cli.base import CommandError, Leaf

__all__ = ["SUBCOMMANDS"]


def _manifest_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the source file (the one that calls ogpu.service.start())")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the manifest JSON to FILE")
    add_common(parser, network=False)


def _manifest(args: argparse.Namespace) -> int:
    if not str(args.path).endswith(".py"):
        raise CommandError(f"{args.path}: expected a Python source file (.py)", kind="input")
    manifest = load_manifest(args.path)
    if args.output:
        write_output(args, manifest.to_json(), manifest)
        return 0
    text = manifest.to_json(indent=None) + "\n" if args.json else manifest.to_json()
    print(text, end="", flush=True)
    return 0


#: The ``ogpu service`` leaves (see :data:`ogpu.cli.base.Leaf`).
SUBCOMMANDS: list[Leaf] = [
    (
        "manifest",
        "print or write the manifest of a source file, without serving it",
        _manifest_args,
        _manifest,
    )
]
