"""Shared plumbing of the everyday commands: network, keys, files, amounts, output, errors.

Every command takes ``--chain mainnet|testnet|devnet`` (default ``$OGPU_CHAIN``,
else the chain the ``--rpc`` node serves, else mainnet), ``--rpc URL``
(default ``$OGPU_RPC_URL``, else the chain's public RPC), ``--json`` and
``--debug``. On the devnet the contract addresses come from
:func:`ogpu.provider.connect_devnet` (``--deployment FILE``, else
``$OGPU_DEVNET_DEPLOYMENT``, else the deterministic ``ogpu devnet`` addresses).
Keys come from ``--key-file FILE`` or the role's environment variable and are
never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib
import json
import os
import re
import shlex
import stat
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from ogpu.cli.base import CommandError, SubParsers
from ogpu.types import OGPUError, Role

__all__ = [
    "CHAINS",
    "Handler",
    "add_common",
    "add_key_file",
    "add_subcommands",
    "chain_now",
    "connect",
    "format_amount",
    "guarded",
    "jsonable",
    "load_signer",
    "one_line",
    "output",
    "parse_amount",
    "read_document",
    "warn_exposed_key_file",
]

Handler = Callable[[argparse.Namespace], int]

CHAINS = ("mainnet", "testnet", "devnet")
ENV_CHAIN = "OGPU_CHAIN"
ENV_RPC = "OGPU_RPC_URL"
_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_AMOUNT_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*$")
_UNITS = {"": 0, "wei": 0, "gwei": 9, "ether": 18, "eth": 18, "ogpu": 18}
_MAX_UINT = 2**256 - 1


def one_line(text: object) -> str:
    """``text`` with whitespace runs (newlines included) collapsed. No I/O."""
    return " ".join(str(text).split())


def guarded(handler: Handler) -> Handler:
    """Turn SDK and unexpected errors into one-line :class:`CommandError`s (unless ``--debug``)."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CommandError, KeyboardInterrupt):
            raise
        except OGPUError as exc:
            if getattr(args, "debug", False):
                raise
            raise CommandError(one_line(exc) or type(exc).__name__) from None
        except Exception as exc:
            if getattr(args, "debug", False):
                raise
            raise CommandError(
                f"unexpected {type(exc).__name__}: {one_line(exc)} "
                "(rerun with --debug for the traceback)"
            ) from None

    return run


def add_common(parser: argparse.ArgumentParser, *, network: bool = True) -> None:
    """Add ``--json`` and ``--debug`` (and, with ``network``, ``--chain``/``--rpc``/
    ``--deployment``) to a leaf parser. No I/O."""
    if network:
        group = parser.add_argument_group("network")
        group.add_argument(
            "--chain",
            choices=CHAINS,
            help=f"network (default: ${ENV_CHAIN}, else the --rpc node's chain, else mainnet)",
        )
        group.add_argument(
            "--rpc", metavar="URL", help=f"JSON-RPC URL (default: ${ENV_RPC}, else the chain's)"
        )
        group.add_argument(
            "--deployment",
            metavar="FILE",
            help="devnet only: deployment JSON (`ogpu devnet deploy --json`); "
            "default: $OGPU_DEVNET_DEPLOYMENT, else the `ogpu devnet` addresses",
        )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )


def add_key_file(parser: argparse.ArgumentParser, role: Role | None) -> None:
    """Add ``--key-file`` (and, for vault commands, ``--role``). No I/O."""
    default = f"default: ${role.env_var}" if role is not None else "or use --role"
    parser.add_argument(
        "--key-file", metavar="FILE", help=f"file holding the hex private key ({default})"
    )
    if role is None:
        parser.add_argument(
            "--role",
            choices=[r.value for r in Role],
            help="sign with the key in $<ROLE>_PRIVATE_KEY (vault commands need an explicit key)",
        )


