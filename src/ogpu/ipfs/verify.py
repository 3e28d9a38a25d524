"""Check fetched content against the CID its URL names.

A URL names a CID in the path-gateway form (``…/ipfs/<cid>`` with nothing after the
CID) or the subdomain form (``https://<cid>.ipfs.<gateway>/``); ``ipfs://<cid>`` is
resolved to the path form first. Content is verified, without trusting the gateway:

- raw CIDs (``bafkrei…``, the devnet store's): the body's sha2-256 is the digest;
- dag-pb CIDs (``Qm…``, ``bafybei…``): the body is imported the way ``ipfs add`` does by
  default (:mod:`ogpu.ipfs.unixfs`); when that gives another CID (other chunking), the
  DAG is walked block by block from the gateway (``?format=raw``, each block checked
  against its own CID) and the file it spells out must equal the body.

Other hash functions and codecs are not checked (and nothing after the CID in the
path: that content is a file inside a directory). A mismatch is
:class:`~ogpu.ipfs.errors.ContentMismatchError`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from ogpu.ipfs.cid import DAG_PB_CODEC, RAW_CODEC, SHA2_256, Cid, InvalidCidError, parse_cid
from ogpu.ipfs.errors import ContentMismatchError
from ogpu.ipfs.unixfs import MalformedBlockError, decode_node, import_file

__all__ = ["BlockSource", "NamedCid", "named_cid", "verify"]

logger = logging.getLogger("ogpu.ipfs")

BlockSource = Callable[[str], bytes]
"""Fetches the raw block at a URL (the caller's bounded, guarded GET)."""

MAX_BLOCKS = 4096
RAW_BLOCK_TYPE = "application/vnd.ipld.raw"


class NamedCid:
    """A CID named by a URL, and how to address any block on the same gateway."""

    def __init__(self, cid: Cid, text: str, block_url: Callable[[Cid], str]) -> None:
        self.cid = cid
        self.text = text
        self.block_url = block_url


def _parse(text: str) -> Cid | None:
    try:
        return parse_cid(text)
    except InvalidCidError:
        return None


def named_cid(url: str) -> NamedCid | None:
    """The CID ``url`` names, if it names one in a form that can be verified. No I/O."""
    parts = urlsplit(url)
    if parts.path.startswith("/ipfs/"):
        text = parts.path[len("/ipfs/") :].removesuffix("/")
        cid = _parse(text) if text and "/" not in text else None
        if cid is None:
            return None

        def by_path(block: Cid) -> str:
            return urlunsplit((parts.scheme, parts.netloc, f"/ipfs/{block}", "format=raw", ""))

        return NamedCid(cid, text, by_path)
    host = parts.hostname or ""
    label, _, rest = host.partition(".")
    if rest.startswith("ipfs.") and parts.path in ("", "/"):
        cid = _parse(label)
        if cid is None:
            return None
        port = f":{parts.port}" if parts.port else ""

        def by_subdomain(block: Cid) -> str:
            v1 = Cid(1, block.codec, block.hash_code, block.digest)  # subdomains need CIDv1
            netloc = f"{v1}.{rest}{port}"
            return urlunsplit((parts.scheme, netloc, "/", "format=raw", ""))

        return NamedCid(cid, label, by_subdomain)
    return None


def _mismatch(named: NamedCid, shown: str, why: str) -> ContentMismatchError:
    return ContentMismatchError(
        f"content of {shown} does not match its CID {named.text}: {why}", url=shown, cid=named.text
    )


def verify(body: bytes, named: NamedCid, fetch: BlockSource, *, shown: str) -> None:
    """Raise ContentMismatchError unless ``body`` is the content ``named`` names.

    Costs nothing for raw CIDs and default imports; otherwise one bounded GET per
    block of the DAG (``fetch``, at most ``MAX_BLOCKS``).
    """
    cid = named.cid
    if cid.hash_code != SHA2_256 or cid.codec not in (RAW_CODEC, DAG_PB_CODEC):
        logger.debug("not verifying %s: hash 0x%x, codec 0x%x", shown, cid.hash_code, cid.codec)
        return
    if cid.codec == RAW_CODEC:
        if hashlib.sha256(body).digest() != cid.digest:
            raise _mismatch(named, shown, "the sha2-256 digest differs")
        return
    if import_file(body, cid.version).digest == cid.digest:
        return
    spelled = _walk(named, fetch, shown, limit=len(body))
    if spelled != body:
        raise _mismatch(named, shown, "the DAG spells out other bytes")


def _walk(named: NamedCid, fetch: BlockSource, shown: str, *, limit: int) -> bytes:
    """The file a DAG spells out, every block checked against its CID."""
    out = bytearray()
    stack = [named.cid]
    blocks = 0
    while stack:
        cid = stack.pop()
        blocks += 1
        if blocks > MAX_BLOCKS or len(out) > limit:
            raise _mismatch(named, shown, "the DAG is larger than the content")
        if cid.hash_code != SHA2_256 or cid.codec not in (RAW_CODEC, DAG_PB_CODEC):
            raise _mismatch(named, shown, "a block uses a codec or hash that cannot be checked")
        block = fetch(named.block_url(cid))
        if hashlib.sha256(block).digest() != cid.digest:
            raise _mismatch(named, shown, f"block {cid} does not hash to its CID")
        if cid.codec == RAW_CODEC:
            out += block
            continue
        try:
            node = decode_node(block)
        except MalformedBlockError as exc:
            raise _mismatch(named, shown, f"block {cid} is not a UnixFS file ({exc})") from None
        out += node.data
        stack.extend(reversed(node.links))
    return bytes(out)
