"""Shared pieces for ``ogpu`` subcommand modules: errors and the global options.

Light on purpose (argparse only): ``ogpu --help`` imports this module and nothing heavy.

Global options (``--chain``, ``--rpc``, ``--deployment``, ``--json``, ``--debug``,
``-v``) are accepted before or after the subcommand. The top-level parser holds
them with their defaults; each leaf parser adds the ones its command accepts with
``argparse.SUPPRESS`` defaults, so a value given before the subcommand survives
unless repeated after it. :func:`check_globals` refuses one given before a
command that does not take it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

__all__ = [
    "ALL_GLOBALS",
    "LOCAL_GLOBALS",
    "CommandError",
    "Leaf",
    "OgpuArgumentParser",
    "SubParsers",
    "UsageError",
    "add_global_options",
    "check_globals",
]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    SubParsers = Any

#: One ``ogpu GROUP COMMAND`` leaf: (command, help, add_arguments, handler); a group's
#: module lists its leaves in ``SUBCOMMANDS``.
Leaf = tuple[
    str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]
]

CHAINS = ("mainnet", "testnet", "devnet")
#: Every global option, by destination.
ALL_GLOBALS = frozenset({"chain", "rpc", "deployment", "json", "debug", "verbose"})
#: The globals of a command that talks to no chain (``ogpu devnet``, ``ogpu demo``).
LOCAL_GLOBALS = frozenset({"json", "debug", "verbose"})
_TOP_DEFAULTS: dict[str, Any] = {
    "chain": None,
    "rpc": None,
    "deployment": None,
    "json": False,
    "debug": False,
    "verbose": 0,
}
_LEAF_VERBOSE = "verbose_after"
#: Each global option's flags and argparse settings (its default comes from _TOP_DEFAULTS).
_OPTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "chain": (
        ("--chain",),
        {
            "choices": CHAINS,
            "help": "network: mainnet, testnet or devnet (default: $OGPU_CHAIN, else the "
            "chain the --rpc node serves, else mainnet)",
        },
    ),
    "rpc": (
        ("--rpc",),
        {
            "metavar": "URL",
            "help": "JSON-RPC URL (default: $OGPU_RPC_URL, else the chain's public RPC)",
        },
    ),
    "deployment": (
        ("--deployment",),
        {
            "metavar": "FILE",
            "help": "devnet only: deployment JSON (`ogpu devnet deploy --json`); "
            "default: $OGPU_DEVNET_DEPLOYMENT, else the `ogpu devnet` addresses",
        },
    ),
    "json": (
        ("--json",),
        {
            "action": "store_true",
            "help": "machine-readable output: one JSON object per line (errors too, on stderr)",
        },
    ),
    "debug": (
        ("--debug",),
        {
            "action": "store_true",
            "help": "on failure, show the full traceback and the chain of causes",
        },
    ),
    "verbose": (
        ("-v", "--verbose"),
        {"action": "count", "help": "log more (-v: info, -vv: debug)"},
    ),
}


class CommandError(Exception):
    """A command failed in a way the user can act on; printed without a traceback.

    ``kind`` classifies it for ``--json`` (see ``docs/CLI.md``: ``usage``, ``input``,
    ``connection``, ``chain``, ``listen``, ``sdk``, ``internal``, ``error``);
    ``type_name`` names the SDK exception class behind it, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        exit_code: int = 1,
        kind: str = "error",
        type_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.kind = kind
        self.type_name = type_name


class UsageError(CommandError):
    """The command line itself is wrong (exit code 2); ``parser`` prints its usage."""

    def __init__(self, message: str, parser: argparse.ArgumentParser | None = None) -> None:
        super().__init__(message, exit_code=2, kind="usage")
        self.parser = parser


class OgpuArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` (so ``--json`` can
    report them as JSON) instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self)


def add_global_options(
    parser: argparse.ArgumentParser, accepted: Iterable[str] = ALL_GLOBALS, *, top: bool = False
) -> None:
    """Add the ``accepted`` global options to ``parser`` (``top``: the ``ogpu`` parser,
    with defaults; otherwise a leaf, whose defaults are suppressed). No I/O."""
    wanted = frozenset(accepted)
    unknown = wanted - ALL_GLOBALS
    if unknown:
        raise ValueError(f"unknown global options {sorted(unknown)}")
    group = parser.add_argument_group("global options (before or after the command)")
    for name, (flags, options) in _OPTIONS.items():
        if name in wanted:
            # a leaf's -v counts apart; check_globals adds it to the top-level count
            dest = _LEAF_VERBOSE if name == "verbose" and not top else name
            default = _TOP_DEFAULTS[name] if top else argparse.SUPPRESS
            group.add_argument(*flags, dest=dest, default=default, **options)
    if not top:
        parser.set_defaults(accepts=wanted, command_path=parser.prog.partition(" ")[2])
        _add_refused(parser, ALL_GLOBALS - wanted)


def _add_refused(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Hidden options that catch a global option the command does not take, so the error
    names it (instead of argparse misreading its value as a subcommand)."""
    for name in names:
        flags, options = _OPTIONS[name]
        parser.add_argument(
            *flags,
            dest=f"refused_{name}",
            action="count" if "action" in options else "store",
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )


def check_globals(args: argparse.Namespace) -> None:
    """Merge leaf-level ``-v`` counts into ``args.verbose`` and refuse a global option
    given before the command when it does not take it. No I/O.

    Raises:
        UsageError: e.g. ``ogpu --chain devnet devnet``.
    """
    args.verbose = int(getattr(args, "verbose", 0) or 0) + int(getattr(args, _LEAF_VERBOSE, 0))
    accepts: frozenset[str] = getattr(args, "accepts", ALL_GLOBALS)
    for name in sorted(ALL_GLOBALS - accepts):
        given = hasattr(args, f"refused_{name}")
        if given or getattr(args, name, _TOP_DEFAULTS[name]) != _TOP_DEFAULTS[name]:
            flag = _OPTIONS[name][0][0]
            command = getattr(args, "command_path", "") or "this command"
            raise UsageError(f"`ogpu {command}` does not take {flag}")
    for name, value in _TOP_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
