"""The ``ogpu`` command line.

Commands are listed in :data:`COMMANDS` (name → module, one-line help) so that
``ogpu --help`` and ``ogpu --version`` import no command module: only the
command being run is imported. A command module either lists its leaves in
``SUBCOMMANDS`` (``ogpu task show``...: see :data:`ogpu.cli.base.Leaf`) or adds its
parser itself in ``register(subparsers)``; each leaf sets ``handler``
(``(argparse.Namespace) -> int``).
A module of this package missing from the table is still found and registered
(imported eagerly; add it to the table). Handlers signal user-facing failures
with :class:`ogpu.cli.base.CommandError`; ``--json`` turns every error into one
JSON line on stderr (see ``docs/CLI.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import NamedTuple, cast

from ogpu import __version__
from ogpu.cli.base import (
    CommandError,
    OgpuArgumentParser,
    SubParsers,
    UsageError,
    add_global_options,
    check_globals,
)

__all__ = ["COMMANDS", "CommandError", "build_parser", "console_main", "load_dotenv", "main"]


class Command(NamedTuple):
    module: str
    help: str


#: Every ``ogpu`` command: its module (imported only when the command runs) and help line.
COMMANDS: dict[str, Command] = {
    "demo": Command(
        "ogpu.cli.demo", "run the whole marketplace on an embedded devnet and print a task's result"
    ),
    "devnet": Command(
        "ogpu.cli.devnet", "run a local OpenGPU chain (JSON-RPC) and content store; deploy"
    ),
    "provider": Command(
        "ogpu.cli.provider", "read providers; run the provider runtime against a source service"
    ),
    "response": Command("ogpu.cli.response", "read responses"),
    "service": Command("ogpu.cli.service", "tools for source services (ogpu.service)"),
    "source": Command(
        "ogpu.cli.source", "read, publish and update sources; generate typed task clients"
    ),
    "task": Command("ogpu.cli.task", "read, publish, cancel, confirm and follow tasks"),
    "vault": Command(
        "ogpu.cli.vault", "read an account's vault; deposit, lock (stake), unbond and claim"
    ),
}
_VALUED = frozenset({"--chain", "--rpc", "--deployment"})


def command_help(name: str) -> str:
    """The one-line help of a command (for a module's own ``register``). No I/O."""
    return COMMANDS[name].help


def load_dotenv() -> None:
    """Read ``.env`` files the way the SDK does, through the SDK's one loader
    (``ogpu._env.load_dotenv_files``); a no-op where the SDK has none."""
    try:
        module = importlib.import_module("ogpu._env")
    except ImportError:
        return
    loader = getattr(module, "load_dotenv_files", None)
    if callable(loader):
        loader()


def _selected(argv: Sequence[str]) -> str | None:
    """The command name in ``argv`` (skipping global options and their values), if any."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--":
            return None
        elif token.startswith("-"):
            skip = token in _VALUED
        else:
            return token if token in COMMANDS else None
    return None


def _undiscovered() -> list[str]:
    """Command modules of this package missing from :data:`COMMANDS` (reads a directory)."""
    known = {command.module.rpartition(".")[2] for command in COMMANDS.values()}
    return sorted(
        m.name
        for m in pkgutil.iter_modules(__path__)
        if not m.name.startswith("_") and m.name != "base" and m.name not in known
    )


def _register_unavailable(subparsers: SubParsers, name: str, error: BaseException) -> None:
    parser = subparsers.add_parser(name, help=f"(unavailable: {error})", add_help=False)
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def handler(args: argparse.Namespace) -> int:
        raise CommandError(f"the '{name}' command is unavailable: {error}")

    parser.set_defaults(handler=handler)


def _register(subparsers: SubParsers, name: str, module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        _register_unavailable(subparsers, name, exc)
        return
    leaves = getattr(module, "SUBCOMMANDS", None)
    if leaves is not None:
        from ogpu.cli._common import add_subcommands

        add_subcommands(subparsers, name, COMMANDS[name].help if name in COMMANDS else "", leaves)
        return
    register = getattr(module, "register", None)
    if callable(register):
        register(subparsers)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``ogpu`` parser. No I/O beyond imports.

    With ``argv``, only the command it names is fully registered (its module
    imported); the others are placeholders that carry their help line. Without
    it, every command is registered.
    """
    parser = OgpuArgumentParser(
        prog="ogpu",
        description="OpenGPU SDK command line tools. Global options go before or after "
        "the command. Keys and URLs also come from the environment and .env files.",
    )
    parser.add_argument("--version", action="version", version=f"ogpu {__version__}")
    add_global_options(parser, top=True)
    # Subparsers are OgpuArgumentParsers too (argparse uses the parent's class).
    subparsers = cast(SubParsers, parser.add_subparsers(dest="command", metavar="COMMAND"))
    chosen = _selected(argv) if argv is not None else None
    for name, command in COMMANDS.items():
        if argv is None or name == chosen:
            _register(subparsers, name, command.module)
        else:
            stub = subparsers.add_parser(name, help=command.help, add_help=False)
            stub.add_argument("rest", nargs=argparse.REMAINDER)
    for name in _undiscovered():
        _register(subparsers, name, f"{__name__}.{name}")
    return parser


def _wants_json(argv: Sequence[str]) -> bool:
    return "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv


def _fail(error: CommandError, as_json: bool) -> int:
    from ogpu.cli._errors import report

    report(error, as_json)
    return error.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ogpu`` command line; return the process exit code.

    Usage errors exit 2; a :class:`CommandError` exits with its ``exit_code``
    (default 1) after printing ``ogpu: error: ...`` (``--json``: one JSON line) to
    stderr; Ctrl-C exits 130.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(arguments)
    load_dotenv()
    try:
        parser = build_parser(arguments)
        args = parser.parse_args(arguments)
        check_globals(args)
        args.argv = arguments
    except UsageError as exc:
        return _fail(exc, as_json)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    level = logging.WARNING - 10 * min(int(args.verbose), 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except CommandError as exc:
        return _fail(exc, bool(args.json))
    except KeyboardInterrupt:
        if not args.json:
            print("\nogpu: interrupted", file=sys.stderr, flush=True)
        return 130


def _on_second_interrupt(signum: int, frame: FrameType | None) -> None:
    os._exit(130)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """First Ctrl-C: KeyboardInterrupt as usual; a second one exits at once."""
    signal.signal(signal.SIGINT, _on_second_interrupt)
    raise KeyboardInterrupt


def console_main(argv: Sequence[str] | None = None) -> None:
    """The ``ogpu`` executable: :func:`main`, then exit at once: without waiting for worker
    threads still blocked in network calls (a stop must not wait for their timeouts) nor
    for the interpreter's teardown of web3 and py-evm (about half a second)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
    code = main(argv)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
