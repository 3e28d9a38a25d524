"""Shared plumbing of the everyday commands: network, keys, files, amounts, typed fields.

Network: ``--chain mainnet|testnet|devnet`` (default ``$OGPU_CHAIN``, else the chain
the ``--rpc`` node serves, else mainnet), ``--rpc URL`` (default ``$OGPU_RPC_URL``,
else the chain's public RPC). On the devnet the contract addresses come from
:func:`ogpu.devnet.connect_devnet` (``--deployment FILE``, else
``$OGPU_DEVNET_DEPLOYMENT``, else the deterministic ``ogpu devnet`` addresses).
Keys come from ``--key-file FILE`` or the role's environment variable (or ``.env``)
and are never printed. Output and errors: :mod:`ogpu.cli._output`,
:mod:`ogpu.cli._errors`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import stat
import sys
import time
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ogpu.cli._errors import Handler, Target, cli_text, guarded, where
from ogpu.cli._output import amount, format_amount, format_time, jsonable, moment, output
from ogpu.cli._progress import stage
from ogpu.cli.base import (
    ALL_GLOBALS,
    CHAINS,
    LOCAL_GLOBALS,
    CommandError,
    Leaf,
    SubParsers,
    add_global_options,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

T = TypeVar("T")

__all__ = [
    "CHAINS",
    "Handler",
    "add_common",
    "add_key_file",
    "add_subcommands",
    "address_option",
    "amount",
    "chain_now",
    "cli_text",
    "connect",
    "field",
    "format_amount",
    "format_time",
    "guarded",
    "jsonable",
    "load_signer",
    "moment",
    "one_line",
    "output",
    "parse_amount",
    "read_document",
    "show_leaf",
    "warn_exposed_key_file",
]

ENV_CHAIN = "OGPU_CHAIN"
ENV_RPC = "OGPU_RPC_URL"
_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_AMOUNT_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*$")
_UNITS = {"": 0, "wei": 0, "gwei": 9, "ether": 18, "eth": 18, "ogpu": 18}
_MAX_UINT = 2**256 - 1
_TOML_TYPES = {
    bool: "true or false",
    int: "a whole number",
    str: "a string",
    dict: "a table",
    list: "an array",
    float: "a number",
}


def one_line(text: object) -> str:
    """``text`` with whitespace runs (newlines included) collapsed. No I/O."""
    return " ".join(str(text).split())


def add_common(parser: argparse.ArgumentParser, *, network: bool = True) -> None:
    """Add the global options a leaf accepts after its name: ``--json``, ``--debug``,
    ``-v`` and, with ``network``, ``--chain``/``--rpc``/``--deployment``. No I/O."""
    add_global_options(parser, ALL_GLOBALS if network else LOCAL_GLOBALS)


def add_key_file(parser: argparse.ArgumentParser, role: Any | None) -> None:
    """Add ``--key-file`` (and, for vault commands, ``--role``). No I/O."""
    default = f"default: ${role.env_var}" if role is not None else "or use --role"
    parser.add_argument(
        "--key-file", metavar="FILE", help=f"file holding the hex private key ({default})"
    )
    if role is None:
        parser.add_argument(
            "--role",
            choices=("client", "provider", "master", "agent"),
            help="sign with the key in $<ROLE>_PRIVATE_KEY (vault commands need an explicit key)",
        )


def add_subcommands(
    subparsers: SubParsers,
    name: str,
    help_text: str,
    commands: Iterable[Leaf],
) -> None:
    """Register ``ogpu NAME COMMAND`` leaves: (command, help, add_arguments, handler). No I/O."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_global_options(parser)
    leaves = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")

    def missing(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=missing)
    for command, text, add_arguments, handler in commands:
        leaf = leaves.add_parser(command, help=text, description=text)
        add_arguments(leaf)
        leaf.set_defaults(handler=guarded(handler))


