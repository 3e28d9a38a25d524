"""dag-pb and UnixFS, as far as checking a file against its CID needs. Pure, no I/O.

- :func:`import_file`: the root CID ``ipfs add`` gives ``content`` with its default
  importer (256 KiB chunks, balanced layout, at most 174 links per node): CIDv0 with
  dag-pb leaves, or CIDv1 with raw leaves (``--cid-version=1``).
- :func:`decode_node`: a dag-pb block's links and UnixFS file data, to walk a DAG
  block by block when the content was imported some other way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ogpu.ipfs.cid import (
    DAG_PB_CODEC,
    Cid,
    cid_from_bytes,
    decode_varint,
    encode_varint,
)

__all__ = ["CHUNK_SIZE", "MAX_LINKS", "MalformedBlockError", "Node", "decode_node", "import_file"]

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
_FILE = 2
_RAW = 0


class MalformedBlockError(ValueError):
    """A block is not a dag-pb node holding UnixFS file data."""


def _field(number: int, wire: int) -> bytes:
    return encode_varint(number << 3 | wire)


def _bytes(number: int, value: bytes) -> bytes:
    return _field(number, 2) + encode_varint(len(value)) + value


def _uint(number: int, value: int) -> bytes:
    return _field(number, 0) + encode_varint(value)


@dataclass(frozen=True)
class _Built:
    cid: Cid
    block_size: int  # the cumulative size a parent's link records (Tsize)
    file_size: int


def _leaf(chunk: bytes, version: int) -> _Built:
    if version == 1:
        return _Built(Cid.of(chunk), len(chunk), len(chunk))
    data = _uint(1, _FILE) + (_bytes(2, chunk) if chunk else b"") + _uint(3, len(chunk))
    block = _bytes(1, data)
    return _Built(Cid.of(block, 0, DAG_PB_CODEC), len(block), len(chunk))


def _parent(children: list[_Built], version: int) -> _Built:
    links = b"".join(
        _bytes(2, _bytes(1, c.cid.to_bytes()) + _bytes(2, b"") + _uint(3, c.block_size))
        for c in children
    )
    size = sum(c.file_size for c in children)
    data = _uint(1, _FILE) + _uint(3, size) + b"".join(_uint(4, c.file_size) for c in children)
    block = links + _bytes(1, data)
    total = len(block) + sum(c.block_size for c in children)
    return _Built(Cid.of(block, version, DAG_PB_CODEC), total, size)


def import_file(content: bytes, version: int = 0) -> Cid:
    """The root CID of ``content`` under ``ipfs add``'s default importer. No I/O."""
    chunks = [content[i : i + CHUNK_SIZE] for i in range(0, len(content), CHUNK_SIZE)] or [b""]
    leaves = iter(_leaf(chunk, version) for chunk in chunks)
    root = next(leaves)
    remaining = len(chunks) - 1
    depth = 0
    while remaining:
        depth += 1
        children = [root]
        root, remaining = _fill(children, leaves, remaining, depth, version)
    return root.cid


def _fill(
    children: list[_Built], leaves: Iterator[_Built], remaining: int, depth: int, version: int
) -> tuple[_Built, int]:
    """Fill a node of ``depth`` (go-unixfs' balanced ``fillNodeRec``)."""
    while len(children) < MAX_LINKS and remaining:
        if depth == 1:
            children.append(next(leaves))
            remaining -= 1
        else:
            child, remaining = _fill([], leaves, remaining, depth - 1, version)
            children.append(child)
    return _parent(children, version), remaining


@dataclass(frozen=True)
class Node:
    """A decoded dag-pb block: its links (CIDs, in order) and UnixFS type and data."""

    links: tuple[Cid, ...]
    kind: int
    data: bytes


def _fields(block: bytes) -> list[tuple[int, int, bytes | int]]:
    out: list[tuple[int, int, bytes | int]] = []
    offset = 0
    try:
        while offset < len(block):
            key, offset = decode_varint(block, offset)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, offset = decode_varint(block, offset)
                out.append((number, wire, value))
            elif wire == 2:
                length, offset = decode_varint(block, offset)
                if offset + length > len(block):
                    raise MalformedBlockError("a field runs past the end of the block")
                out.append((number, wire, block[offset : offset + length]))
                offset += length
            else:
                raise MalformedBlockError(f"unexpected protobuf wire type {wire}")
    except ValueError as exc:  # InvalidCidError from decode_varint is a ValueError
        raise MalformedBlockError(str(exc)) from None
    return out


def _link_cid(raw: bytes) -> Cid:
    try:
        return cid_from_bytes(raw)
    except ValueError as exc:
        raise MalformedBlockError(f"a link holds no valid CID: {exc}") from None


def decode_node(block: bytes) -> Node:
    """Links and UnixFS file data of a dag-pb block. No I/O.

    Raises:
        MalformedBlockError: not dag-pb, or not UnixFS file (or raw) data.
    """
    links: list[Cid] = []
    unixfs = b""
    for number, wire, value in _fields(block):
        if number == 2 and wire == 2 and isinstance(value, bytes):
            hashes = [v for n, w, v in _fields(value) if n == 1 and isinstance(v, bytes)]
            if len(hashes) != 1:
                raise MalformedBlockError("a link has no hash")
            links.append(_link_cid(hashes[0]))
        elif number == 1 and wire == 2 and isinstance(value, bytes):
            unixfs = value
    kind, data = -1, b""
    for number, _, value in _fields(unixfs):
        if number == 1 and isinstance(value, int):
            kind = value
        elif number == 2 and isinstance(value, bytes):
            data = value
    if kind not in (_FILE, _RAW):
        raise MalformedBlockError(f"UnixFS type {kind} is not a file")
    return Node(tuple(links), kind, data)