def add_subcommands(
    subparsers: SubParsers,
    name: str,
    help_text: str,
    commands: Iterable[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]],
) -> None:
    """Register ``ogpu NAME COMMAND`` leaves: (command, help, add_arguments, handler). No I/O."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    leaves = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")

    def missing(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=missing)
    for command, text, add_arguments, handler in commands:
        leaf = leaves.add_parser(command, help=text, description=text)
        add_arguments(leaf)
        leaf.set_defaults(handler=guarded(handler))


# -- network -------------------------------------------------------------------------------------


def _chain_name(chain_id: int) -> str | None:
    from ogpu.chain import ChainId
    from ogpu.chain.config import CHAIN_NETWORKS

    try:
        return CHAIN_NETWORKS[ChainId(chain_id)]
    except ValueError:
        return None


def connect(args: argparse.Namespace) -> str:
    """Select the chain and RPC from the arguments; return the chain name.

    Cost: none on mainnet/testnet without ``--rpc``; with ``--rpc`` one
    ``eth_chainId`` (two when the chain is detected); on the devnet two RPCs
    (see :func:`ogpu.provider.connect_devnet`).

    Raises:
        CommandError: the node serves no OpenGPU chain.
        OGPUError subclasses: unreachable or mismatched node, no devnet contracts.
    """
    from ogpu.chain import ChainConfig, ChainId, Web3Manager

    chain = args.chain or os.environ.get(ENV_CHAIN, "").strip().lower() or None
    rpc = args.rpc or os.environ.get(ENV_RPC, "").strip() or None
    if chain is not None and chain not in CHAINS:
        raise CommandError(f"{ENV_CHAIN}={chain!r} is not one of {', '.join(CHAINS)}")
    if chain is None and rpc is not None:
        remote = Web3Manager.probe_chain_id(rpc)
        chain = _chain_name(remote)
        if chain is None:
            raise CommandError(f"{rpc} serves chain id {remote}, which is no OpenGPU network")
    chain = chain or "mainnet"
    if chain == "devnet":
        from ogpu.provider import connect_devnet

        connect_devnet(rpc, deployment=getattr(args, "deployment", None))
        return chain
    chain_id = {"mainnet": ChainId.OGPU_MAINNET, "testnet": ChainId.OGPU_TESTNET}[chain]
    ChainConfig.set_chain(chain_id)
    if rpc is not None:
        ChainConfig.set_rpc(rpc, chain_id)
    else:
        ChainConfig.reset_rpc(chain_id)
    return chain


def chain_now() -> int:
    """max(latest block timestamp, wall clock). One ``eth_getBlockByNumber``."""
    from ogpu.chain import Web3Manager

    block = Web3Manager.get_web3_instance().eth.get_block("latest")
    return max(int(block["timestamp"]), int(time.time()))


# -- keys ----------------------------------------------------------------------------------------


def warn_exposed_key_file(path: str) -> None:
    """Warn on stderr when a key file is readable or writable by group or others (POSIX).

    The warning names the file and the fix, never the key.
    """
    if os.name != "posix":
        return
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # the read below reports it
    if mode & 0o077:
        print(
            f"ogpu: warning: key file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); anyone with that access can spend from its "
            f"account. Restrict it with: chmod 600 {shlex.quote(path)}",
            file=sys.stderr,
            flush=True,
        )


def _read_key_file(path: str) -> LocalAccount:
    from ogpu.chain.signer import resolve_signer

    warn_exposed_key_file(path)
    try:
        text = Path(path).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CommandError(f"cannot read key file {path}: {reason}") from None
    if not _KEY_RE.match(text):
        raise CommandError(f"key file {path} does not hold a 32-byte hex private key")
    try:
        return resolve_signer(text)
    except OGPUError:
        raise CommandError(f"key file {path} does not hold a valid private key") from None


def load_signer(args: argparse.Namespace, role: Role | None) -> LocalAccount:
    """The signing account: ``--key-file``, else the role's env var (``--role`` for vault
    commands). No RPC.

    Raises:
        CommandError: no key, unreadable file or malformed key (the key is never shown).
    """
    from ogpu.chain.signer import resolve_signer

    if getattr(args, "key_file", None):
        return _read_key_file(str(args.key_file))
    chosen = role
    if chosen is None and getattr(args, "role", None):
        chosen = Role(args.role)
    if chosen is None:
        raise CommandError(
            "vault commands need an explicit key: --key-file FILE, or --role ROLE "
            "to use $<ROLE>_PRIVATE_KEY"
        )
    if not os.environ.get(chosen.env_var, "").strip():
        raise CommandError(f"no key: set {chosen.env_var} or pass --key-file FILE")
    try:
        return resolve_signer(None, chosen)
    except OGPUError:
        raise CommandError(f"{chosen.env_var} does not hold a valid private key") from None


# -- input ---------------------------------------------------------------------------------------


def _load_toml(text: str, path: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        parser: Any = tomllib
    else:
        try:
            parser = importlib.import_module("tomli")
        except ImportError:
            raise CommandError(
                f"{path}: reading TOML needs Python 3.11+ or `pip install tomli`; "
                "or write the file as JSON"
            ) from None
    try:
        return parser.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise CommandError(f"{path} is not valid TOML: {one_line(exc)}") from None


def read_document(path: str) -> dict[str, Any]:
    """Parse a JSON (``.json``) or TOML (``.toml``) file holding one object. Reads one file.

    Raises:
        CommandError: unreadable, unknown extension, invalid syntax, or not an object.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise CommandError(f"{path}: expected a .json or .toml file")
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CommandError(f"cannot read {path}: {reason}") from None
    if suffix == ".toml":
        data = _load_toml(text, path)
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{path} is not valid JSON: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold an object (a table)")
    return data


