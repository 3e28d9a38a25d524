"""``ogpu source show|publish|update|client``: read, publish and update sources; generate
a typed task client from a source's manifest.

Source file: JSON or TOML with the fields of ``SourceInfo`` (``EXAMPLE`` below, also
printed by ``ogpu source publish --help``).

The manifest (``ogpu.manifest``; a path relative to the file, or ``--manifest``)
is stored in the metadata: tasks are then checked against it before they are
paid, and ``ogpu source client 0xSOURCE`` generates a typed client from it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ogpu.cli import _common as common
from ogpu.cli._manifest import load_manifest, write_output
from ogpu.cli._output import add_quiet
from ogpu.cli._progress import stage
from ogpu.cli.base import CommandError, Leaf
from ogpu.types import Role

if TYPE_CHECKING:
    from ogpu.manifest import SourceManifest

__all__ = ["SUBCOMMANDS", "manifest_from", "source_info_from", "source_summary"]

EXAMPLE = """example source.toml (amounts in wei or "0.01 OGPU", "10 gwei"):

  name = "sentiment-analyzer"
  description = "Lexicon-based sentiment analysis"
  logoUrl = "https://example.com/logo.png"
  minPayment = "0.001 OGPU"
  minAvailableLockup = 0
  maxExpiryDuration = 3600
  deliveryMethod = "FIRST_RESPONSE"      # or "MANUAL_CONFIRMATION" (default)
  manifest = "sentiment_source.py"       # optional: source file or manifest JSON
                                         # (relative to this file; or --manifest)
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
    "manifest",
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
    envs = common.field(doc, path, "imageEnvs", dict, what="a table of cpu/nvidia/amd compose URLs")
    if set(envs) - {"cpu", "nvidia", "amd"} or not all(isinstance(v, str) for v in envs.values()):
        raise CommandError(
            f"{path}: imageEnvs must be a table of cpu/nvidia/amd compose URLs", kind="input"
        )
    expiry = common.field(doc, path, "maxExpiryDuration", int, what="a whole number of seconds")
    try:
        return SourceInfo(
            name=common.field(doc, path, "name", str),
            description=common.field(doc, path, "description", str, ""),
            logoUrl=common.field(doc, path, "logoUrl", str, ""),
            imageEnvs=ImageEnvironments(**envs),
            minPayment=common.parse_amount(doc.get("minPayment", 0), f"{path}: minPayment"),
            minAvailableLockup=common.parse_amount(
                doc.get("minAvailableLockup", 0), f"{path}: minAvailableLockup"
            ),
            maxExpiryDuration=expiry,
            deliveryMethod=_delivery(doc.get("deliveryMethod", "MANUAL_CONFIRMATION"), path),
            privacyEnabled=common.field(doc, path, "privacyEnabled", bool, False),
            optionalParamsUrl=common.field(doc, path, "optionalParamsUrl", str, ""),
        )
    except OGPUError as exc:
        raise CommandError(f"{path}: {common.cli_text(str(exc))}", kind="input") from None


