"""``ogpu devnet``: run the local chain and content store; ``ogpu devnet deploy``: deploy the suite.

``ogpu devnet [--host H] [--port P] [--store-port P] [--state FILE] [--block-time S]
[--env-file FILE] [--detach] [--call-gas-cap GAS] [--mainnet-faults SHARE [--faults-seed N]]``
serves the in-process devnet over JSON-RPC and the content store until SIGINT/SIGTERM,
then saves ``--state`` (if given) and exits 0.
``--port 0`` picks free ports for both servers (unless ``--store-port`` is given).
At start it prints the accounts, the contracts and an ``export`` block of the
variables the SDK and the other commands read (``OGPU_CHAIN``, ``OGPU_RPC_URL``,
the content store, one key per role), which ``--env-file`` also writes to a file.

``ogpu devnet deploy --rpc URL [--key-file F] [--json]`` deploys and wires the
contract suite on any standard node, signing locally with the key from
``--key-file`` (default: the devnet ADMIN key, which the node must have funded).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from ogpu.cli import command_help
from ogpu.cli._common import warn_exposed_key_file
from ogpu.cli._detach import ENV_READY, add_detach_options, check_detach, detach, signal_ready
from ogpu.cli._errors import guarded
from ogpu.cli._progress import stage
from ogpu.cli.base import LOCAL_GLOBALS, CommandError, SubParsers, add_global_options

if TYPE_CHECKING:
    from ogpu.devnet.serve import DevnetServices

__all__ = ["environment", "register", "run_deploy", "run_devnet", "write_env_file"]

DEFAULT_STORE_PORT = 5001
#: First line of a file ``--env-file`` writes; a file without it is never overwritten.
ENV_FILE_MARK = "# Written by `ogpu devnet`"
#: The role key variables ``--env-file`` and the export block set, and the account used.
ROLE_KEYS = (
    ("CLIENT_PRIVATE_KEY", "CLIENTS"),
    ("PROVIDER_PRIVATE_KEY", "PROVIDERS"),
    ("MASTER_PRIVATE_KEY", "MASTERS"),
    ("AGENT_PRIVATE_KEY", "AGENTS"),
)
_FLAGS = {"JSON-RPC server": "--port", "content store": "--store-port"}

T = TypeVar("T")
_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_SIZE_RE = re.compile(r"^(\d+)\s*([kKmMgG]i?[bB]?|[bB])?$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _checked(
    convert: Callable[[str], T], valid: Callable[[T], bool], what: str, rule: str
) -> Callable[[str], T]:
    """An argparse ``type``: ``convert`` the text (else "not WHAT"), then refuse a value
    ``valid`` rejects (with ``rule``). No I/O."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"{rule}, got {text!r}")
        return value

    return parse


def _to_size(text: str) -> int:
    match = _SIZE_RE.match(text.strip())
    if match is None:
        raise ValueError(text)
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "")[:1].lower()]


_port = _checked(int, lambda v: 0 <= v <= 65535, "a port number", "port must be 0 to 65535")
_seconds = _checked(
    float, lambda v: 0 < v < 86400, "a number of seconds", "seconds must be > 0 and < 86400"
)
_size = _checked(
    _to_size, lambda v: v > 0, "a size (e.g. 10MiB, 512k, 1048576)", "size must be positive"
)
_share = _checked(float, lambda v: 0 < v <= 1, "a share (e.g. 0.2)", "share must be > 0 and <= 1")
_gas = _checked(
    lambda text: int(text.replace("_", "")),
    lambda v: v >= 21_000,
    "an amount of gas",
    "gas cap must be at least 21000",
)


