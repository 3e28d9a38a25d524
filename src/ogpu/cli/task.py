"""``ogpu task show|publish|cancel|confirm|watch``."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from ogpu.cli._common import (
    add_common,
    add_key_file,
    add_subcommands,
    chain_now,
    connect,
    format_amount,
    jsonable,
    load_signer,
    output,
    parse_amount,
    read_document,
)
from ogpu.cli.base import CommandError, SubParsers
from ogpu.types import Role

__all__ = ["register", "task_info_from", "task_summary"]

EXAMPLE = """example task.toml (payment in wei or "0.01 OGPU"; expiry as expiresIn seconds
from now, default 3600, or an absolute expiryTime). When the source publishes a
manifest, the function and data are checked against it before anything is paid:

  source = "0xSOURCE"
  payment = "0.01 OGPU"
  expiresIn = 600

  [config]                      # the task config: function_name, data, extra keys
  function_name = "predict"
  [config.data]
  text = "what a great day"
"""

_FIELDS = ("source", "payment", "expiresIn", "expiryTime", "config")
_TERMINAL = ("FINALIZED", "CANCELED", "EXPIRED")


def task_info_from(doc: dict[str, Any], path: str, source: str | None, now: int) -> Any:
    """Build a ``TaskInfo`` from a parsed task file (``source`` overrides the file's). No I/O.

    Raises:
        CommandError: unknown or missing keys, bad values.
    """
    from ogpu.types import OGPUError, TaskInfo, TaskInput

    unknown = sorted(set(doc) - set(_FIELDS))
    if unknown:
        raise CommandError(f"{path}: unknown keys {unknown}; allowed: {', '.join(_FIELDS)}")
    target = source or doc.get("source")
    if not isinstance(target, str):
        raise CommandError(f"{path}: no source (set `source` or pass --source)")
    if "payment" not in doc:
        raise CommandError(f"{path}: missing payment")
    config = doc.get("config")
    if not isinstance(config, dict):
        raise CommandError(f"{path}: missing the [config] table (function_name, data)")
    if "expiryTime" in doc and "expiresIn" in doc:
        raise CommandError(f"{path}: give expiryTime or expiresIn, not both")
    expiry = doc.get("expiryTime", now + doc.get("expiresIn", 3600))
    if isinstance(expiry, bool) or not isinstance(expiry, int):
        raise CommandError(f"{path}: expiryTime/expiresIn must be whole seconds")
    extra = {k: v for k, v in config.items() if k not in ("function_name", "data")}
    try:
        task_input = TaskInput(config.get("function_name", ""), config.get("data", {}), **extra)
        return TaskInfo(
            source=target,
            config=task_input,
            expiryTime=expiry,
            payment=parse_amount(doc["payment"], "payment"),
        )
    except OGPUError as exc:
        raise CommandError(f"{path}: {exc}") from None


def task_summary(address: str, with_metadata: bool) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of a task. Three or four requests, plus one HTTP GET for
    the config.

    Raises:
        TaskNotFoundError, RPCError, IPFSError subclasses.
    """
    from ogpu.protocol import Task

    task = Task.load(address)
    snap = task.snapshot()
    responses = [r.address for r in task.get_responses()]
    confirmed = task.get_confirmed_response() if responses else None
    data: dict[str, Any] = {
        "address": snap.address,
        "source": snap.source,
        "status": snap.status,
        "payment": snap.payment,
        "expiry_time": snap.expiry_time,
        "delivery_method": snap.delivery_method,
        "config_url": snap.params.config,
        "attempt_count": snap.attempt_count,
        "winning_provider": snap.winning_provider,
        "responses": responses,
        "confirmed_response": confirmed.address if confirmed else None,
        "block_number": snap.block_number,
    }
    lines: list[Any] = [
        ("Task", snap.address),
        ("Source", snap.source),
        ("Status", snap.status),
        ("Payment", format_amount(snap.payment)),
        ("Expires", f"{snap.expiry_time} ({_relative(snap.expiry_time)})"),
        ("Delivery", snap.delivery_method),
        ("Config URL", snap.params.config),
        ("Attempts", snap.attempt_count),
        ("Responses", responses),
        ("Confirmed", data["confirmed_response"] or "-"),
        ("Winner", snap.winning_provider or "-"),
    ]
    if with_metadata:
        metadata = task.get_metadata()
        data["metadata"] = metadata
        lines.append(("Config", metadata))
    return data, lines


def _relative(timestamp: int) -> str:
    delta = int(timestamp - time.time())
    return f"in {delta} s" if delta >= 0 else f"{-delta} s ago"


# -- show / publish / cancel / confirm -----------------------------------------------------------


def _show_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="task contract address")
    parser.add_argument(
        "--metadata", action="store_true", help="also fetch the task config JSON (one HTTP GET)"
    )
    add_common(parser)


