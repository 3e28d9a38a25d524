"""``ogpu provider show``; ``ogpu provider run``: the provider runtime against a source service.

``ogpu provider run`` serves the given sources' tasks with the source service
at ``--service-url`` (see :mod:`ogpu.provider`): start the service with
``CALLBACK_URL`` set to the runtime's callback URL (printed at start;
``http://127.0.0.1:8600/callback`` by default). It runs until Ctrl-C/SIGTERM
(or ``--exit-after N`` finished tasks) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from types import FrameType
from typing import Any

from ogpu.cli._common import (
    add_common,
    add_key_file,
    add_subcommands,
    connect,
    format_amount,
    load_signer,
    output,
    parse_amount,
)
from ogpu.cli.base import CommandError, SubParsers
from ogpu.types import Role

__all__ = ["DEFAULT_CALLBACK_PORT", "provider_summary", "register"]

DEFAULT_CALLBACK_PORT = 8600


def provider_summary(address: str, with_sources: bool) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of a provider. One aggregated ``eth_call``; with sources,
    one more per ~600 sources plus one.

    Raises:
        InvalidAddressError, RPCError.
    """
    from ogpu.protocol import Provider

    provider = Provider(address)
    snap = provider.snapshot()
    data: dict[str, Any] = {
        "address": snap.address,
        "is_provider": snap.is_provider,
        "master": snap.master,
        "base_data": snap.base_data,
        "live_data": snap.live_data,
        "default_agent_disabled": snap.default_agent_disabled,
        "balance": snap.balance,
        "lockup": snap.lockup,
        "unbonding": snap.unbonding,
        "total_earnings": snap.total_earnings,
        "frozen_payment": snap.frozen_payment,
        "is_eligible": snap.is_eligible,
        "block_number": snap.block_number,
    }
    lines: list[Any] = [
        ("Provider", snap.address),
        ("Announced", snap.is_provider),
        ("Master", snap.master),
        ("Lockup", format_amount(snap.lockup)),
        ("Balance", format_amount(snap.balance)),
        ("Unbonding", format_amount(snap.unbonding)),
        ("Total earnings", format_amount(snap.total_earnings)),
        ("Eligible", snap.is_eligible),
        ("Default agent off", snap.default_agent_disabled),
        ("Base data", snap.base_data or "-"),
        ("Live data", snap.live_data or "-"),
    ]
    if with_sources:
        sources = [s.address for s in provider.get_registered_sources()]
        data["sources"] = sources
        lines.append(("Sources", sources))
    return data, lines


def _show_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="provider address")
    parser.add_argument(
        "--sources",
        action="store_true",
        help="also list the sources it is registered to (scans every source)",
    )
    add_common(parser)


def _show(args: argparse.Namespace) -> int:
    connect(args)
    data, lines = provider_summary(args.address, args.sources)
    output(args, data, lines)
    return 0


# -- run -----------------------------------------------------------------------------------------


