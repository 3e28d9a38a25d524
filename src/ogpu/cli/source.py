"""``ogpu source show|publish``: read a source; publish one from a JSON or TOML file.

Source file (JSON or TOML; amounts in wei or strings like ``"0.01 OGPU"``)::

    name = "sentiment-analyzer"
    description = "Lexicon-based sentiment analysis"
    logoUrl = "https://example.com/logo.png"
    minPayment = "0.001 OGPU"
    minAvailableLockup = 0
    maxExpiryDuration = 3600
    deliveryMethod = "FIRST_RESPONSE"        # or "MANUAL_CONFIRMATION" (default)
    [imageEnvs]
    cpu = "https://example.com/docker-compose.yml"
"""

from __future__ import annotations

import argparse
from typing import Any

from ogpu.cli import command_help
from ogpu.cli._common import (
    add_common,
    add_key_file,
    add_subcommands,
    amount,
    cli_text,
    connect,
    field,
    format_amount,
    format_time,
    load_signer,
    moment,
    output,
    parse_amount,
    read_document,
)
from ogpu.cli._output import add_quiet
from ogpu.cli._progress import stage
from ogpu.cli.base import CommandError, SubParsers
from ogpu.types import Role

__all__ = ["register", "source_info_from", "source_summary"]

EXAMPLE = """example source.toml (amounts in wei or "0.01 OGPU", "10 gwei"):

  name = "sentiment-analyzer"
  description = "Lexicon-based sentiment analysis"
  logoUrl = "https://example.com/logo.png"
  minPayment = "0.001 OGPU"
  minAvailableLockup = 0
  maxExpiryDuration = 3600
  deliveryMethod = "FIRST_RESPONSE"      # or "MANUAL_CONFIRMATION" (default)

  [imageEnvs]                            # at least one of cpu, nvidia, amd
  cpu = "https://example.com/docker-compose.yml"
"""

_FIELDS = (
    "name",
    "description",
    "logoUrl",
    "imageEnvs",
    "minPayment",
    "minAvailableLockup",
    "maxExpiryDuration",
    "deliveryMethod",
    "privacyEnabled",
    "optionalParamsUrl",
)


def _delivery(value: object, path: str) -> Any:
    from ogpu.types import DeliveryMethod

    if isinstance(value, str):
        try:
            return DeliveryMethod[value.strip().upper()]
        except KeyError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return DeliveryMethod(value)
        except ValueError:
            pass
    names = ", ".join(m.name for m in DeliveryMethod if m.name)
    raise CommandError(
        f"{path}: deliveryMethod must be one of {names}, got {value!r}", kind="input"
    )


def source_info_from(doc: dict[str, Any], path: str) -> Any:
    """Build a ``SourceInfo`` from a parsed source file. No I/O.

    Raises:
        CommandError: unknown or missing keys, values of the wrong type, bad amounts.
    """
    from ogpu.types import ImageEnvironments, OGPUError, SourceInfo

    unknown = sorted(set(doc) - set(_FIELDS))
    if unknown:
        raise CommandError(
            f"{path}: unknown keys {unknown}; allowed: {', '.join(_FIELDS)}", kind="input"
        )
    missing = [k for k in ("name", "imageEnvs", "maxExpiryDuration") if k not in doc]
    if missing:
        raise CommandError(f"{path}: missing {', '.join(missing)}", kind="input")
    envs = field(doc, path, "imageEnvs", dict, what="a table of cpu/nvidia/amd compose URLs")
    if set(envs) - {"cpu", "nvidia", "amd"} or not all(isinstance(v, str) for v in envs.values()):
        raise CommandError(
            f"{path}: imageEnvs must be a table of cpu/nvidia/amd compose URLs", kind="input"
        )
    expiry = field(doc, path, "maxExpiryDuration", int, what="a whole number of seconds")
    try:
        return SourceInfo(
            name=field(doc, path, "name", str),
            description=field(doc, path, "description", str, ""),
            logoUrl=field(doc, path, "logoUrl", str, ""),
            imageEnvs=ImageEnvironments(**envs),
            minPayment=parse_amount(doc.get("minPayment", 0), f"{path}: minPayment"),
            minAvailableLockup=parse_amount(
                doc.get("minAvailableLockup", 0), f"{path}: minAvailableLockup"
            ),
            maxExpiryDuration=expiry,
            deliveryMethod=_delivery(doc.get("deliveryMethod", "MANUAL_CONFIRMATION"), path),
            privacyEnabled=field(doc, path, "privacyEnabled", bool, False),
            optionalParamsUrl=field(doc, path, "optionalParamsUrl", str, ""),
        )
    except OGPUError as exc:
        raise CommandError(f"{path}: {cli_text(str(exc))}", kind="input") from None


