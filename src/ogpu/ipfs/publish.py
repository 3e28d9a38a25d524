"""``publish_to_ipfs``: serialise and upload content, return its gateway URL.

The HTTP backends (and requests) are imported by the first upload, not with this module.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ogpu import net
from ogpu.ipfs.config import RetryPolicy, Timeout
from ogpu.types import InvalidInputError, IPFSFetchError, IPFSGatewayError, IPFSUploadError
from ogpu.types.metadata import is_pydantic_model

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ogpu.ipfs.backends import IPFSBackend

logger = logging.getLogger("ogpu.ipfs")

# The error classes too, as the official module has them.
__all__ = ["IPFSFetchError", "IPFSGatewayError", "publish_to_ipfs"]

_MIN_BACKOFF = 0.001  # RetryPolicy needs a positive delay; 0 means "retry at once"
_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


def _serialise(data: object) -> tuple[bytes, str]:
    if is_pydantic_model(data):
        return data.model_dump_json().encode("utf-8"), "application/json"
    if isinstance(data, Mapping):
        try:
            text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidInputError(f"data is not JSON-serialisable: {exc}", param="data") from exc
        return text.encode("utf-8"), "application/json"
    if isinstance(data, str):
        return data.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), "application/octet-stream"
    raise InvalidInputError(
        f"data must be a dict, str, bytes or pydantic model, got {type(data).__name__}",
        param="data",
    )


def _official_retry(
    retry: RetryPolicy | None, retries: int | None, backoff: float | None
) -> RetryPolicy | None:
    """The ``RetryPolicy`` meant by the official SDK's ``retries``/``backoff``."""
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InvalidInputError("retry must be a RetryPolicy", param="retry")
    if retries is None and backoff is None:
        return retry
    if retry is not None:
        raise InvalidInputError("pass retry= or retries=/backoff=, not both", param="retry")
    changes: dict[str, Any] = {}
    if retries is not None:
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise InvalidInputError("retries must be an int", param="retries")
        changes["max_attempts"] = max(1, retries)  # total attempts, as the official SDK counts
    if backoff is not None:
        if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or backoff < 0:
            raise InvalidInputError("backoff must be a number >= 0", param="backoff")
        changes["backoff_initial"] = max(float(backoff), _MIN_BACKOFF)
    return replace(RetryPolicy(), **changes)


def _deadline_budget(deadline: float) -> net.Budget:
    """The budget left until the official SDK's absolute ``_deadline``."""
    left = float(deadline) - time.monotonic()
    if left <= 0:
        raise IPFSUploadError(
            message="the publish budget ran out before the upload started", url="<upload>"
        )
    return net.Budget(total=left)


def publish_to_ipfs(
    data: Mapping[str, Any] | str | bytes | BaseModel,
    filename: str = "data.json",
    content_type: str | None = None,
    timeout: Timeout | float | tuple[float, float] | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    _deadline: float | None = None,
    *,
    backend: IPFSBackend | str | None = None,
    retry: RetryPolicy | None = None,
    budget: net.Budget | None = None,
) -> str:
    """Upload ``data`` and return the gateway URL serving it.

    Dicts and pydantic models are sent as compact UTF-8 JSON, ``str`` as UTF-8
    text, ``bytes`` verbatim. ``backend`` is an :class:`IPFSBackend`, a name
    (``"ogpu"``, ``"node"``, ``"devnet"``) or None (``OGPU_IPFS_BACKEND``, else
    the current chain). ``timeout``: seconds for the whole call, or a
    :class:`Timeout` (``(connect, read)`` per attempt); the upload returns or raises
    within it (and within ``retry.total_timeout``) whatever the API does; ``budget``
    (an :class:`ogpu.net.Budget`, e.g. a workflow's total) caps it further. Transient
    failures are retried per ``retry``, inside that bound. ``retries`` (attempts),
    ``backoff`` (first pause) and ``_deadline`` (a ``time.monotonic()`` instant) are
    the official SDK's spelling of ``retry`` and ``budget``, accepted as such.

    Cost: one HTTP POST per attempt; no RPC.
    Raises InvalidInputError (bad data, filename, backend, timeout or retry
    arguments, before any I/O) and IPFSUploadError (network failure, refusal,
    malformed answer, or ``_deadline`` already past).
    """
    from ogpu.ipfs.backends import IPFSBackend, default_backend

    content, guessed_type = _serialise(data)
    if not isinstance(filename, str) or not _FILENAME_RE.match(filename):
        raise InvalidInputError(
            "filename must be 1-255 characters of letters, digits, '.', '_' or '-' "
            "starting with a letter or digit",
            param="filename",
        )
    if content_type is None:
        content_type = guessed_type
    elif not isinstance(content_type, str) or not content_type.strip() or "\n" in content_type:
        raise InvalidInputError(
            "content_type must be a non-empty single-line string", param="content_type"
        )
    chosen_timeout = Timeout.coerce(timeout)
    retry = _official_retry(retry, retries, backoff)
    if _deadline is not None and budget is None:
        budget = _deadline_budget(_deadline)
    if backend is None or isinstance(backend, str):
        chosen = default_backend(backend)
    elif isinstance(backend, IPFSBackend):
        chosen = backend
    else:
        raise InvalidInputError(
            f"backend must be an IPFSBackend, a backend name or None, got {type(backend).__name__}",
            param="backend",
        )
    if budget is not None and not isinstance(budget, net.Budget):
        raise InvalidInputError("budget must be an ogpu.net.Budget", param="budget")
    logger.debug("publishing %s (%d bytes) to IPFS via %s ...", filename, len(content), chosen.name)
    started = time.monotonic()
    # The ambient scope caps every request the backend makes, custom backends included.
    with (budget or net.Budget()).scope():
        url = chosen.upload(
            content,
            filename=filename,
            content_type=content_type,
            timeout=chosen_timeout,
            retry=retry or RetryPolicy(),
        )
    logger.info("IPFS upload of %s done in %.3fs", filename, time.monotonic() - started)
    return url
