"""``ogpu task show|publish|cancel|confirm|watch``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ogpu.cli import _common as common
from ogpu.cli._output import add_quiet
from ogpu.cli._progress import stage
from ogpu.cli._task_watch import watch, watch_arguments
from ogpu.cli.base import CommandError, Leaf
from ogpu.types import Role

__all__ = ["SUBCOMMANDS", "task_info_from", "task_summary"]

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


def _target(doc: dict[str, Any], path: str, source: str | None) -> str:
    if source is not None:
        return common.address_option(source, "--source")
    if "source" not in doc:
        raise CommandError(f"{path}: no source (set `source` or pass --source)", kind="input")
    value = common.field(doc, path, "source", str, what="an address string")
    try:
        return common.address_option(value, "source")
    except CommandError as exc:
        raise CommandError(f"{path}: {exc}", kind="input") from None


def _expiry(doc: dict[str, Any], path: str, now: int) -> int:
    if "expiryTime" in doc and "expiresIn" in doc:
        raise CommandError(f"{path}: give expiryTime or expiresIn, not both", kind="input")
    seconds = "a whole number of seconds"
    if "expiryTime" in doc:
        return int(common.field(doc, path, "expiryTime", int, what=f"{seconds} (Unix time)"))
    return now + int(common.field(doc, path, "expiresIn", int, 3600, what=f"{seconds} from now"))


def task_info_from(doc: dict[str, Any], path: str, source: str | None, now: int) -> Any:
    """Build a ``TaskInfo`` from a parsed task file (``source``, from ``--source``,
    overrides the file's). No I/O.

    Raises:
        CommandError: unknown or missing keys, values of the wrong type, a bad
            ``--source`` (blamed on the option) or a bad file value (blamed on the file).
    """
    from ogpu.types import OGPUError, TaskInfo, TaskInput

    unknown = sorted(set(doc) - set(_FIELDS))
    if unknown:
        raise CommandError(
            f"{path}: unknown keys {unknown}; allowed: {', '.join(_FIELDS)}", kind="input"
        )
    target = _target(doc, path, source)
    if "payment" not in doc:
        raise CommandError(f"{path}: missing payment", kind="input")
    config = common.field(doc, path, "config", dict, what="a table (function_name, data)")
    if config is None:
        raise CommandError(
            f"{path}: missing the [config] table (function_name, data)", kind="input"
        )
    function = common.field(config, path, "function_name", str, "", what="a string (config)")
    data = common.field(config, path, "data", dict, {}, what="a table (config)")
    expiry = _expiry(doc, path, now)
    extra = {k: v for k, v in config.items() if k not in ("function_name", "data")}
    try:
        return TaskInfo(
            source=target,
            config=TaskInput(function, data, **extra),
            expiryTime=expiry,
            payment=common.parse_amount(doc["payment"], f"{path}: payment"),
        )
    except OGPUError as exc:
        raise CommandError(f"{path}: {common.cli_text(str(exc))}", kind="input") from None


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
        "payment": common.amount(snap.payment),
        "expiry_time": common.moment(snap.expiry_time),
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
        ("Payment", common.format_amount(snap.payment)),
        ("Expires", common.format_time(snap.expiry_time)),
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


# -- show / publish / cancel / confirm -----------------------------------------------------------


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
    add_quiet(parser)
    common.add_key_file(parser, Role.CLIENT)
    common.add_common(parser)


def _publish(args: argparse.Namespace) -> int:
    from ogpu.client import publish_task

    doc = common.read_document(args.file)
    if args.source is not None:
        common.address_option(args.source, "--source")
    signer = common.load_signer(args, Role.CLIENT)
    common.connect(args)
    info = task_info_from(doc, args.file, args.source, common.chain_now())
    with stage(args, "publishing the task (config upload, transaction)"):
        task = publish_task(info, signer=signer, validate=args.validate)
    common.output(
        args,
        {
            "address": task.address,
            "source": info.source,
            "payment": common.amount(info.payment),
            "expiry_time": common.moment(info.expiryTime),
            "client": signer.address,
        },
        [
            ("Published task", task.address),
            ("Source", info.source),
            ("Payment", common.format_amount(info.payment)),
            ("Expires", common.format_time(info.expiryTime)),
        ],
    )
    return 0


def _write_args(what: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("address", help=what)
        common.add_key_file(parser, Role.CLIENT)
        common.add_common(parser)

    return add


def _cancel(args: argparse.Namespace) -> int:
    from ogpu.client import Task, cancel_task

    signer = common.load_signer(args, Role.CLIENT)
    common.connect(args)
    with stage(args, "canceling the task (transaction)"):
        receipt = cancel_task(args.address, signer=signer)
    status = Task(args.address).get_status()
    common.output(
        args,
        {"address": Task(args.address).address, "status": status, "tx_hash": receipt.tx_hash},
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
            "pass the response address to confirm",
            kind="input",
        )
    return pending[0].address


def _confirm(args: argparse.Namespace) -> int:
    from ogpu.client import Response, confirm_response

    signer = common.load_signer(args, Role.CLIENT)
    common.connect(args)
    response = _response_to_confirm(args.address)
    with stage(args, "confirming the response (transaction)"):
        receipt = confirm_response(response, signer=signer)
    task = Response(response).get_task()
    status = task.get_status()
    common.output(
        args,
        {
            "address": task.address,
            "response": response,
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


#: The ``ogpu task`` leaves (see :data:`ogpu.cli.base.Leaf`).
SUBCOMMANDS: list[Leaf] = [
    common.show_leaf(
        "task",
        "show a task's on-chain state and responses",
        "task contract address",
        task_summary,
        metadata="also fetch the task config JSON (one HTTP GET)",
    ),
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
        watch_arguments,
        watch,
    ),
]