def source_summary(
    address: str, with_metadata: bool, with_manifest: bool = False
) -> tuple[dict[str, Any], list[Any]]:
    """(JSON data, display lines) of a source. One ``eth_call``, plus one HTTP GET for
    metadata or manifest.

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
        "min_payment": common.amount(params.minPayment),
        "min_available_lockup": common.amount(params.minAvailableLockup),
        "max_expiry_duration_seconds": params.maxExpiryDuration,
        "metadata_url": params.imageMetadataUrl,
        "privacy_enabled": params.privacyEnabled,
        "optional_params_url": params.optionalParamsUrl,
        "last_update_time": common.moment(params.lastUpdateTime),
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
        ("Min payment", common.format_amount(params.minPayment)),
        ("Min lockup", common.format_amount(params.minAvailableLockup)),
        ("Max expiry", f"{params.maxExpiryDuration} s"),
        ("Metadata URL", params.imageMetadataUrl),
        ("Updated", common.format_time(params.lastUpdateTime)),
        ("Tasks", snap.task_count),
        ("Registrants", snap.registrant_count),
    ]
    if with_metadata:
        metadata = Source(snap.address).get_metadata()
        data["metadata"] = metadata
        lines.append(("Metadata", metadata))
    if with_manifest:
        from ogpu.manifest import read_manifest

        manifest = read_manifest(snap.address, params.imageMetadataUrl)
        data["manifest"] = manifest.to_dict() if manifest else None
        shown = f"{manifest.hash}: {', '.join(sorted(manifest.functions))}" if manifest else "-"
        lines.append(("Manifest", shown))
    return data, lines


def manifest_from(doc: dict[str, Any], path: str, option: str | None) -> SourceManifest | None:
    """The manifest to publish: ``--manifest`` (``option``), else the file's ``manifest``
    key (relative to the file), else None. Reads files only.

    Raises:
        CommandError: not a string, unreadable, or not a manifest.
    """
    if option:
        return load_manifest(option)
    value = doc.get("manifest")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise CommandError(
            f"{path}: manifest must be the path of a source file or manifest JSON", kind="input"
        )
    return load_manifest(str(Path(path).parent / value))


def _file_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="source description, .json or .toml (see below)")
    parser.add_argument(
        "--manifest",
        metavar="PATH",
        help="the source's manifest: its source file (.py) or manifest JSON "
        "(overrides the file's `manifest`)",
    )
    parser.epilog = EXAMPLE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_quiet(parser)
    common.add_key_file(parser, Role.CLIENT)
    common.add_common(parser)


def _described(args: argparse.Namespace) -> tuple[Any, SourceManifest | None]:
    doc = common.read_document(args.file)
    manifest = manifest_from(doc, args.file, args.manifest)
    doc.pop("manifest", None)
    return source_info_from(doc, args.file), manifest


def _report(
    args: argparse.Namespace, manifest: SourceManifest | None, rows: list[tuple[str, str, Any]]
) -> None:
    """Print ``rows`` (label, JSON key, value) and the manifest's hash."""
    data = {key: value for _, key, value in rows}
    data["manifest"] = manifest.hash if manifest else None
    shown = f"{manifest.hash} ({', '.join(sorted(manifest.functions))})" if manifest else "-"
    common.output(args, data, [(label, value) for label, _, value in rows] + [("Manifest", shown)])


def _publish(args: argparse.Namespace) -> int:
    from ogpu.client import publish_source

    info, manifest = _described(args)
    signer = common.load_signer(args, Role.CLIENT)
    common.connect(args)
    with stage(args, "publishing the source (metadata upload, transaction)"):
        source = publish_source(info, signer=signer, manifest=manifest)
    rows = [("Published source", "address", source.address), ("Client", "client", signer.address)]
    _report(args, manifest, rows)
    return 0


def _update_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="source contract address (you own it)")
    _file_args(parser)


def _update(args: argparse.Namespace) -> int:
    from ogpu.client import update_source

    address = common.address_option(args.address, "address")
    info, manifest = _described(args)
    signer = common.load_signer(args, Role.CLIENT)
    common.connect(args)
    with stage(args, "updating the source (metadata upload, transaction)"):
        receipt = update_source(address, info, signer=signer, manifest=manifest)
    rows = [("Updated source", "address", address), ("Transaction", "tx_hash", receipt.tx_hash)]
    _report(args, manifest, rows)
    return 0


def _client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "address", nargs="?", help="source contract address (its published manifest is used)"
    )
    parser.add_argument(
        "--manifest",
        metavar="PATH",
        help="generate from this manifest (JSON or source file) instead of a published one",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the module to FILE")
    common.add_common(parser)


def _client(args: argparse.Namespace) -> int:
    from ogpu.taskclient import generate_client

    if not args.address and not args.manifest:
        raise CommandError("give a source address, or --manifest FILE", kind="input")
    if args.manifest:
        manifest = load_manifest(args.manifest)
    else:
        from ogpu.protocol import Source

        common.connect(args)
        found = Source(args.address).get_manifest()
        if found is None:
            raise CommandError(
                f"source {args.address} publishes no manifest; publish one with "
                "`ogpu source update ADDRESS FILE --manifest source.py`, or pass --manifest"
            )
        manifest = found
    origin = Path(args.manifest).name if args.manifest else ""
    text = generate_client(manifest, source=args.address or None, origin=origin)
    if not args.output:
        print(text, end="", flush=True)
        return 0
    write_output(args, text, manifest)
    return 0


#: The ``ogpu source`` leaves (see :data:`ogpu.cli.base.Leaf`).
SUBCOMMANDS: list[Leaf] = [
    common.show_leaf(
        "source",
        "show a source's on-chain state",
        "source contract address",
        source_summary,
        metadata="also fetch the metadata JSON (one HTTP GET)",
        manifest="also show the source's manifest (one HTTP GET)",
    ),
    (
        "publish",
        "publish a source described in a JSON/TOML file (signs with CLIENT_PRIVATE_KEY)",
        _file_args,
        _publish,
    ),
    (
        "update",
        "replace a source's parameters, metadata and manifest from a JSON/TOML file",
        _update_args,
        _update,
    ),
    (
        "client",
        "generate a typed task client (Python module) from a source's manifest",
        _client_args,
        _client,
    ),
]