def register(subparsers: SubParsers) -> None:
    """Add ``devnet`` (and ``devnet deploy``) to the ``ogpu`` parser. No I/O."""
    parser = subparsers.add_parser(
        "devnet",
        help=command_help("devnet"),
        description=(
            "Run the in-process devnet (chain id 1337, suite deployed, funded accounts) "
            "as a JSON-RPC node plus a content store (IPFS API /api/v0/add, OGPU "
            "/file/create, gateway /ipfs/<cid>). Ctrl-C stops it."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8545, help="JSON-RPC port (default 8545; 0 = any free port)"
    )
    parser.add_argument(
        "--store-port",
        type=_port,
        help=f"content store port (default {DEFAULT_STORE_PORT}, or any free port with --port 0; "
        "0 = any free port)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the chain and store in FILE: loaded on start if present, saved on stop",
    )
    parser.add_argument(
        "--block-time",
        type=_seconds,
        metavar="S",
        help="also mine an empty block every S seconds (default: only on transactions)",
    )
    parser.add_argument(
        "--max-upload",
        type=_size,
        default=10 * 1024 * 1024,
        metavar="SIZE",
        help="largest file the content store accepts (default 10MiB)",
    )
    parser.add_argument(
        "--gateway-url",
        metavar="URL",
        help="base URL put in /file/create links (default: the store's own URL)",
    )
    parser.add_argument(
        "--call-gas-cap",
        type=_gas,
        metavar="GAS",
        help="most gas one eth_call may use, as geth's --rpc.gascap (default 50000000)",
    )
    parser.add_argument(
        "--mainnet-faults",
        type=_share,
        metavar="SHARE",
        help=(
            "answer SHARE (0..1] of requests like the load-balanced public RPC: "
            "'block 0x.. not found' for a block just reported, or a dropped connection "
            "(default: off)"
        ),
    )
    parser.add_argument(
        "--faults-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the --mainnet-faults draws (default 0)",
    )
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        help="write the export block (URLs and one key per role) to FILE, e.g. .env "
        "(never overwrites a file it did not write)",
    )
    add_detach_options(parser, "devnet")
    add_global_options(parser, LOCAL_GLOBALS)
    parser.set_defaults(handler=guarded(run_devnet))

    commands = parser.add_subparsers(dest="devnet_command", metavar="{deploy}")
    deploy = commands.add_parser(
        "deploy",
        help="deploy the contract suite onto any node",
        description=(
            "Deploy and wire the reference contract suite on a standard JSON-RPC node "
            "(ganache, anvil, geth --dev, ogpu devnet). Transactions are signed locally. "
            "The default deployer is the devnet ADMIN account; the node must have funded "
            'it (ganache: --wallet.accounts "<ADMIN key>,<balance>").'
        ),
    )
    deploy.add_argument(
        "--key-file",
        metavar="FILE",
        help="file holding the deployer's hex private key (default: the devnet ADMIN key)",
    )
    deploy.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="HTTP timeout per request (default 60)",
    )
    add_global_options(deploy, {"rpc", "json", "debug", "verbose"})
    deploy.set_defaults(handler=guarded(run_deploy))


def _out(line: str = "") -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, flush=True)


def environment(services: DevnetServices) -> dict[str, str]:
    """The variables that point the SDK and the ``ogpu`` commands at this devnet, with one
    funded key per role (DEVNET KEYS ONLY). No I/O."""
    import ogpu.devnet as accounts

    env = {
        "OGPU_CHAIN": "devnet",
        "OGPU_RPC_URL": services.rpc_url,
        "OGPU_IPFS_BACKEND": "devnet",
        "OGPU_IPFS_API_URL": services.store_url,
    }
    for name, group in ROLE_KEYS:
        env[name] = getattr(accounts, group)[0].key_hex
    return env


def write_env_file(path: Path, env: dict[str, str], rpc_url: str) -> None:
    """Write ``export NAME=value`` lines to ``path`` (atomically), unless it exists and was
    not written by ``ogpu devnet``.

    Raises:
        CommandError: the file belongs to someone else, or cannot be written.
    """
    if path.exists():
        try:
            first = path.read_text("utf-8", errors="replace").partition("\n")[0]
        except OSError as exc:
            raise CommandError(
                f"cannot read --env-file {path}: {exc.strerror}", kind="input"
            ) from None
        if not first.startswith(ENV_FILE_MARK):
            raise CommandError(
                f"--env-file {path} exists and was not written by `ogpu devnet`; "
                "not overwriting it (pick another path or delete it)",
                kind="input",
            )
    lines = [f"{ENV_FILE_MARK} for {rpc_url}: PUBLIC devnet keys, never use them elsewhere."]
    lines += [f"export {name}={value}" for name, value in env.items()]
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text("\n".join(lines) + "\n", "utf-8")
        os.replace(temp, path)
    except OSError as exc:
        raise CommandError(
            f"cannot write --env-file {path}: {exc.strerror or exc}", kind="input"
        ) from None