def _show(args: argparse.Namespace) -> int:
    connect(args)
    data, lines = task_summary(args.address, args.metadata)
    output(args, data, lines)
    return 0


def _publish_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="task description, .json or .toml (see below)")
    parser.add_argument("--source", metavar="ADDRESS", help="source address (overrides the file)")
    parser.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="do not check the task against the source's manifest before paying",
    )
    parser.epilog = EXAMPLE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_key_file(parser, Role.CLIENT)
    add_common(parser)


def _publish(args: argparse.Namespace) -> int:
    from ogpu.client import publish_task

    doc = read_document(args.file)
    signer = load_signer(args, Role.CLIENT)
    connect(args)
    info = task_info_from(doc, args.file, args.source, chain_now())
    task = publish_task(info, signer=signer, validate=args.validate)
    output(
        args,
        {
            "task": task.address,
            "source": info.source,
            "payment": info.payment,
            "expiry_time": info.expiryTime,
            "client": signer.address,
        },
        [
            ("Published task", task.address),
            ("Source", info.source),
            ("Payment", format_amount(info.payment)),
            ("Expires", f"{info.expiryTime} ({_relative(info.expiryTime)})"),
        ],
    )
    return 0


def _write_args(what: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("address", help=what)
        add_key_file(parser, Role.CLIENT)
        add_common(parser)

    return add


def _cancel(args: argparse.Namespace) -> int:
    from ogpu.client import Task, cancel_task

    signer = load_signer(args, Role.CLIENT)
    connect(args)
    receipt = cancel_task(args.address, signer=signer)
    status = Task(args.address).get_status()
    output(
        args,
        {"task": Task(args.address).address, "status": status, "tx_hash": receipt.tx_hash},
        [("Canceled task", args.address), ("Status", status), ("Transaction", receipt.tx_hash)],
    )
    return 0


def _response_to_confirm(address: str) -> str:
    from ogpu.protocol import Response, Task
    from ogpu.types import ResponseNotFoundError, ResponseStatus

    try:
        return Response.load(address).address
    except ResponseNotFoundError:
        pass
    task = Task.load(address)
    pending = [r for r in task.get_responses() if r.get_status() == ResponseStatus.SUBMITTED]
    if len(pending) != 1:
        found = ", ".join(r.address for r in pending) or "none"
        raise CommandError(
            f"task {task.address} has {len(pending)} unconfirmed responses ({found}); "
            "pass the response address to confirm"
        )
    return pending[0].address


def _confirm(args: argparse.Namespace) -> int:
    from ogpu.client import Response, confirm_response

    signer = load_signer(args, Role.CLIENT)
    connect(args)
    response = _response_to_confirm(args.address)
    receipt = confirm_response(response, signer=signer)
    task = Response(response).get_task()
    status = task.get_status()
    output(
        args,
        {
            "response": response,
            "task": task.address,
            "status": status,
            "tx_hash": receipt.tx_hash,
        },
        [
            ("Confirmed response", response),
            ("Task", task.address),
            ("Status", status),
            ("Transaction", receipt.tx_hash),
        ],
    )
    return 0


# -- watch ---------------------------------------------------------------------------------------


def _watch_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="task contract address")
    parser.add_argument(
        "--until",
        choices=("final", "responded"),
        default="final",
        help="stop at FINALIZED/CANCELED/EXPIRED (final, default) or already at RESPONDED",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, metavar="S", help="give up after S seconds"
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, metavar="S", help="poll interval (default 1 s)"
    )
    add_common(parser)


def _print_event(args: argparse.Namespace, record: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(jsonable(record)), flush=True)
    else:
        print(text, flush=True)


async def _pump(source: AsyncIterator[Any], kind: str, queue: asyncio.Queue[Any]) -> None:
    async for event in source:
        await queue.put((kind, event))