def parse_amount(value: object, name: str) -> int:
    """Wei from an int, or a string like ``"0.5 ether"``, ``"10 gwei"``, ``"1 OGPU"``. No I/O.

    Raises:
        CommandError: not a whole, non-negative uint256 number of wei.
    """
    if isinstance(value, bool):
        raise CommandError(f"{name} must be an amount, got {value!r}")
    if isinstance(value, int):
        wei = value
    elif isinstance(value, str):
        match = _AMOUNT_RE.match(value)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise CommandError(
                f"{name}: cannot read {value!r} as an amount "
                "(e.g. 1000000000000000000, '1 OGPU', '0.5 ether', '10 gwei')"
            )
        try:
            exact = Decimal(match.group(1)).scaleb(_UNITS[unit])
        except InvalidOperation:
            raise CommandError(f"{name}: cannot read {value!r} as an amount") from None
        if exact != exact.to_integral_value():
            raise CommandError(f"{name}: {value!r} is not a whole number of wei")
        wei = int(exact)
    else:
        raise CommandError(f"{name} must be an amount, got {type(value).__name__}")
    if not 0 <= wei <= _MAX_UINT:
        raise CommandError(f"{name} must be between 0 and 2**256-1 wei, got {wei}")
    return wei


# -- output --------------------------------------------------------------------------------------


def format_amount(wei: int) -> str:
    """``1.5 OGPU (1500000000000000000 wei)``. No I/O."""
    whole = Decimal(wei).scaleb(-18).normalize()
    text = format(whole, "f")
    return f"{text} OGPU ({wei} wei)"


def jsonable(value: Any) -> Any:
    """Convert SDK values (enums, flags, structs, dataclasses, bytes) for ``json.dumps``. No I/O."""
    from enum import Flag

    if isinstance(value, Flag):
        return [m.name for m in type(value) if m.value and (value & m) == m]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def _out(line: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, flush=True)


def output(
    args: argparse.Namespace, data: Mapping[str, Any], lines: Iterable[tuple[str, Any]]
) -> None:
    """Print ``data`` as one JSON line (``--json``) or ``lines`` as aligned ``label: value``."""
    if getattr(args, "json", False):
        _out(json.dumps(jsonable(data)))
        return
    rows = [(label, value) for label, value in lines]
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        shown = jsonable(value)
        if isinstance(shown, list):
            shown = ", ".join(str(v) for v in shown) or "-"
        elif isinstance(shown, dict):
            shown = json.dumps(shown)
        _out(f"{label + ':':<{width + 1}} {shown}")