def _describe(services: DevnetServices, args: argparse.Namespace, env: dict[str, str]) -> None:
    from ogpu.devnet.serve import iter_accounts

    deployment = services.devnet.deployment
    addresses = json.loads(deployment.to_json())
    accounts = list(iter_accounts(services))
    if args.json:
        _out(
            json.dumps(
                {
                    "chain_id": services.devnet.chain_id,
                    "rpc_url": services.rpc_url,
                    "store_url": services.store_url,
                    "gateway_url": services.gateway_url,
                    "state_file": str(services.state_file) if services.state_file else None,
                    "loaded_state": services.loaded_state,
                    "env_file": args.env_file,
                    "block_number": services.block_number(),
                    "call_gas_cap": services.dispatcher.call_gas_cap,
                    "mainnet_faults": (
                        None
                        if services.rpc_server.faults is None
                        else {
                            "share": services.rpc_server.faults.share,
                            "seed": services.rpc_server.faults.seed,
                        }
                    ),
                    "deployment": addresses,
                    "accounts": [
                        {"label": label, "address": address, "private_key": key}
                        for label, address, key in accounts
                    ],
                    "env": env,
                },
                sort_keys=True,
            )
        )
        return
    _out(f"ogpu devnet: chain id {services.devnet.chain_id}, block {services.block_number()}")
    _out()
    _out(f"JSON-RPC:       {services.rpc_url}")
    _out(f"Content store:  {services.store_url}")
    _out("                POST /api/v0/add, POST /file/create, GET /ipfs/<cid>")
    _out(f"Gateway links:  {services.gateway_url}/ipfs/<cid>")
    _out(f"eth_call gas:   at most {services.dispatcher.call_gas_cap}")
    faults = services.rpc_server.faults
    if faults is not None:
        _out(f"Mainnet faults: {faults.share:g} of requests (seed {faults.seed})")
    if services.state_file is not None:
        origin = "loaded from" if services.loaded_state else "new; will be saved to"
        _out(f"State:          {origin} {services.state_file}")
    _out()
    _out("Contracts:")
    for name in ("nexus", "controller", "terminal", "vault", "manager"):
        _out(f"  {name.upper():<12}{addresses[name]}")
    for name in ("source_factory", "task_factory", "response_factory"):
        _out(f"  {name:<18}{addresses[name]}")
    _out()
    _out("Accounts (DEVNET ONLY: these private keys are public; never use them elsewhere):")
    for label, address, key in accounts:
        _out(f"  {label:<12}{address}  {key}")
    _out()
    written = f" (also written to {args.env_file})" if args.env_file else ""
    _out(f"Point the SDK and the ogpu commands at this devnet{written}:")
    for name, value in env.items():
        _out(f"  export {name}={value}")
    _out()
    if ENV_READY not in os.environ:
        _out("Press Ctrl-C to stop.")


def _listen_error(exc: Any) -> CommandError:
    flag = _FLAGS.get(exc.service, "--port")
    return CommandError(
        f"{exc}; pass {flag} PORT, or {flag} 0 for any free port",
        kind="listen",
    )


