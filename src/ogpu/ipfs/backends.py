"""Upload backends: OGPU's pinning service, a standard IPFS node API, the devnet store.

Every backend POSTs one multipart field ``file`` and returns the gateway URL of
the stored content. Uploads do not follow redirects (a 3xx is an error).
"""

from __future__ import annotations

import abc
import json
import re
import secrets
from functools import partial
from typing import Any, ClassVar, NoReturn, Protocol, runtime_checkable
from urllib.parse import urlencode, urlsplit

from ogpu import net
from ogpu.ipfs import _request
from ogpu.ipfs.config import (
    BackendName,
    IPFSConfig,
    RetryPolicy,
    Timeout,
    resolve_config,
    validate_base_url,
)
from ogpu.types import InvalidInputError, IPFSUploadError, IPFSUploadRefusedError

MAX_ANSWER_BYTES = 1024 * 1024
_CID_RE = re.compile(r"^[A-Za-z0-9]{8,128}$")


@runtime_checkable
class IPFSBackend(Protocol):
    """Something that stores bytes and returns the gateway URL serving them."""

    @property
    def name(self) -> str: ...

    @property
    def gateway_url(self) -> str: ...

    def upload(
        self,
        content: bytes,
        *,
        filename: str,
        content_type: str,
        timeout: Timeout,
        retry: RetryPolicy,
    ) -> str:
        """Store ``content``; return its http(s) URL. Network I/O; raises IPFSUploadError."""
        ...


def _fail(message: str, url: str, cause: BaseException | None = None) -> NoReturn:
    raise IPFSUploadError(message=message, url=url) from cause


def _refused(message: str, shown: str, status: int) -> IPFSUploadRefusedError:
    return IPFSUploadRefusedError(message=message, url=shown, gateway=shown, status_code=status)


# Uploads go to the configured API (trusted): pooled keep-alive connections, no guard.
_POOL = net.Pool(max_idle=8)


def _multipart(content: bytes, filename: str, content_type: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    name = re.sub(r'["\\\r\n]', "_", filename)
    kind = re.sub(r"[\r\n]", " ", content_type)
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {kind}\r\n\r\n"
    ).encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode("ascii")
    return body, f"multipart/form-data; boundary={boundary}"


def _parse_answer(body: bytes, shown: str) -> Any:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except ValueError as exc:
            _fail(f"answer from {shown} is not JSON: {exc}", shown, exc)
    if not lines:
        _fail(f"answer from {shown} is empty", shown)
    return lines


def _http_link(value: object, shown: str) -> str:
    if not isinstance(value, str):
        _fail(f"answer from {shown} has no string 'link'", shown)
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        _fail(f"answer from {shown} has a malformed link: {exc}", shown, exc)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        _fail(f"answer from {shown} has a non-http(s) link", shown)
    return value


class _MultipartBackend(abc.ABC):
    """An upload API taking one multipart POST at ``<api><path>``; subclasses read the link."""

    name: str
    _path: str
    _params: ClassVar[dict[str, str] | None] = None

    def __init__(self, api_url: str, gateway_url: str) -> None:
        self._api_url = validate_base_url("api_url", api_url)
        self._gateway_url = validate_base_url("gateway_url", gateway_url)

    @property
    def gateway_url(self) -> str:
        return self._gateway_url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(api_url={net.redact_url(self._api_url)!r}, "
            f"gateway_url={net.redact_url(self._gateway_url)!r})"
        )

    def upload(
        self,
        content: bytes,
        *,
        filename: str,
        content_type: str,
        timeout: Timeout,
        retry: RetryPolicy,
    ) -> str:
        """One multipart POST of the field ``file``, retried on transient failures within
        the call's budget (``timeout.total`` and ``retry.total_timeout``, capped by an
        ambient ``Budget.scope()``). Raises IPFSUploadError."""
        url = f"{self._api_url}{self._path}"
        shown = net.redact_url(url)
        target = f"{url}?{urlencode(self._params)}" if self._params else url
        body, kind = _multipart(content, filename, content_type)
        headers = {"Content-Type": kind, "Accept": "application/json"}

        def read(response: net.Response) -> Any:
            status = response.status
            if not 200 <= status <= 299:
                verb = "failed" if net.is_transient_status(status) else "refused"
                raise _refused(f"upload to {shown} {verb}: HTTP {status}", shown, status)
            return _parse_answer(response.body, shown)

        post = partial(net.request, "POST", target, body=body, headers=headers, timeout=timeout)

        def send(budget: net.Budget) -> net.Response:
            return post(budget=budget, max_bytes=MAX_ANSWER_BYTES, pool=_POOL)

        budget = net.effective(retry.budget(timeout), None)
        answer = _request.exchange(
            "POST",
            send,
            read,
            error=IPFSUploadError,
            retry=retry,
            budget=budget,
            what=f"upload to {shown}",
        )
        return self._link(answer, filename, shown)

    @abc.abstractmethod
    def _link(self, answer: Any, filename: str, shown: str) -> str:
        """The gateway link of the uploaded file in ``answer``. Raises IPFSUploadError."""


class OGPUPinningBackend(_MultipartBackend):
    """OGPU's pinning service: ``POST <api>/file/create`` → ``{"link": <gateway URL>}``."""

    name = "ogpu"
    _path = "/file/create"

    def _link(self, answer: Any, filename: str, shown: str) -> str:
        if not isinstance(answer, dict):
            _fail(f"answer from {shown} is not a JSON object", shown)
        return _http_link(answer.get("link"), shown)


class IPFSNodeBackend(_MultipartBackend):
    """A standard IPFS node HTTP API: ``POST <api>/api/v0/add`` → ``<gateway>/ipfs/<Hash>``."""

    name = "node"
    _path = "/api/v0/add"
    _params: ClassVar[dict[str, str] | None] = {"pin": "true"}

    def _link(self, answer: Any, filename: str, shown: str) -> str:
        entries = answer if isinstance(answer, list) else [answer]
        chosen: Any = None
        for entry in entries:
            if isinstance(entry, dict) and entry.get("Name") == filename:
                chosen = entry
        if chosen is None:
            chosen = entries[-1]
        cid = chosen.get("Hash") if isinstance(chosen, dict) else None
        if not isinstance(cid, str) or not _CID_RE.match(cid):
            _fail(f"answer from {shown} has no valid 'Hash'", shown)
        return f"{self._gateway_url}/ipfs/{cid}"


class DevnetStoreBackend(IPFSNodeBackend):
    """The local devnet's content store (IPFS node API shape; it is also its own gateway)."""

    name = "devnet"

    def __init__(self, store_url: str, gateway_url: str | None = None) -> None:
        super().__init__(store_url, gateway_url or store_url)


def make_backend(config: IPFSConfig) -> IPFSBackend:
    """The backend described by ``config``. No I/O. Raises InvalidInputError for no config."""
    if not isinstance(config, IPFSConfig):
        raise InvalidInputError(
            f"config must be an IPFSConfig (see resolve_config), got {type(config).__name__}",
            param="config",
        )
    kind: BackendName = config.backend
    if kind == "ogpu":
        return OGPUPinningBackend(config.api_url, config.gateway_url)
    if kind == "node":
        return IPFSNodeBackend(config.api_url, config.gateway_url)
    return DevnetStoreBackend(config.api_url, config.gateway_url)


def default_backend(name: str | None = None) -> IPFSBackend:
    """Backend from ``name``, else ``OGPU_IPFS_BACKEND``, else the current chain. No I/O.

    Raises InvalidInputError on an unknown name or a malformed URL.
    """
    return make_backend(resolve_config(name))
