"""A source's manifest read from its metadata JSON, cached per (source, metadata URL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ogpu.errors import InvalidInputError, shown
from ogpu.manifest.errors import InvalidManifestError
from ogpu.manifest.model import METADATA_KEY, SourceManifest

__all__ = [
    "clear_manifest_cache",
    "manifest_from_metadata",
    "read_manifest",
    "recently_unreadable",
    "remember_unreadable",
]

_cache: dict[tuple[str, str], SourceManifest | None] = {}
_unreadable: dict[tuple[str, str], float] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 1024


def manifest_from_metadata(metadata: Mapping[str, Any]) -> SourceManifest | None:
    """The manifest stored under :data:`METADATA_KEY`, or None when the key is absent. No I/O.

    Raises:
        InvalidManifestError: the key holds something that is not a manifest, or
            ``metadata`` is no mapping.
    """
    if not isinstance(metadata, Mapping):
        raise InvalidManifestError(f"source metadata is a JSON object, got {shown(metadata)}")
    document = metadata.get(METADATA_KEY)
    return None if document is None else SourceManifest.parse(document)


def read_manifest(
    source: str, metadata_url: str, *, timeout: float | None = None, retries: int = 4
) -> SourceManifest | None:
    """The manifest of ``source`` whose metadata JSON is at ``metadata_url``; None when the
    metadata has none (or the source has no metadata URL).

    Cost: one HTTP GET (``retries`` attempts within ``timeout`` seconds) the first time
    for this source and URL, then none (a new URL, as after an update, is fetched anew).

    Raises:
        IPFSFetchError / IPFSGatewayError: the metadata could not be fetched or is not JSON.
        InvalidInputError: the metadata URL is not fetchable (e.g. another scheme).
        InvalidManifestError: the metadata holds a malformed manifest.
    """
    if not metadata_url:
        return None
    key = _key(source, metadata_url)
    with _lock:
        if key in _cache:
            return _cache[key]
    from ogpu.ipfs import RetryPolicy, Timeout, fetch_ipfs_json

    budget = 30.0 if timeout is None else timeout
    metadata = fetch_ipfs_json(
        metadata_url,
        timeout=Timeout(connect=min(5.0, budget), read=budget),
        retry=RetryPolicy(max_attempts=retries, total_timeout=budget),
    )
    manifest = manifest_from_metadata(metadata)
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.pop(next(iter(_cache)))
        _cache[key] = manifest
    return manifest


def remember_unreadable(source: str, metadata_url: str) -> None:
    """Note that the metadata could not be read now (see :func:`recently_unreadable`)."""
    with _lock:
        if len(_unreadable) >= _MAX_ENTRIES:
            _unreadable.pop(next(iter(_unreadable)))
        _unreadable[_key(source, metadata_url)] = time.monotonic()


def recently_unreadable(source: str, metadata_url: str, within: float) -> bool:
    """Whether :func:`remember_unreadable` noted this source and URL less than ``within``
    seconds ago (so a loop of publishes does not retry a dead gateway each time)."""
    with _lock:
        noted = _unreadable.get(_key(source, metadata_url))
    return noted is not None and time.monotonic() - noted < within


def _key(source: object, metadata_url: object) -> tuple[str, str]:
    """The cache key of a source and its metadata URL. No I/O.

    Raises InvalidInputError when either is no string (before any fetch).
    """
    if not isinstance(source, str) or not isinstance(metadata_url, str):
        raise InvalidInputError(
            message=f"expected a source address and a metadata URL (strings), got "
            f"{shown(source)} and {shown(metadata_url)}"
        )
    return source.lower(), metadata_url


def clear_manifest_cache() -> None:
    """Forget every cached manifest and unreadable metadata (tests; a process that must
    re-read sources). No I/O."""
    with _lock:
        _cache.clear()
        _unreadable.clear()