def _run_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service-url",
        default="http://127.0.0.1:5555",
        metavar="URL",
        help="the source service (default http://127.0.0.1:5555)",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a source to serve (repeatable; default: every source the provider is registered to)",
    )
    parser.add_argument(
        "--register",
        action="store_true",
        help="pair with the master (MASTER_PRIVATE_KEY / --master-key-file) if needed and "
        "register to each --source",
    )
    parser.add_argument(
        "--master-key-file", metavar="FILE", help="master key for pairing (with --register)"
    )
    parser.add_argument(
        "--scheduler-key-file",
        metavar="FILE",
        help="key of the master or an agent of it, to sign registrations and attempts "
        "(default: the provider key)",
    )
    parser.add_argument(
        "--stake", default="1 OGPU", help="lockup the master funds when pairing (default 1 OGPU)"
    )
    parser.add_argument(
        "--env", choices=("cpu", "nvidia", "amd"), default="cpu", help="registration environment"
    )
    parser.add_argument("--callback-host", default="127.0.0.1", help="callback server bind address")
    parser.add_argument(
        "--callback-port",
        type=int,
        default=DEFAULT_CALLBACK_PORT,
        help=f"callback server port (default {DEFAULT_CALLBACK_PORT}; 0 = any free port)",
    )
    parser.add_argument(
        "--callback-url",
        metavar="URL",
        help="callback base URL as the service sees it (e.g. http://host.docker.internal:8600/callback)",
    )
    parser.add_argument("--poll-interval", type=float, default=1.0, metavar="S")
    parser.add_argument("--max-tasks", type=int, default=4, metavar="N", help="tasks at once")
    parser.add_argument("--result-timeout", type=float, default=300.0, metavar="S")
    parser.add_argument(
        "--fetch-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds to read a task and fetch its config, whatever the server does",
    )
    parser.add_argument(
        "--fetch-allow",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a non-public origin (http://10.0.0.5:8080) or network (10.0.0.0/8) task "
        "configs may be fetched from; the configured IPFS gateway always is (repeatable)",
    )
    parser.add_argument(
        "--exit-after", type=int, metavar="N", help="stop after N tasks were submitted or failed"
    )
    add_key_file(parser, Role.PROVIDER)
    add_common(parser)


def _key_from(path: str | None, role: Role) -> Any:
    if path is None:
        return None
    return load_signer(argparse.Namespace(key_file=path), role)


def _print_event(args: argparse.Namespace, event: Any) -> None:
    if args.json:
        print(json.dumps(event.to_dict(), default=str), flush=True)
        return
    where = f" {event.task[:10]}…" if event.task else ""
    timing = f" (+{event.elapsed:.2f}s)" if event.task else ""
    print(f"[{event.kind:>10}]{where} {event.message}{timing}", flush=True)


def _run(args: argparse.Namespace) -> int:
    from ogpu.protocol import Provider
    from ogpu.provider import ProviderRuntime, RuntimeSettings, prepare_provider
    from ogpu.types import Environment

    provider = load_signer(args, Role.PROVIDER)
    scheduler = _key_from(args.scheduler_key_file, Role.AGENT)
    stake = parse_amount(args.stake, "--stake")
    if args.exit_after is not None and args.exit_after < 1:
        raise CommandError("--exit-after must be >= 1")
    settings = RuntimeSettings(
        service_url=args.service_url,
        callback_host=args.callback_host,
        callback_port=args.callback_port,
        callback_url=args.callback_url,
        poll_interval=args.poll_interval,
        max_concurrent_tasks=args.max_tasks,
        result_timeout=args.result_timeout,
        fetch_timeout=args.fetch_timeout,
        fetch_allow=tuple(args.fetch_allow),
    )
    connect(args)
    sources = list(args.source)
    if args.register:
        if not sources:
            raise CommandError("--register needs at least one --source")
        master = None
        if args.master_key_file:
            master = _key_from(args.master_key_file, Role.MASTER)
        prepare_provider(
            provider,
            sources,
            master=master,
            scheduler=scheduler,
            stake=stake,
            env=Environment[args.env.upper()],
            on_step=lambda text: print(f"[     setup] {text}", flush=True),
        )
    if not sources:
        sources = [s.address for s in Provider(provider.address).get_registered_sources()]
        if not sources:
            raise CommandError(
                f"provider {provider.address} is registered to no source; "
                "pass --source ADDRESS --register"
            )
    finished = threading.Event()
    done = 0
    lock = threading.Lock()

    def on_event(event: Any) -> None:
        nonlocal done
        _print_event(args, event)
        if args.exit_after is not None and event.kind in ("submitted", "failed"):
            with lock:
                done += 1
                if done >= args.exit_after:
                    finished.set()

    runtime = ProviderRuntime(
        provider, settings, scheduler=scheduler, sources=sources, on_event=on_event
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        finished.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        runtime.run_forever(finished)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    stats = runtime.stats()
    if not args.json:
        print(
            "provider runtime stopped: "
            + ", ".join(f"{name} {count}" for name, count in stats.items()),
            flush=True,
        )
    return 0


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu provider show|run``. No I/O."""
    add_subcommands(
        subparsers,
        "provider",
        "read providers; run the provider runtime against a source service",
        [
            ("show", "show a provider's pairing, vault state and sources", _show_args, _show),
            (
                "run",
                "serve sources' tasks with a source service (watch, attempt, /run, callback, "
                "pin, submit) until Ctrl-C",
                _run_args,
                _run,
            ),
        ],
    )
