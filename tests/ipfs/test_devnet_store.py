"""Round trips through the real devnet content store, for every backend shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ogpu.chain import ChainConfig, ChainId
from ogpu.devnet.store import StoreServer
from ogpu.ipfs import (
    DevnetStoreBackend,
    IPFSBackend,
    IPFSNodeBackend,
    OGPUPinningBackend,
    fetch_ipfs_json,
    publish_to_ipfs,
    resolve_config,
)
from ogpu.ipfs.cid import cid_for_bytes
from ogpu.types import IPFSGatewayError, IPFSUploadError

DEVNET_ADDRESSES = {
    "nexus": "0x" + "11" * 20,
    "controller": "0x" + "22" * 20,
    "terminal": "0x" + "33" * 20,
    "vault": "0x" + "44" * 20,
}


@pytest.fixture(scope="module")
def store() -> Iterator[StoreServer]:
    with StoreServer("127.0.0.1", 0, max_upload=64 * 1024) as server:
        yield server


@pytest.fixture
def devnet_chain() -> Iterator[None]:
    ChainConfig.use_devnet(DEVNET_ADDRESSES, rpc="http://127.0.0.1:8545")
    try:
        yield
    finally:
        ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)


def _shapes(url: str) -> list[IPFSBackend]:
    return [OGPUPinningBackend(url, url), IPFSNodeBackend(url, url), DevnetStoreBackend(url)]


@pytest.mark.parametrize("shape", [0, 1, 2], ids=["ogpu-pinning", "ipfs-node", "devnet"])
def test_round_trip(store: StoreServer, shape: int) -> None:
    payload = {"shape": shape, "name": "résumé", "values": [1, 2, 3]}
    url = publish_to_ipfs(payload, backend=_shapes(store.url)[shape])
    cid = url.rsplit("/ipfs/", 1)[1]
    expected = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert cid == cid_for_bytes(expected)
    assert url == f"{store.url}/ipfs/{cid}"
    assert fetch_ipfs_json(url) == payload
    assert fetch_ipfs_json(f"ipfs://{cid}", gateway=store.url) == payload


def test_every_shape_names_the_same_content_alike(store: StoreServer) -> None:
    urls = {publish_to_ipfs({"same": True}, backend=b) for b in _shapes(store.url)}
    assert len(urls) == 1


def test_unknown_cid_is_a_gateway_404(store: StoreServer) -> None:
    missing = cid_for_bytes(b"never stored")
    with pytest.raises(IPFSGatewayError) as info:
        fetch_ipfs_json(f"{store.url}/ipfs/{missing}")
    assert info.value.status_code == 404


def test_oversized_upload_is_refused_not_retried(store: StoreServer) -> None:
    with pytest.raises(IPFSUploadError, match="413"):
        publish_to_ipfs(b"x" * (128 * 1024), backend=DevnetStoreBackend(store.url))


def test_devnet_chain_selects_the_devnet_store(
    store: StoreServer, devnet_chain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = resolve_config()
    assert config.backend == "devnet"
    assert config.api_url == config.gateway_url == "http://127.0.0.1:5001"
    monkeypatch.setenv("OGPU_IPFS_API_URL", store.url)
    url = publish_to_ipfs({"default": "devnet"})
    assert url.startswith(f"{store.url}/ipfs/")
    assert fetch_ipfs_json(url) == {"default": "devnet"}


def test_live_chains_select_the_ogpu_pinning_service() -> None:
    for chain in (ChainId.OGPU_MAINNET, ChainId.OGPU_TESTNET):
        ChainConfig.set_chain(chain)
        config = resolve_config()
        assert (config.backend, config.api_url, config.gateway_url) == (
            "ogpu",
            "https://capi.ogpuscan.io",
            "https://cipfs.ogpuscan.io",
        )
    ChainConfig.set_chain(ChainId.OGPU_MAINNET)
