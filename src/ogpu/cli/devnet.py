"""``ogpu devnet``: run the local chain and content store; ``ogpu devnet deploy``: deploy the suite.

``ogpu devnet [--host H] [--port P] [--store-port P] [--state FILE] [--block-time S]
[--call-gas-cap GAS] [--mainnet-faults SHARE [--faults-seed N]]`` serves the in-process
devnet over JSON-RPC and the content store until SIGINT/SIGTERM, then saves
``--state`` (if given) and exits 0.

``ogpu devnet deploy --rpc URL [--key-file F] [--json]`` deploys and wires the
contract suite on any standard node, signing locally with the key from
``--key-file`` (default: the devnet ADMIN key, which the node must have funded).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ogpu.cli._common import warn_exposed_key_file
from ogpu.cli.base import CommandError, SubParsers

if TYPE_CHECKING:
    from ogpu.devnet.serve import DevnetServices

__all__ = ["register", "run_deploy", "run_devnet"]

_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_SIZE_RE = re.compile(r"^(\d+)\s*([kKmMgG]i?[bB]?|[bB])?$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"seconds must be > 0 and < 86400, got {text!r}")
    return value


def _size(text: str) -> int:
    match = _SIZE_RE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size (e.g. 10MiB, 512k, 1048576): {text!r}")
    value = int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "")[:1].lower()]
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a share (e.g. 0.2): {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"share must be > 0 and <= 1, got {text!r}")
    return value


def _gas(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount of gas: {text!r}") from None
    if value < 21_000:
        raise argparse.ArgumentTypeError(f"gas cap must be at least 21000, got {text!r}")
    return value


def register(subparsers: SubParsers) -> None:
    """Add ``devnet`` (and ``devnet deploy``) to the ``ogpu`` parser. No I/O."""
    parser = subparsers.add_parser(
        "devnet",
        help="run a local OpenGPU chain (JSON-RPC) and content store",
        description=(
            "Run the in-process devnet (chain id 1337, suite deployed, funded accounts) "
            "as a JSON-RPC node plus a content store (IPFS API /api/v0/add, OGPU "
            "/file/create, gateway /ipfs/<cid>). Ctrl-C stops it."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8545, help="JSON-RPC port (default 8545; 0 = any free)"
    )
    parser.add_argument(
        "--store-port",
        type=_port,
        default=5001,
        help="content store port (default 5001; 0 = any free)",
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
        "--json", action="store_true", help="print the startup details as one JSON line"
    )
    parser.set_defaults(handler=run_devnet)

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
    deploy.add_argument("--rpc", required=True, metavar="URL", help="the node's JSON-RPC URL")
    deploy.add_argument(
        "--key-file",
        metavar="FILE",
        help="file holding the deployer's hex private key (default: the devnet ADMIN key)",
    )
    deploy.add_argument("--json", action="store_true", help="print the deployment as JSON")
    deploy.add_argument(
        "--timeout", type=_seconds, default=60.0, metavar="S", help="HTTP timeout per request"
    )
    deploy.set_defaults(handler=run_deploy)


def _out(line: str = "") -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, flush=True)


def _describe(services: DevnetServices, as_json: bool) -> None:
    from ogpu.devnet.serve import iter_accounts

    deployment = services.devnet.deployment
    addresses = json.loads(deployment.to_json())
    accounts = list(iter_accounts(services))
    if as_json:
        _out(
            json.dumps(
                {
                    "chain_id": services.devnet.chain_id,
                    "rpc_url": services.rpc_url,
                    "store_url": services.store_url,
                    "gateway_url": services.gateway_url,
                    "state_file": str(services.state_file) if services.state_file else None,
                    "loaded_state": services.loaded_state,
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
    _out("Press Ctrl-C to stop.")


def run_devnet(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; save ``--state``; return 0. Raises CommandError."""
    from ogpu.devnet.deploy import DevnetError
    from ogpu.devnet.faults import MainnetFaults
    from ogpu.devnet.serve import start_services

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handled = (signal.SIGINT, signal.SIGTERM)
    previous: dict[int, Any] = {sig: signal.signal(sig, on_signal) for sig in handled}
    try:
        try:
            services = start_services(
                host=args.host,
                port=args.port,
                store_port=args.store_port,
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
        except DevnetError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot listen on {args.host}: {exc.strerror or exc}") from None
        try:
            _describe(services, bool(args.json))
            while not stop.wait(0.25):
                pass
        finally:
            try:
                saved = services.stop()
            except DevnetError as exc:
                raise CommandError(f"stopped, but saving the state failed: {exc}") from None
        if saved is not None:
            print(f"state saved to {saved}", file=sys.stderr)
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

    from ogpu.devnet import ADMIN, DevnetError, deploy_suite

    key = _read_key(args.key_file) if args.key_file else ADMIN.key
    try:
        deployer = Account.from_key(key)
    except (ValueError, TypeError):
        raise CommandError("the key is not a valid secp256k1 private key") from None
    w3 = Web3(HTTPProvider(args.rpc, request_kwargs={"timeout": args.timeout}))
    try:
        chain_id = w3.eth.chain_id
        balance = w3.eth.get_balance(deployer.address)
    except Exception as exc:
        raise CommandError(f"cannot reach a JSON-RPC node at {args.rpc}: {exc}") from None
    if balance == 0:
        raise CommandError(
            f"the deployer {deployer.address} has no funds on chain {chain_id} at {args.rpc}; "
            "fund it first (ganache: --wallet.accounts '<key>,<balance in wei>')"
        )
    try:
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
