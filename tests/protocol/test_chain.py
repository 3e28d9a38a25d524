"""ogpu.chain: ChainConfig, ChainId, Web3Manager, NonceManager and helpers, signers,
and the one-request multicall."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eth_account import Account
from ogpu_bindings import vault as vault_abi
from web3 import Web3

import ogpu
from ogpu.chain import (
    CHAIN_RPC_URLS,
    WEB3,
    ChainConfig,
    ChainId,
    NonceManager,
    Web3Manager,
    clear_all_nonce_caches,
    fix_nonce,
    get_nonce_info,
    get_web3_for_chain,
    multicall,
    reset_nonce_cache,
    resolve_signer,
    rpc,
)
from ogpu.devnet import CLIENTS, PROVIDERS
from ogpu.protocol import _bindings as bindings
from ogpu.protocol import load_contract, vault
from ogpu.types import (
    ChainNotSupportedError,
    InvalidAddressError,
    InvalidInputError,
    InvalidRpcUrlError,
    InvalidSignerError,
    MissingSignerError,
    Role,
)

from ..helpers.wait import free_port, run_concurrently


def test_chain_ids_and_defaults() -> None:
    assert (ChainId.OGPU_MAINNET, ChainId.OGPU_TESTNET, ChainId.OGPU_DEVNET) == (
        1071,
        200820172034,
        1337,
    )
    assert ChainConfig.get_current_chain() is ChainId.OGPU_MAINNET
    assert ChainConfig.get_contract_address("NEXUS") == "0x2b0cC6058313801D5feb184a539e3a0C5A87a6a1"
    assert ChainConfig.get_contract_address("vault", ChainId.OGPU_TESTNET) == (
        "0x15905a2FbD3EF5d3532b931b5656BB9EB493Bb15"
    )
    assert ChainConfig.get_rpc() == "https://mainnet-rpc.ogpuscan.io"
    assert ChainConfig.get_rpc(ChainId.OGPU_TESTNET) == "https://testnetrpc.ogpuscan.io"
    assert ChainConfig.get_network(ChainId.OGPU_DEVNET) == "mainnet"
    assert ChainConfig.get_network(ChainId.OGPU_TESTNET) == "testnet"
    supported = ChainConfig.get_all_supported_chains()
    assert ChainId.OGPU_MAINNET in supported and ChainId.OGPU_TESTNET in supported
    assert ogpu.ChainConfig is ChainConfig and ogpu.fix_nonce is fix_nonce


def test_set_chain_and_errors() -> None:
    try:
        ChainConfig.set_chain(ChainId.OGPU_TESTNET)
        assert ChainConfig.get_current_chain() is ChainId.OGPU_TESTNET
        assert bindings.network() == "testnet"
        ChainConfig.set_chain(1071)
        assert ChainConfig.get_current_chain() is ChainId.OGPU_MAINNET
        with pytest.raises(ChainNotSupportedError):
            ChainConfig.set_chain(42)
        with pytest.raises(InvalidInputError):
            ChainConfig.get_contract_address("MANAGERX")
    finally:
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)


def test_load_abi_is_cached_and_per_network() -> None:
    nexus_abi = ChainConfig.load_abi("NexusAbi")
    assert ChainConfig.load_abi("NexusAbi") is nexus_abi
    names = {e.get("name") for e in ChainConfig.load_abi("VaultAbi")}
    assert "cancelUnbonding" in names
    try:
        ChainConfig.set_chain(ChainId.OGPU_TESTNET)
        assert "cancelUnbonding" not in {e.get("name") for e in ChainConfig.load_abi("VaultAbi")}
    finally:
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)
    with pytest.raises(FileNotFoundError):
        ChainConfig.load_abi("NoSuchAbi")
    with pytest.raises(FileNotFoundError):
        ChainConfig.load_abi("../mainnet/NexusAbi")


def test_load_contract_modes() -> None:
    nexus = load_contract("NexusAbi")
    assert nexus.address == ChainConfig.get_contract_address("NEXUS")
    task = load_contract("TaskAbi", "0x" + "ab" * 20)
    assert task.address == Web3.to_checksum_address("0x" + "ab" * 20)
    with pytest.raises(ValueError):
        load_contract("TaskAbi")
    with pytest.raises(FileNotFoundError):
        load_contract("MissingAbi", "0x" + "ab" * 20)


def test_use_devnet_registers_addresses(net: Any) -> None:
    deployment = net.deployment
    assert ChainConfig.get_current_chain() is ChainId.OGPU_DEVNET
    assert ChainConfig.get_contract_address("VAULT") == deployment.vault
    assert WEB3() is net.w3 and get_web3_for_chain(1337) is net.w3
    with pytest.raises(InvalidInputError):
        ChainConfig.use_devnet({"nexus": deployment.nexus})
    with pytest.raises(InvalidAddressError):
        ChainConfig.register_contracts(
            ChainId.OGPU_DEVNET,
            {"NEXUS": "0x12", "CONTROLLER": "0x12", "TERMINAL": "0x12", "VAULT": "0x12"},
        )


@pytest.mark.slow
def test_set_get_reset_rpc(http_net: Any, proxy: Any) -> None:
    ChainConfig.set_rpc(proxy.url, ChainId.OGPU_DEVNET)
    assert ChainConfig.get_rpc(ChainId.OGPU_DEVNET) == proxy.url
    assert CHAIN_RPC_URLS[ChainId.OGPU_DEVNET] == proxy.url
    w3 = Web3Manager.get_web3_instance()
    assert Web3Manager.get_web3_instance(ChainId.OGPU_DEVNET) is w3
    with pytest.raises(InvalidRpcUrlError):
        ChainConfig.set_rpc(proxy.url, ChainId.OGPU_TESTNET)  # serves chain 1337
    with pytest.raises(InvalidRpcUrlError):
        ChainConfig.set_rpc(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(InvalidRpcUrlError):
        ChainConfig.set_rpc("ftp://example.invalid")
    ChainConfig.reset_rpc()
    assert ChainConfig.get_rpc() == "http://127.0.0.1:8545"
    assert Web3Manager.get_web3_instance() is not w3


def test_web3_manager_pools_one_session() -> None:
    one = Web3Manager.get_web3_instance(ChainId.OGPU_MAINNET)
    two = Web3Manager.get_web3_instance(ChainId.OGPU_TESTNET)
    assert one is not two
    assert Web3Manager.get_web3_instance(ChainId.OGPU_MAINNET) is one
    session = Web3Manager.session()
    adapter = session.get_adapter("http://127.0.0.1")
    assert adapter._pool_maxsize >= 8  # type: ignore[attr-defined]


@pytest.mark.slow
def test_unreachable_node_is_rpc_error(net: Any) -> None:
    from ogpu.types import RPCError

    Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RPCError) as caught:
        vault.get_balance_of(CLIENTS[0].address)
    assert caught.value.method == "eth_call"
    with pytest.raises(RPCError):
        vault.deposit(CLIENTS[0].address, 1, signer=CLIENTS[0].account)


# -- nonces ----------------------------------------------------------------------------------


def test_nonce_manager_reserve_release_resync(net: Any) -> None:
    account = CLIENTS[0].address
    w3 = net.w3
    start = net.tester.get_nonce(account)
    assert NonceManager.get_cached_nonce(1337, account) is None
    assert [NonceManager.reserve(w3, 1337, account) for _ in range(3)] == [
        start,
        start + 1,
        start + 2,
    ]
    NonceManager.release(1337, account, start + 1)
    assert NonceManager.get_cached_nonce(1337, account) == start + 1
    assert NonceManager.reserve(w3, 1337, account) == start + 1
    NonceManager.release(1337, account, start + 2)
    NonceManager.release(1337, account, start + 1)
    assert NonceManager.reserve(w3, 1337, account) == start + 1
    assert NonceManager.resync(w3, 1337, account) == start
    NonceManager.reset(1337, account)
    assert NonceManager.get_cached_nonce(1337, account) is None
    # the lower-case spelling is the same account
    assert NonceManager.account_lock(1337, account.lower()) is NonceManager.account_lock(
        1337, account
    )


def test_nonce_reservations_are_unique_across_threads(net: Any) -> None:
    account = CLIENTS[1].address
    start = net.tester.get_nonce(account)
    NonceManager.resync(net.w3, 1337, account)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            n = NonceManager.reserve(net.w3, 1337, account)
            with lock:
                got.append(n)

    run_concurrently([take] * 8)
    assert sorted(got) == list(range(start, start + 400))


def test_nonce_helpers(net: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = CLIENTS[0]
    vault.deposit(client.address, 1, signer=client.account)
    info = get_nonce_info(client.address)
    mined = net.tester.get_nonce(client.address)
    assert info == {
        "address": client.address,
        "chain_id": 1337,
        "mined_nonce": mined,
        "pending_nonce": mined,
        "cached_nonce": mined,
        "has_pending": False,
        "pending_count": 0,
    }
    # a transaction sent outside the SDK makes the cache stale until fix_nonce
    net.w3.eth.send_transaction({"from": client.address, "to": client.address, "value": 0})
    assert get_nonce_info(private_key=client.key_hex)["cached_nonce"] == mined
    assert fix_nonce(client.address) == mined + 1
    assert NonceManager.get_cached_nonce(1337, client.address) == mined + 1
    reset_nonce_cache(private_key=client.key_hex)
    assert NonceManager.get_cached_nonce(1337, client.address) is None
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", client.key_hex)
    assert get_nonce_info()["address"] == client.address
    clear_all_nonce_caches()
    monkeypatch.delenv("CLIENT_PRIVATE_KEY")
    with pytest.raises(InvalidInputError):
        get_nonce_info()
    with pytest.raises(InvalidSignerError):
        fix_nonce(private_key="0x1234")


# -- signers ---------------------------------------------------------------------------------


def test_resolve_signer_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "0x" + "11" * 32
    local = Account.from_key(key)
    assert resolve_signer(local, Role.CLIENT) is local
    assert resolve_signer(key, Role.CLIENT).address == local.address
    assert resolve_signer(key[2:]).address == local.address
    assert resolve_signer(bytes.fromhex("11" * 32)).address == local.address
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", key)
    assert resolve_signer(None, Role.PROVIDER).address == local.address
    with pytest.raises(MissingSignerError):
        resolve_signer(None, Role.MASTER)
    with pytest.raises(MissingSignerError):
        resolve_signer(None)
    for bad in ("0x1234", "0x" + "zz" * 32, b"\x01" * 31):
        with pytest.raises(InvalidSignerError) as caught:
            resolve_signer(bad, Role.CLIENT)
        assert "11" * 32 not in str(caught.value)
    assert Role.AGENT.env_var == "AGENT_PRIVATE_KEY"


# -- the aggregator --------------------------------------------------------------------------


class _Call:
    def __init__(self, to: str, data: bytes) -> None:
        self.to = to
        self.data = data


def test_multicall_reads_one_block_and_reports_failures(net: Any) -> None:
    vault_mod = vault_abi
    address = ChainConfig.get_contract_address("VAULT")
    calls = [
        vault_mod.min_lockup_per_source_call(address),
        vault_mod.unbonding_period_call(address),
    ]
    outcome = multicall.aggregate(net.w3, calls)
    assert [c.decode(r.data) for c, r in zip(calls, outcome.results, strict=True)] == [10**18, 60]
    assert multicall.execution_offset(net.w3) == 0  # eth-tester numbers calls like geth
    assert outcome.block_number == net.block_number()
    bad = multicall.aggregate(net.w3, [_Call(address, bytes.fromhex("deadbeef"))])
    assert bad.results[0].success is False
    empty = multicall.aggregate(net.w3, [])
    assert empty.results == ()
    with pytest.raises(ValueError):
        multicall.encode_payload([_Call("0x1234", b"")])


@pytest.mark.slow
def test_multicall_splits_big_batches_and_pins_one_block(http_net: Any, proxy: Any) -> None:
    w3 = Web3Manager.get_web3_instance()
    vault_mod = vault_abi
    address = ChainConfig.get_contract_address("VAULT")
    vault.deposit(PROVIDERS[0].address, 5, signer=PROVIDERS[0].account)
    accounts = [a.address for a in (*CLIENTS, *PROVIDERS)] * 120
    calls = [vault_mod.balance_of_call(address, a) for a in accounts]
    head = http_net.block_number()

    proxy.reset_counts()
    outcome = multicall.aggregate_all(w3, calls, output_sizes=[200] * len(calls))
    assert proxy.sequence[0] == "eth_blockNumber"
    per_aggregate = (multicall.MAX_OUTPUT - 32) // (32 + 200)
    groups = -(-len(calls) // per_aggregate)
    # the head, then every aggregate pinned to it in one JSON-RPC batch
    assert proxy.requests == 2 and proxy.sequence[1:] == ["eth_call"] * groups
    assert multicall.state_block(w3, outcome.block_number) == head
    balances = [c.decode(r.data) for c, r in zip(calls, outcome.results, strict=True)]
    assert balances[len(CLIENTS)] == 5 and balances.count(5) == 120

    # estimates too small: the node refuses the oversized output, the group is
    # halved and retried, every part pinned to the same block
    proxy.reset_counts()
    halved = multicall.aggregate_all(w3, calls[:400], output_sizes=[0] * 400)
    assert proxy.sequence == ["eth_call", "eth_blockNumber", "eth_call", "eth_call"]
    assert proxy.requests == 3  # the halves share one batch
    assert halved.block_number == outcome.block_number
    assert [r.data for r in halved.results] == [r.data for r in outcome.results[:400]]


def test_rpc_errors_are_normalized(net: Any) -> None:
    with pytest.raises(rpc.NodeError):
        rpc.request(net.w3, "eth_noSuchMethod", [])
    with pytest.raises(rpc.ExecutionReverted) as caught:
        rpc.request(
            net.w3,
            "eth_call",
            [{"to": ChainConfig.get_contract_address("VAULT"), "data": "0xdeadbeef"}, "latest"],
        )
    assert isinstance(caught.value.data, bytes)
    assert rpc.encode_error_string("X")[:4] == bytes.fromhex("08c379a0")


def test_paginated_call_over_callables() -> None:
    # fetch_fn takes both bounds inclusive (official 0.2.3) and, like the deployed
    # getters, fails for any index at or past the end; from_zero getters for lower > 0.
    from ogpu.protocol import ZERO_ADDRESS, _paginated_call

    items = [f"0x{i:040x}" for i in range(1, 8)] + [ZERO_ADDRESS]
    fetched: list[tuple[int, int]] = []
    counted: list[int] = []

    def count() -> int:
        counted.append(1)
        return len(items)

    def fetch(lo: int, hi: int) -> list[str]:
        assert lo <= hi < len(items), f"asked {lo}..{hi} of {len(items)}"
        fetched.append((lo, hi))
        return items[lo : hi + 1]

    def from_zero(lo: int, hi: int) -> list[str]:
        assert lo == 0, "absolute indexing panics for lower > 0"
        return fetch(lo, hi)

    assert _paginated_call(count, fetch, chunk_size=3) == items[:7]
    assert fetched == [(0, 2), (3, 5), (6, 7)] and len(counted) == 1
    fetched.clear()
    assert _paginated_call(count, fetch, 2, 4, chunk_size=3) == items[2:4]
    assert fetched == [(2, 3)] and len(counted) == 2  # the count bounds every read
    fetched.clear()
    assert _paginated_call(count, fetch, 5, 100, chunk_size=3) == items[5:7]
    assert fetched == [(5, 7)]
    fetched.clear()
    assert _paginated_call(count, fetch, 8) == [] and _paginated_call(count, fetch, 20) == []
    assert _paginated_call(count, fetch, 3, 3) == [] and fetched == []
    assert len(counted) == 5  # lower == upper costs nothing
    assert _paginated_call(count, from_zero, 2, 5, fetch_from_zero=True) == items[2:5]
    assert _paginated_call(count, from_zero, fetch_from_zero=True) == items[:7]
    assert fetched == [(0, 4), (0, 7)]
    fetched.clear()
    assert _paginated_call(lambda: 0, fetch) == [] and fetched == []
    with pytest.raises(InvalidInputError):
        _paginated_call(count, fetch, chunk_size=0)
    with pytest.raises(InvalidInputError):
        _paginated_call(count, fetch, 5, 1)


def test_web3_manager_clear_forgets_instances(net: Any) -> None:
    assert Web3Manager.get_web3_instance() is net.w3
    Web3Manager.clear()
    assert Web3Manager.get_web3_instance() is not net.w3


def test_read_retry_classifies_what_the_public_rpc_does_under_load() -> None:
    from ogpu import net

    lagging = [
        "block 0x1f2e not found",
        "header not found",
        "unknown block",
        "Block 0xAB Not Found",
        "rate limit exceeded",
    ]
    for message in lagging:
        assert net.is_transient_reply(message), message
    # final answers (transport failures are classified by the transport, not by message)
    for message in ("out of gas", "the method eth_x does not exist", "execution reverted"):
        assert not net.is_transient_reply(message), message
