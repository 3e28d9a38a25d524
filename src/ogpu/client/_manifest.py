"""Manifests in the client workflows: checked before a task is paid, attached to a source.

A task is checked against its source's manifest (``ogpu.manifest``) after the
on-chain checks (which read the source's ``imageMetadataUrl``) and before its
config is pinned. A source without a manifest publishes as before. When the
metadata cannot be read (unreachable, not JSON, a manifest this SDK cannot
read) the task is published unchecked and a warning is logged once per source
and URL: the check guards against mistakes, it must not block the network.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ogpu.client._common import Budget
from ogpu.protocol._pipeline import labelled
from ogpu.types import OGPUError

if TYPE_CHECKING:
    from ogpu.manifest import SourceManifest

__all__ = ["check_against_manifests", "manifest_document"]

logger = logging.getLogger("ogpu.client")

#: Seconds one metadata read may take on the publish path (within the call's budget).
MANIFEST_READ_TIMEOUT = 10.0
#: Seconds a failed metadata read is remembered (a loop of publishes retries it after).
_FAILURE_MEMORY = 60.0


def manifest_document(manifest: object) -> dict[str, Any] | None:
    """The JSON object to store in the source metadata for ``manifest=``. No I/O.

    Accepts a :class:`~ogpu.manifest.SourceManifest`, its JSON object (a dict), JSON
    text, or None (no manifest).

    Raises:
        InvalidManifestError: not a manifest this SDK can read.
    """
    if manifest is None:
        return None
    from ogpu.manifest import SourceManifest

    parsed = manifest if isinstance(manifest, SourceManifest) else SourceManifest.parse(manifest)
    return parsed.to_dict()


def _unchecked(source: str, url: str, why: object) -> None:
    from ogpu.manifest import remember_unreadable

    remember_unreadable(source, url)
    logger.warning(
        "publishing to source %s without checking its manifest: its metadata at %s could "
        "not be read (%s)",
        source,
        url,
        why,
    )


def _manifest_for(source: str, url: str, budget: Budget) -> SourceManifest | None:
    from ogpu.manifest import read_manifest, recently_unreadable

    if recently_unreadable(source, url, _FAILURE_MEMORY):
        return None
    seconds = budget.cap(MANIFEST_READ_TIMEOUT, "reading the source's manifest")
    try:
        return read_manifest(source, url, timeout=seconds, retries=1)
    except OGPUError as exc:  # unreachable or refused URL, not JSON, unreadable manifest
        _unchecked(source, url, exc)
    return None


def check_against_manifests(
    configs: Sequence[Mapping[str, Any]],
    sources: Sequence[str],
    metadata_urls: Mapping[str, str],
    budget: Budget,
) -> None:
    """Check each task config against its source's manifest (``task_infos[i]`` in the
    message when several).

    Cost: one HTTP GET per source whose manifest is not cached yet, bounded by
    ``MANIFEST_READ_TIMEOUT`` and the budget; no RPC.

    Raises:
        UnknownFunctionError: a function the manifest does not list (with a suggestion).
        TaskDataError: data that breaks the function's input schema (with its path).
        TxError: the budget ran out (nothing was sent).
    """
    manifests = {
        source: _manifest_for(source, metadata_urls[source], budget)
        for source in dict.fromkeys(sources)
    }
    several = len(configs) > 1
    for i, (config, source) in enumerate(zip(configs, sources, strict=True)):
        manifest = manifests[source]
        if manifest is None:
            continue
        try:
            manifest.check_task(str(config["function_name"]), config.get("data"), source=source)
        except OGPUError as exc:
            raise labelled(exc, f"task_infos[{i}]") if several else exc from None