def run_devnet(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; save ``--state``; return 0. Raises CommandError."""
    from ogpu.devnet.deploy import DevnetError
    from ogpu.devnet.faults import MainnetFaults
    from ogpu.devnet.serve import ListenError, start_services

    check_detach(args)
    if args.detach:
        return detach(args, "devnet")
    store_port = args.store_port
    if store_port is None:
        store_port = 0 if args.port == 0 else DEFAULT_STORE_PORT
    env_file = Path(args.env_file) if args.env_file else None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handled = (signal.SIGINT, signal.SIGTERM)
    previous: dict[int, Any] = {sig: signal.signal(sig, on_signal) for sig in handled}
    try:
        try:
            with stage(args, "starting the devnet (deploying the contract suite)"):
                services = start_services(
                    host=args.host,
                    port=args.port,
                    store_port=store_port,
                    state_file=args.state,
                    block_time=args.block_time,
                    max_upload=args.max_upload,
                    gateway_url=args.gateway_url,
                    call_gas_cap=args.call_gas_cap,
                    mainnet_faults=(
                        MainnetFaults(args.mainnet_faults, seed=args.faults_seed)
                        if args.mainnet_faults
                        else None
                    ),
                )
        except ListenError as exc:
            raise _listen_error(exc) from None
        except DevnetError as exc:
            raise CommandError(str(exc), kind="input") from None
        except OSError as exc:
            raise CommandError(f"cannot start the devnet: {exc.strerror or exc}") from None
        try:
            env = environment(services)
            if env_file is not None:
                write_env_file(env_file, env, services.rpc_url)
            _describe(services, args, env)
            signal_ready({"rpc_url": services.rpc_url, "store_url": services.store_url})
            while not stop.wait(0.1):
                pass
        finally:
            try:
                saved = services.stop()
            except DevnetError as exc:
                raise CommandError(f"stopped, but saving the state failed: {exc}") from None
        if saved is not None:
            print(f"state saved to {saved}", file=sys.stderr)
        if not args.json:
            print("ogpu devnet stopped", file=sys.stderr)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _read_key(path: str) -> bytes:
    warn_exposed_key_file(path)
    try:
        text = Path(path).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read key file {path}: {exc}") from None
    if not _KEY_RE.match(text):
        raise CommandError(f"key file {path} does not hold a 32-byte hex private key")
    return bytes.fromhex(text.removeprefix("0x"))


def run_deploy(args: argparse.Namespace) -> int:
    """Deploy the suite on ``--rpc``; print the addresses; return 0. Raises CommandError."""
    from eth_account import Account
    from web3 import HTTPProvider, Web3

    from ogpu.cli._errors import Target
    from ogpu.devnet import ADMIN, DevnetError, deploy_suite

    if not args.rpc:
        raise CommandError(
            "`ogpu devnet deploy` needs --rpc URL (the node to deploy to)",
            kind="usage",
            exit_code=2,
        )
    args.target = Target("unknown", "--rpc", args.rpc)

    key = _read_key(args.key_file) if args.key_file else ADMIN.key
    try:
        deployer = Account.from_key(key)
    except (ValueError, TypeError):
        raise CommandError("the key is not a valid secp256k1 private key") from None
    w3 = Web3(HTTPProvider(args.rpc, request_kwargs={"timeout": args.timeout}))
    chain_id = w3.eth.chain_id  # an unreachable node: explained by the error presenter
    balance = w3.eth.get_balance(deployer.address)
    if balance == 0:
        raise CommandError(
            f"the deployer {deployer.address} has no funds on chain {chain_id} at {args.rpc}; "
            "fund it first (ganache: --wallet.accounts '<key>,<balance in wei>')"
        )
    try:
        with stage(args, f"deploying the contract suite on chain {chain_id}"):
            deployment = deploy_suite(w3, deployer)
    except DevnetError as exc:
        raise CommandError(f"deployment failed: {exc}") from None
    if args.json:
        _out(deployment.to_json())
        return 0
    addresses = json.loads(deployment.to_json())
    _out(f"Deployed on chain {chain_id} at {args.rpc} by {deployer.address}:")
    for name in (
        "nexus",
        "controller",
        "terminal",
        "vault",
        "manager",
        "source_factory",
        "task_factory",
        "response_factory",
    ):
        _out(f"  {name:<18}{addresses[name]}")
    _out(f"  {'block_number':<18}{addresses['block_number']}")
    return 0