def show_leaf(
    noun: str,
    help_text: str,
    address_help: str,
    summary: Callable[..., tuple[dict[str, Any], list[Any]]],
    **flags: str,
) -> Leaf:
    """The ``show`` leaf of a read command: ``ADDRESS`` plus one ``--FLAG`` switch per
    ``flags`` item (name -> help); its handler connects, calls ``summary(address,
    *switches)`` (the reads) and prints the result. No I/O."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("address", help=address_help)
        for name, text in flags.items():
            parser.add_argument(f"--{name}", action="store_true", help=text)
        add_common(parser)

    def show(args: argparse.Namespace) -> int:
        connect(args)
        with stage(args, f"reading the {noun}", slow_only=True):
            data, lines = summary(args.address, *(getattr(args, name) for name in flags))
        output(args, data, lines)
        return 0

    return "show", help_text, add_arguments, show


# -- network -------------------------------------------------------------------------------------


def _chain_name(chain_id: int) -> str | None:
    from ogpu.chain import ChainId
    from ogpu.chain.config import CHAIN_NETWORKS

    try:
        return CHAIN_NETWORKS[ChainId(chain_id)]
    except ValueError:
        return None


def _chain_choice(args: argparse.Namespace) -> tuple[str | None, str]:
    if getattr(args, "chain", None):
        return str(args.chain), "--chain"
    env = os.environ.get(ENV_CHAIN, "").strip().lower()
    if env and env not in CHAINS:
        raise CommandError(f"{ENV_CHAIN}={env!r} is not one of {', '.join(CHAINS)}", kind="input")
    return (env, "$OGPU_CHAIN") if env else (None, "default")


def _rpc_choice(args: argparse.Namespace) -> str | None:
    rpc = getattr(args, "rpc", None) or os.environ.get(ENV_RPC, "").strip() or None
    if rpc is not None and not re.match(r"^https?://[^\s/]+", rpc):
        source = "--rpc" if getattr(args, "rpc", None) else f"${ENV_RPC}"
        raise CommandError(f"{source} must be an http(s) URL, got {rpc!r}", kind="input")
    return rpc


def _wrong_chain(url: str, remote: int, chain: str, expected: int) -> CommandError:
    name = _chain_name(remote)
    serves = f"{name} ({remote})" if name else f"chain id {remote}, no OpenGPU network"
    fix = f"pass --chain {name}" if name else "pass the RPC URL of an OpenGPU node"
    return CommandError(
        f"{where(url)} serves {serves}, not {chain} ({expected}); {fix}", kind="chain"
    )


def connect(args: argparse.Namespace) -> str:
    """Select the chain and RPC from the arguments and environment; return the chain name.

    Records what was tried as ``args.target`` (for error messages).
    Cost: none on mainnet/testnet without an RPC URL; otherwise one ``eth_chainId``;
    on the devnet two more RPCs (see :func:`ogpu.devnet.connect_devnet`).

    Raises:
        CommandError: bad ``--chain``/``--rpc``/environment value, or the node serves
            another chain.
        OGPUError subclasses: unreachable node, no devnet contracts.
    """
    chain, origin = _chain_choice(args)
    rpc = _rpc_choice(args)
    shown = where(rpc) if rpc else chain or "mainnet"
    with stage(args, f"connecting to {shown}", slow_only=True):
        return _connect(args, chain, origin, rpc)


def _connect(args: argparse.Namespace, chain: str | None, origin: str, rpc: str | None) -> str:
    from ogpu.chain import ChainConfig, ChainId, Web3Manager
    from ogpu.chain.config import DEFAULT_RPC_URLS

    if chain is None and rpc is not None:
        args.target = Target("unknown", "--rpc", rpc)
        remote = Web3Manager.probe_chain_id(rpc)
        chain = _chain_name(remote)
        if chain is None:
            raise CommandError(
                f"{where(rpc)} serves chain id {remote}, which is no OpenGPU network", kind="chain"
            )
        origin = "--rpc"
    chain = chain or "mainnet"
    chain_id = {"mainnet": ChainId.OGPU_MAINNET, "testnet": ChainId.OGPU_TESTNET}.get(
        chain, ChainId.OGPU_DEVNET
    )
    # the devnet's default URL is also its configured one (ogpu.provider is not loaded here)
    default_url = DEFAULT_RPC_URLS[chain_id]
    url = rpc or default_url
    args.target = Target(chain, origin, url)
    if chain == "devnet" or rpc is not None:
        remote = Web3Manager.probe_chain_id(url)
        if remote != int(chain_id):
            raise _wrong_chain(url, remote, chain, int(chain_id))
    if chain == "devnet":
        from ogpu.devnet import connect_devnet

        connect_devnet(url, deployment=getattr(args, "deployment", None))
        return chain
    ChainConfig.set_chain(chain_id)
    if rpc is not None:
        Web3Manager.update_rpc_url(chain_id, rpc)
    else:
        ChainConfig.reset_rpc(chain_id)
    return chain


def read_chain(method: str, params: list[Any], parse: Callable[[Any], T]) -> T:
    """One JSON-RPC read of the active chain, parsed by ``parse``.

    Raises:
        RPCError: the node failed or answered something ``parse`` refuses.
    """
    from ogpu.chain import Web3Manager, rpc
    from ogpu.types import RPCError

    try:
        return parse(rpc.request(Web3Manager.get_endpoint(), method, params))
    except (rpc.NodeError, rpc.TransportError, KeyError, TypeError) as exc:
        raise RPCError(f"RPC {method} failed: {exc}", method=method, cause=str(exc)) from exc


def chain_now() -> int:
    """max(latest block timestamp, wall clock). One ``eth_getBlockByNumber``.

    Raises:
        RPCError: the node failed or answered a malformed block.
    """
    from ogpu.chain import rpc

    latest = read_chain(
        "eth_getBlockByNumber", ["latest", False], lambda block: rpc.to_int(block["timestamp"])
    )
    return max(latest, int(time.time()))


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
    from ogpu.types import OGPUError

    warn_exposed_key_file(path)
    try:
        text = Path(path).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CommandError(f"cannot read key file {path}: {reason}", kind="input") from None
    if not _KEY_RE.match(text):
        raise CommandError(f"key file {path} does not hold a 32-byte hex private key", kind="input")
    try:
        return resolve_signer(text)
    except OGPUError:
        raise CommandError(
            f"key file {path} does not hold a valid private key", kind="input"
        ) from None


def load_signer(args: argparse.Namespace, role: Any | None) -> LocalAccount:
    """The signing account: ``--key-file``, else the role's env var (``--role`` for vault
    commands). No RPC.

    Raises:
        CommandError: no key, unreadable file or malformed key (the key is never shown).
    """
    from ogpu.chain.signer import resolve_signer
    from ogpu.types import OGPUError, Role

    if getattr(args, "key_file", None):
        return _read_key_file(str(args.key_file))
    chosen = role
    if chosen is None and getattr(args, "role", None):
        chosen = Role(args.role)
    if chosen is None:
        raise CommandError(
            "vault commands need an explicit key: --key-file FILE, or --role ROLE "
            "to use $<ROLE>_PRIVATE_KEY",
            kind="input",
        )
    if not os.environ.get(chosen.env_var, "").strip():
        raise CommandError(
            f"no key: set {chosen.env_var} (e.g. from `ogpu devnet --env-file .env`) "
            "or pass --key-file FILE",
            kind="input",
        )
    try:
        return resolve_signer(None, chosen)
    except OGPUError:
        raise CommandError(
            f"{chosen.env_var} does not hold a valid private key", kind="input"
        ) from None


def address_option(value: str, option: str) -> str:
    """The checksummed address given to ``option`` (e.g. ``--source``). No I/O.

    Raises:
        CommandError: not an address (the message names the option).
    """
    from ogpu_bindings.runtime import check_address

    from ogpu.types import OGPUError

    try:
        return check_address(value, option)
    except OGPUError as exc:
        raise CommandError(cli_text(str(exc)), kind="input") from None


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
                "or write the file as JSON",
                kind="input",
            ) from None
    try:
        return parser.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise CommandError(f"{path} is not valid TOML: {one_line(exc)}", kind="input") from None


def read_document(path: str) -> dict[str, Any]:
    """Parse a JSON (``.json``) or TOML (``.toml``) file holding one object. Reads one file.

    Raises:
        CommandError: unreadable, unknown extension, invalid syntax, or not an object.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise CommandError(f"{path}: expected a .json or .toml file", kind="input")
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CommandError(f"cannot read {path}: {reason}", kind="input") from None
    if suffix == ".toml":
        data = _load_toml(text, path)
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{path} is not valid JSON: {one_line(exc)}", kind="input") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold an object (a table)", kind="input")
    return data


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _TOML_TYPES[type(value)]
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def field(
    doc: dict[str, Any], path: str, key: str, kind: type, default: Any = None, what: str = ""
) -> Any:
    """``doc[key]`` checked to be a ``kind`` (``bool`` is not an ``int``); ``default`` when
    absent. No I/O.

    Raises:
        CommandError: ``{path}: {key} must be {what}, got {value}``.
    """
    if key not in doc:
        return default
    value = doc[key]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        expected = what or _TOML_TYPES.get(kind, kind.__name__)
        raise CommandError(
            f"{path}: {key} must be {expected}, got {_describe(value)}", kind="input"
        )
    return value


