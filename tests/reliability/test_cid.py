"""Fetched content must match the CID its URL names.

Gateways here are real loopback servers: the devnet store (raw CIDs, ``?format=raw``)
and a trustless gateway built for the test that serves a UnixFS DAG block by block
(dag-pb CIDv0 and CIDv1, chunked other than ``ipfs add``'s default, so verification
must walk the DAG). Each lie a gateway can tell is a ``ContentMismatchError``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator

import pytest

from ogpu import net
from ogpu.devnet.store import ContentStore, StoreServer
from ogpu.ipfs import ContentMismatchError, fetch_ipfs_bytes, fetch_ipfs_json, publish_to_ipfs
from ogpu.ipfs.backends import DevnetStoreBackend
from ogpu.ipfs.cid import DAG_PB_CODEC, RAW_CODEC, SHA2_256, Cid, cid_for_bytes, parse_cid
from ogpu.ipfs.unixfs import MAX_LINKS, _bytes, _uint, import_file
from ogpu.ipfs.verify import named_cid

from .scripted import Reply, Request, ScriptedServer

Row = Callable[..., None]


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGPU_FETCH_ALLOW", "127.0.0.1/32")
    for name in ("OGPU_IPFS_BACKEND", "OGPU_IPFS_API_URL", "OGPU_IPFS_GATEWAY"):
        monkeypatch.delenv(name, raising=False)


def test_known_cids_of_ipfs_add(row: Row) -> None:
    assert str(import_file(b"hello world\n")) == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    assert str(import_file(b"")) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert str(import_file(b"hello world\n", 1)) == cid_for_bytes(b"hello world\n")
    row(
        area="cid",
        case="importer vectors",
        injected="'hello world\\n' and the empty file",
        outcome="the CIDv0 'ipfs add' gives them (QmT78z…, QmbFMke…); CIDv1 raw for one chunk",
    )


# -- raw CIDs through the devnet store ------------------------------------------------------


@pytest.fixture
def store() -> Iterator[StoreServer]:
    with StoreServer("127.0.0.1", 0, store=ContentStore()) as server:
        yield server


class Lying:
    """A gateway that answers ``/ipfs/<cid>`` with ``forge(real bytes)``."""

    def __init__(self, real: dict[str, bytes], forge: Callable[[bytes], bytes]) -> None:
        self.real = real
        self.forge = forge

    def __call__(self, request: Request) -> Reply:
        cid = request.path.split("?")[0].removeprefix("/ipfs/")
        return Reply(body=self.forge(self.real[cid]))


FORGERIES: dict[str, Callable[[bytes], bytes]] = {
    "one byte flipped": lambda b: bytes([b[0] ^ 1]) + b[1:],
    "one byte appended": lambda b: b + b" ",
    "truncated": lambda b: b[:-1],
    "other JSON": lambda b: json.dumps({"function_name": "steal"}).encode(),
    "empty": lambda b: b"",
    "same bytes reordered": lambda b: b[::-1],
}


@pytest.mark.parametrize("label", list(FORGERIES))
def test_raw_cid_forgeries_are_refused(label: str, store: StoreServer, row: Row) -> None:
    content = json.dumps({"function_name": "echo", "data": {"text": "hi"}}).encode()
    url = publish_to_ipfs(content, backend=DevnetStoreBackend(store.url), timeout=5)
    cid = url.rsplit("/", 1)[-1]
    assert fetch_ipfs_json(url) == json.loads(content)
    with ScriptedServer(Lying({cid: content}, FORGERIES[label])) as liar:
        with pytest.raises(ContentMismatchError) as info:
            fetch_ipfs_bytes(f"{liar.url}/ipfs/{cid}")
        with pytest.raises(ContentMismatchError):
            fetch_ipfs_bytes(f"ipfs://{cid}", gateway=liar.url)
    assert info.value.cid == cid
    row(
        area="cid",
        case=f"raw CID, {label}",
        injected="a gateway answering /ipfs/<raw cid> (and ipfs://) with other bytes",
        outcome="ContentMismatchError (the store's own answer verifies)",
    )


def test_a_redirect_to_other_content_is_refused(store: StoreServer, row: Row) -> None:
    good = store.store.put(b'{"a": 1}')
    other = store.store.put(b'{"a": 2}')
    with (
        ScriptedServer(
            lambda r: Reply(status=302, headers={"Location": f"{store.url}/ipfs/{other}"})
        ) as hop,
        pytest.raises(ContentMismatchError),
    ):
        fetch_ipfs_json(f"{hop.url}/ipfs/{good}")
    row(
        area="cid",
        case="redirect to another CID",
        injected="the gateway redirects /ipfs/<cid> to the store's copy of other content",
        outcome="ContentMismatchError: content is checked against the CID of the URL asked for",
    )


def test_paths_inside_a_cid_and_verify_cid_false_are_not_checked(row: Row) -> None:
    cid = cid_for_bytes(b"whatever")
    with ScriptedServer(lambda r: Reply(body=b'{"ok": 1}')) as server:
        assert fetch_ipfs_json(f"{server.url}/ipfs/{cid}/file.json") == {"ok": 1}
        assert fetch_ipfs_json(f"{server.url}/ipfs/{cid}", verify_cid=False) == {"ok": 1}
        assert fetch_ipfs_json(f"{server.url}/not-ipfs/{cid}") == {"ok": 1}
    assert named_cid(f"https://{cid}.ipfs.dweb.link/") is not None
    assert named_cid(f"https://{cid}.ipfs.dweb.link/x.json") is None
    row(
        area="cid",
        case="what is not a content address",
        injected="/ipfs/<cid>/path, verify_cid=False, a CID outside /ipfs/",
        outcome="fetched unchecked (only a URL that names the content's own CID is verified)",
    )


# -- dag-pb: default imports verify locally, other DAGs are walked block by block ----------


def _dag(content: bytes, chunk: int, version: int) -> tuple[Cid, dict[str, bytes]]:
    """A balanced-enough UnixFS DAG of ``content`` in ``chunk``-byte leaves. Returns the
    root CID and every block by CID string."""
    blocks: dict[str, bytes] = {}
    children: list[tuple[Cid, int, int]] = []
    for start in range(0, len(content), chunk):
        piece = content[start : start + chunk]
        if version == 1:
            leaf = Cid(1, RAW_CODEC, SHA2_256, hashlib.sha256(piece).digest())
            blocks[str(leaf)] = piece
            children.append((leaf, len(piece), len(piece)))
        else:
            data = _uint(1, 2) + _bytes(2, piece) + _uint(3, len(piece))
            block = _bytes(1, data)
            leaf = Cid(0, DAG_PB_CODEC, SHA2_256, hashlib.sha256(block).digest())
            blocks[str(leaf)] = block
            children.append((leaf, len(block), len(piece)))
    assert len(children) <= MAX_LINKS
    links = b"".join(
        _bytes(2, _bytes(1, c.to_bytes()) + _bytes(2, b"") + _uint(3, size))
        for c, size, _ in children
    )
    total = sum(n for _, _, n in children)
    data = _uint(1, 2) + _uint(3, total) + b"".join(_uint(4, n) for _, _, n in children)
    root_block = links + _bytes(1, data)
    root = Cid(version, DAG_PB_CODEC, SHA2_256, hashlib.sha256(root_block).digest())
    blocks[str(root)] = root_block
    return root, blocks


class Trustless:
    """A gateway: ``/ipfs/<cid>`` is the file, ``?format=raw`` the block (optionally lying)."""

    def __init__(self, root: Cid, content: bytes, blocks: dict[str, bytes]) -> None:
        self.root, self.content, self.blocks = str(root), content, blocks
        self.tamper: str | None = None
        self.raw_supported = True
        self.raw_requests = 0

    def __call__(self, request: Request) -> Reply:
        path, _, query = request.path.partition("?")
        cid = path.removeprefix("/ipfs/")
        if "format=raw" in query and self.raw_supported:
            self.raw_requests += 1
            block = self.blocks[cid]
            if cid == self.tamper:
                block = block[:-1] + bytes([block[-1] ^ 1])
            return Reply(body=block, headers={"Content-Type": "application/vnd.ipld.raw"})
        return Reply(body=self.content, headers={"Content-Type": "application/octet-stream"})


CONTENT = json.dumps({"data": "x" * 3000, "function_name": "echo"}).encode()


@pytest.mark.parametrize("version", [0, 1])
def test_a_default_import_verifies_without_extra_requests(version: int, row: Row) -> None:
    big = CONTENT * 200  # about 600 KiB: three 256 KiB chunks
    for content in (CONTENT, big):
        cid = import_file(content, version)
        gateway = Trustless(cid, content, {})
        with ScriptedServer(gateway) as server:
            assert fetch_ipfs_bytes(f"{server.url}/ipfs/{cid}") == content
            assert server.requests == 1 and gateway.raw_requests == 0
    row(
        area="cid",
        case=f"dag-pb CIDv{version}, ipfs add defaults",
        injected="a 3 KB and a 600 KB file under the CID 'ipfs add' gives them",
        outcome="verified by re-importing the body: 1 request, no block fetched",
    )


@pytest.mark.parametrize("version", [0, 1])
def test_another_chunking_is_verified_by_walking_the_dag(version: int, row: Row) -> None:
    root, blocks = _dag(CONTENT, 1000, version)
    gateway = Trustless(root, CONTENT, blocks)
    with ScriptedServer(gateway) as server:
        assert fetch_ipfs_bytes(f"{server.url}/ipfs/{root}") == CONTENT
    leaves = -(-len(CONTENT) // 1000)
    assert gateway.raw_requests == leaves + 1  # every link followed, identical leaves too
    row(
        area="cid",
        case=f"dag-pb CIDv{version}, 1000-byte chunks",
        injected="a DAG 'ipfs add' would not produce (re-importing gives another CID)",
        outcome=f"verified by fetching and checking all {leaves + 1} blocks (?format=raw)",
    )


LIES = ["body", "root block", "leaf block", "no raw blocks"]


@pytest.mark.parametrize("lie", LIES)
@pytest.mark.parametrize("version", [0, 1])
def test_a_lying_trustless_gateway_is_refused(version: int, lie: str, row: Row) -> None:
    root, blocks = _dag(CONTENT, 1000, version)
    served = CONTENT
    gateway = Trustless(root, served, blocks)
    if lie == "body":
        gateway.content = CONTENT.replace(b"echo", b"evil")
    elif lie == "root block":
        gateway.tamper = str(root)
    elif lie == "leaf block":
        gateway.tamper = next(c for c in blocks if c != str(root))
    else:
        gateway.raw_supported = False
    with ScriptedServer(gateway) as server, pytest.raises(ContentMismatchError):
        fetch_ipfs_bytes(f"{server.url}/ipfs/{root}")
    row(
        area="cid",
        case=f"dag-pb CIDv{version}: {lie}",
        injected={
            "body": "the file differs from what the (genuine) blocks spell out",
            "root block": "the root block does not hash to its CID",
            "leaf block": "one leaf block does not hash to its CID",
            "no raw blocks": "a gateway without ?format=raw (answers the file instead)",
        }[lie],
        outcome="ContentMismatchError",
    )


def test_the_store_serves_raw_blocks(store: StoreServer, row: Row) -> None:
    cid = store.store.put(b'{"k": "v"}')
    for query, headers in (("?format=raw", {}), ("", {"Accept": "application/vnd.ipld.raw"})):
        answer = net.request("GET", f"{store.url}/ipfs/{cid}{query}", headers=headers)
        assert answer.header("content-type") == "application/vnd.ipld.raw"
        assert Cid(1, RAW_CODEC, SHA2_256, hashlib.sha256(answer.body).digest()) == parse_cid(cid)
    row(
        area="cid",
        case="devnet store ?format=raw",
        injected="GET /ipfs/<cid>?format=raw and Accept: application/vnd.ipld.raw",
        outcome="the block (application/vnd.ipld.raw), checkable against the CID",
    )
