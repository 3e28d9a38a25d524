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

from ogpu.cli._common import (
    add_common,
    add_key_file,
    add_subcommands,
    connect,
    format_amount,
    load_signer,
    output,
    parse_amount,
    read_document,
)
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


def _delivery(value: object) -> Any:
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
    raise CommandError(f"deliveryMethod must be one of {names}, got {value!r}")


def source_info_from(doc: dict[str, Any], path: str) -> Any:
    """Build a ``SourceInfo`` from a parsed source file. No I/O.

    Raises:
        CommandError: unknown or missing keys, bad amounts or values.
    """
    from ogpu.types import ImageEnvironments, OGPUError, SourceInfo

    unknown = sorted(set(doc) - set(_FIELDS))
    if unknown:
        raise CommandError(f"{path}: unknown keys {unknown}; allowed: {', '.join(_FIELDS)}")
    missing = [k for k in ("name", "imageEnvs", "maxExpiryDuration") if k not in doc]
    if missing:
        raise CommandError(f"{path}: missing {', '.join(missing)}")
    envs = doc["imageEnvs"]
    if not isinstance(envs, dict) or set(envs) - {"cpu", "nvidia", "amd"}:
        raise CommandError(f"{path}: imageEnvs must be a table of cpu/nvidia/amd compose URLs")
    expiry = doc["maxExpiryDuration"]
    if isinstance(expiry, bool) or not isinstance(expiry, int):
        raise CommandError(f"{path}: maxExpiryDuration must be a whole number of seconds")
    try:
        return SourceInfo(
            name=doc["name"],
            description=doc.get("description", ""),
            logoUrl=doc.get("logoUrl", ""),
            imageEnvs=ImageEnvironments(**envs),
            minPayment=parse_amount(doc.get("minPayment", 0), "minPayment"),
            minAvailableLockup=parse_amount(doc.get("minAvailableLockup", 0), "minAvailableLockup"),
            maxExpiryDuration=expiry,
            deliveryMethod=_delivery(doc.get("deliveryMethod", "MANUAL_CONFIRMATION")),
            privacyEnabled=doc.get("privacyEnabled", False),
            optionalParamsUrl=doc.get("optionalParamsUrl", ""),
        )
    except (OGPUError, TypeError) as exc:
        raise CommandError(f"{path}: {exc}") from None


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
        "params": params,
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
    data, lines = source_summary(args.address, args.metadata)
    output(args, data, lines)
    return 0


def _publish_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="source description, .json or .toml (see below)")
    parser.epilog = EXAMPLE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_key_file(parser, Role.CLIENT)
    add_common(parser)


def _publish(args: argparse.Namespace) -> int:
    from ogpu.client import publish_source

    info = source_info_from(read_document(args.file), args.file)
    signer = load_signer(args, Role.CLIENT)
    connect(args)
    source = publish_source(info, signer=signer)
    output(
        args,
        {"source": source.address, "client": signer.address},
        [("Published source", source.address), ("Client", signer.address)],
    )
    return 0


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu source show|publish``. No I/O."""
    add_subcommands(
        subparsers,
        "source",
        "read or publish sources",
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