def source_summary(address: str, with_metadata: bool) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of a source. One ``eth_call``, plus one HTTP GET for metadata.

    Raises:
        SourceNotFoundError, RPCError, IPFSError subclasses.
    """
    from ogpu.protocol import Source

    snap = Source.load(address).snapshot()
    params = snap.params
    data: dict[str, Any] = {
        "address": snap.address,
        "client": snap.client,
        "status": snap.status,
        "environments": params.imageEnvironments,
        "delivery_method": params.deliveryMethod,
        "min_payment": amount(params.minPayment),
        "min_available_lockup": amount(params.minAvailableLockup),
        "max_expiry_duration_seconds": params.maxExpiryDuration,
        "metadata_url": params.imageMetadataUrl,
        "privacy_enabled": params.privacyEnabled,
        "optional_params_url": params.optionalParamsUrl,
        "last_update_time": moment(params.lastUpdateTime),
        "task_count": snap.task_count,
        "registrant_count": snap.registrant_count,
        "block_number": snap.block_number,
    }
    lines: list[Any] = [
        ("Source", snap.address),
        ("Client", snap.client),
        ("Status", snap.status),
        ("Environments", params.imageEnvironments),
        ("Delivery", params.deliveryMethod),
        ("Min payment", format_amount(params.minPayment)),
        ("Min lockup", format_amount(params.minAvailableLockup)),
        ("Max expiry", f"{params.maxExpiryDuration} s"),
        ("Metadata URL", params.imageMetadataUrl),
        ("Updated", format_time(params.lastUpdateTime)),
        ("Tasks", snap.task_count),
        ("Registrants", snap.registrant_count),
    ]
    if with_metadata:
        metadata = Source(snap.address).get_metadata()
        data["metadata"] = metadata
        lines.append(("Metadata", metadata))
    return data, lines


def _show_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="source contract address")
    parser.add_argument(
        "--metadata", action="store_true", help="also fetch the metadata JSON (one HTTP GET)"
    )
    add_common(parser)


def _show(args: argparse.Namespace) -> int:
    connect(args)
    with stage(args, "reading the source", slow_only=True):
        data, lines = source_summary(args.address, args.metadata)
    output(args, data, lines)
    return 0


def _publish_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="source description, .json or .toml (see below)")
    parser.epilog = EXAMPLE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_quiet(parser)
    add_key_file(parser, Role.CLIENT)
    add_common(parser)


def _publish(args: argparse.Namespace) -> int:
    from ogpu.client import publish_source

    info = source_info_from(read_document(args.file), args.file)
    signer = load_signer(args, Role.CLIENT)
    connect(args)
    with stage(args, "publishing the source (metadata upload, transaction)"):
        source = publish_source(info, signer=signer)
    output(
        args,
        {"address": source.address, "client": signer.address},
        [("Published source", source.address), ("Client", signer.address)],
    )
    return 0


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu source show|publish``. No I/O."""
    add_subcommands(
        subparsers,
        "source",
        command_help("source"),
        [
            ("show", "show a source's on-chain state", _show_args, _show),
            (
                "publish",
                "publish a source described in a JSON/TOML file (signs with CLIENT_PRIVATE_KEY)",
                _publish_args,
                _publish,
            ),
        ],
    )