async def _watch_loop(args: argparse.Namespace, task_address: str, start_block: int) -> str:
    from ogpu.events import watch_attempted, watch_response_submitted, watch_task_status_changed
    from ogpu.protocol import Task

    task = Task(task_address)
    stops = _TERMINAL + (("RESPONDED",) if args.until == "responded" else ())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    queue: asyncio.Queue[Any] = asyncio.Queue()
    interval = args.interval
    seen: dict[str, bool] = {}
    pumps = [
        asyncio.create_task(
            _pump(watch(task.address, from_block=start_block, poll_interval=interval), kind, queue)
        )
        for watch, kind in (
            (watch_task_status_changed, "status"),
            (watch_attempted, "attempted"),
            (watch_response_submitted, "response"),
        )
    ]

    def emit(kind: str, event: Any) -> None:
        record = {"event": kind, **jsonable(event)}
        if kind == "status":
            seen[event.status.name] = True
            text = f"block {event.block_number}: status -> {event.status.name}"
        elif kind == "attempted":
            text = f"block {event.block_number}: attempted by provider {event.provider}"
        else:
            text = f"block {event.block_number}: response {event.response} submitted"
        _print_event(args, record, text)

    async def finish(status: str) -> str:
        # One poll hands every watcher its events at once, but each pump moves them to the
        # queue on its own turn: let them run, then print what they delivered, in chain order.
        pending: list[tuple[str, Any]] = []
        idle = 0
        while idle < 3:
            await asyncio.sleep(0)
            if queue.empty():
                idle += 1
                continue
            idle = 0
            while not queue.empty():
                pending.append(queue.get_nowait())
        for kind, event in sorted(pending, key=lambda p: (p[1].block_number, p[1].log_index)):
            emit(kind, event)
        return status

    settle: float | None = None
    try:
        while True:
            if settle is None:
                status = (await asyncio.to_thread(task.get_status)).name or "?"
                if status in stops:
                    if status == "EXPIRED" or seen.get(status):
                        return await finish(status)
                    settle = loop.time() + 3 * interval + 1.0
            elif loop.time() >= settle or seen.get(status):
                return await finish(status)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise CommandError(
                    f"timed out after {args.timeout:g} s; task {task.address} is {status}"
                )
            try:
                kind, event = await asyncio.wait_for(queue.get(), min(remaining, interval))
            except asyncio.TimeoutError:
                continue
            emit(kind, event)
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


def _watch(args: argparse.Namespace) -> int:
    from ogpu.chain import Web3Manager
    from ogpu.protocol import Task

    for name in ("timeout", "interval"):
        value = getattr(args, name)
        if not 0 < value < 10**7:
            raise CommandError(f"--{name} must be a positive number of seconds")
    connect(args)
    start_block = int(Web3Manager.get_web3_instance().eth.block_number)
    task = Task.load(args.address)
    snap = task.snapshot()
    _print_event(
        args,
        {"event": "current", "task": task.address, "status": snap.status},
        f"task {task.address}: {snap.status.name} (block {snap.block_number}); watching...",
    )
    status = snap.status.name or "?"
    if status not in _TERMINAL:
        status = asyncio.run(_watch_loop(args, task.address, start_block))
    final = task.snapshot()
    confirmed = task.get_confirmed_response()
    _print_event(
        args,
        {
            "event": "final",
            "task": task.address,
            "status": status,
            "winning_provider": final.winning_provider,
            "confirmed_response": confirmed.address if confirmed else None,
        },
        f"task {task.address}: {status}"
        + (f", confirmed response {confirmed.address}" if confirmed else ""),
    )
    return 0


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu task show|publish|cancel|confirm|watch``. No I/O."""
    add_subcommands(
        subparsers,
        "task",
        "read, publish, cancel, confirm and follow tasks",
        [
            ("show", "show a task's on-chain state and responses", _show_args, _show),
            (
                "publish",
                "publish a task described in a JSON/TOML file (signs with CLIENT_PRIVATE_KEY)",
                _publish_args,
                _publish,
            ),
            (
                "cancel",
                "cancel a task no provider attempted yet (refunds the escrow)",
                _write_args("task contract address"),
                _cancel,
            ),
            (
                "confirm",
                "confirm a response (or the only unconfirmed response of a task)",
                _write_args("response address, or a task address with one unconfirmed response"),
                _confirm,
            ),
            (
                "watch",
                "follow a task's events until it is final (or responded)",
                _watch_args,
                _watch,
            ),
        ],
    )
