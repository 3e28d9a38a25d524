"""The ``ogpu`` command line.

Subcommands are discovered, not listed: every module in this package whose
name does not start with ``_`` and that defines ``register(subparsers)`` adds
its own subparser(s) and sets ``handler`` (``(argparse.Namespace) -> int``)
as a default. A module that fails to import still shows up and reports why
when invoked. Handlers signal user-facing failures with
:class:`ogpu.cli.base.CommandError`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from ogpu import __version__
from ogpu.cli.base import CommandError, SubParsers

__all__ = ["CommandError", "build_parser", "main"]

_SKIP = frozenset({"base"})


def _register_unavailable(subparsers: SubParsers, name: str, error: BaseException) -> None:
    parser = subparsers.add_parser(name, help=f"(unavailable: {error})", add_help=False)
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def handler(args: argparse.Namespace) -> int:
        raise CommandError(f"the '{name}' command is unavailable: {error}")

    parser.set_defaults(handler=handler)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand registered. No I/O."""
    parser = argparse.ArgumentParser(prog="ogpu", description="OpenGPU SDK command line tools.")
    parser.add_argument("--version", action="version", version=f"ogpu {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (repeat for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        name = module_info.name
        if name.startswith("_") or name in _SKIP:
            continue
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ImportError as exc:
            _register_unavailable(subparsers, name, exc)
            continue
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ogpu`` command line; return the process exit code.

    Usage errors exit 2, :class:`CommandError` exits with its ``exit_code``
    (default 1) after printing ``ogpu: error: ...`` to stderr.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    level = logging.WARNING - 10 * min(int(args.verbose), 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except CommandError as exc:
        print(f"ogpu: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