def parse_amount(value: object, name: str) -> int:
    """Wei from an int, or a string like ``"0.5 ether"``, ``"10 gwei"``, ``"1 OGPU"``. No I/O.

    Raises:
        CommandError: not a whole, non-negative uint256 number of wei.
    """
    if isinstance(value, bool):
        raise CommandError(f"{name} must be an amount, got {value!r}", kind="input")
    if isinstance(value, int):
        wei = value
    elif isinstance(value, str):
        match = _AMOUNT_RE.match(value)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise CommandError(
                f"{name}: cannot read {value!r} as an amount "
                "(e.g. 1000000000000000000, '1 OGPU', '0.5 ether', '10 gwei')",
                kind="input",
            )
        try:
            exact = Decimal(match.group(1)).scaleb(_UNITS[unit])
        except InvalidOperation:
            raise CommandError(
                f"{name}: cannot read {value!r} as an amount", kind="input"
            ) from None
        if exact != exact.to_integral_value():
            raise CommandError(f"{name}: {value!r} is not a whole number of wei", kind="input")
        wei = int(exact)
    else:
        raise CommandError(f"{name} must be an amount, got {type(value).__name__}", kind="input")
    if not 0 <= wei <= _MAX_UINT:
        raise CommandError(f"{name} must be between 0 and 2**256-1 wei, got {wei}", kind="input")
    return wei
