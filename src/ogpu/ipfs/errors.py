"""The IPFS errors that protect a provider from hostile URLs (re-exported by ``ogpu.ipfs``)."""

from __future__ import annotations

from ogpu.types import IPFSFetchError

__all__ = ["ContentMismatchError", "ForbiddenAddressError"]


class ForbiddenAddressError(IPFSFetchError):
    """The URL (or a redirect) leads to a loopback, private or other non-public address
    that the allow-list does not admit; nothing was requested from it. Allow a trusted
    origin with ``allow=`` or ``OGPU_FETCH_ALLOW``."""


class ContentMismatchError(IPFSFetchError):
    """The content served for a URL that names a CID does not hash to that CID."""

    def __init__(self, message: str | None = None, *, url: str | None = None, cid: str) -> None:
        super().__init__(message=message, url=url)
        self.cid = cid
