"""The SDK state in one context: ``ogpu.using`` scopes (nested, per thread) and ``ogpu.reset``.

Every read and write here goes to a real EVM: the in-process devnet, the same chain over
HTTP through the counting proxy, or a second devnet deployed for the test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import ogpu
from ogpu.chain import CHAIN_RPC_URLS, DEFAULT_RPC_URLS, ChainConfig, ChainId, NonceManager
from ogpu.chain import Web3Manager as W3M
from ogpu.chain.context import carry, current
from ogpu.chain.multicall import execution_offset
from ogpu.chain.networks import default_contracts
from ogpu.chain.transport import HttpTransport
from ogpu.devnet import CLIENTS
from ogpu.devnet.chain import Devnet
from ogpu.ipfs.config import resolve_config
from ogpu.protocol import vault
from ogpu.types import ChainNotSupportedError, InvalidInputError, InvalidRpcUrlError

from ..helpers.proxy import FaultProxy

CLIENT = CLIENTS[0]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    ogpu.reset()
    yield
    ogpu.reset()


@pytest.fixture(scope="module")
def second_devnet() -> Devnet:
    """Another chain with the same chain id (1337) and the same accounts."""
    return Devnet()


def _assert_defaults() -> None:
    assert ChainConfig.get_current_chain() is ChainId.OGPU_MAINNET
    assert dict(CHAIN_RPC_URLS) == DEFAULT_RPC_URLS
    assert dict(ChainConfig.CHAIN_CONTRACTS) == default_contracts()
    endpoint = W3M.get_endpoint(ChainId.OGPU_DEVNET)
    assert isinstance(endpoint, HttpTransport)
    assert endpoint.url == DEFAULT_RPC_URLS[ChainId.OGPU_DEVNET]
    assert current().ipfs_store is None


def test_nested_scopes_restore_each_level(devnet: Devnet, proxy: FaultProxy) -> None:
    testnet = ChainConfig.CHAIN_CONTRACTS.get(ChainId.OGPU_TESTNET)
    with ogpu.using(ChainId.OGPU_DEVNET, web3=devnet.w3, contracts=devnet.deployment):
        assert ogpu.chain.WEB3() is devnet.w3
        assert ChainConfig.get_contract_address("VAULT") == devnet.deployment.vault
        vault.deposit(CLIENT.address, 7, signer=CLIENT.account)
        in_process = vault.get_balance_of(CLIENT.address)
        with ogpu.using(rpc=proxy.url):  # the same chain over HTTP
            assert ChainConfig.get_current_chain() is ChainId.OGPU_DEVNET
            assert ChainConfig.get_rpc() == proxy.url
            proxy.reset_counts()
            assert vault.get_balance_of(CLIENT.address) == in_process
            assert proxy.requests >= 1
            with ogpu.using(ChainId.OGPU_TESTNET):
                ChainConfig.set_chain(ChainId.OGPU_MAINNET)  # changes this block only
                assert ChainConfig.get_current_chain() is ChainId.OGPU_MAINNET
            assert ChainConfig.get_current_chain() is ChainId.OGPU_DEVNET
            ChainConfig.register_contracts(ChainId.OGPU_TESTNET, deployment_of(devnet))
            assert ChainConfig.get_contract_address("NEXUS", 1337) == devnet.deployment.nexus
        assert ChainConfig.CHAIN_CONTRACTS.get(ChainId.OGPU_TESTNET) == testnet
        assert ChainConfig.get_rpc() == DEFAULT_RPC_URLS[ChainId.OGPU_DEVNET]
        assert ogpu.chain.WEB3() is devnet.w3
        assert vault.get_balance_of(CLIENT.address) == in_process
    _assert_defaults()


def test_scope_arguments_are_checked_before_anything_changes() -> None:
    with pytest.raises(InvalidRpcUrlError):
        ogpu.using(ChainId.OGPU_DEVNET, rpc="ftp://node").__enter__()
    with pytest.raises(ChainNotSupportedError):
        ogpu.using(42).__enter__()
    with pytest.raises(InvalidInputError):
        ogpu.using(ChainId.OGPU_DEVNET, contracts={"nexus": CLIENT.address}).__enter__()
    _assert_defaults()


@pytest.mark.slow
def test_threads_each_run_in_their_own_scope(
    devnet: Devnet, second_devnet: Devnet, proxy: FaultProxy
) -> None:
    if nonce(second_devnet) == nonce(devnet):  # the two must disagree on the next nonce
        with ogpu.using(
            ChainId.OGPU_DEVNET, web3=second_devnet.w3, contracts=deployment_of(second_devnet)
        ):
            vault.deposit(CLIENT.address, 1, signer=CLIENT.account)
    nonces = {"first": nonce(devnet), "second": nonce(second_devnet)}
    before = {"first": vault_balance(devnet), "second": vault_balance(second_devnet)}
    gate = threading.Barrier(3, timeout=60)
    seen: dict[str, Any] = {}
    failures: list[BaseException] = []

    def on(name: str, chain: Devnet) -> Callable[[], None]:
        def run() -> None:
            with ogpu.using(ChainId.OGPU_DEVNET, web3=chain.w3, contracts=chain.deployment):
                gate.wait()  # all three threads are inside their scopes now
                for _ in range(3):
                    vault.deposit(CLIENT.address, 5, signer=CLIENT.account)
                seen[name] = (
                    ogpu.chain.WEB3() is chain.w3,
                    NonceManager.get_cached_nonce(1337, CLIENT.address),
                    chain.tester.get_nonce(CLIENT.address),
                )
                gate.wait()

        return guarded(run, failures)

    def outside() -> None:
        gate.wait()
        seen["outside"] = (ChainConfig.get_current_chain(), ChainConfig.get_rpc())
        gate.wait()

    threads = [
        threading.Thread(target=on("first", devnet)),
        threading.Thread(target=on("second", second_devnet)),
        threading.Thread(target=guarded(outside, failures)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert seen["outside"] == (ChainId.OGPU_MAINNET, DEFAULT_RPC_URLS[ChainId.OGPU_MAINNET])
    for name in ("first", "second"):
        pinned, cached, on_chain = seen[name]
        assert pinned and cached == on_chain, (name, seen[name])
    assert (seen["first"][2], seen["second"][2]) == (nonces["first"] + 3, nonces["second"] + 3)
    assert vault_balance(devnet) == before["first"] + 15
    assert vault_balance(second_devnet) == before["second"] + 15
    _assert_defaults()


def test_carry_takes_the_scope_into_a_worker_thread(devnet: Devnet) -> None:
    got: list[Any] = []
    with ogpu.using(ChainId.OGPU_DEVNET, web3=devnet.w3, contracts=devnet.deployment):
        plain = threading.Thread(target=lambda: got.append(ChainConfig.get_current_chain()))
        carried = threading.Thread(
            target=carry(lambda: got.append(vault.get_balance_of(CLIENT.address)))
        )
        for thread in (plain, carried):
            thread.start()
            thread.join(60)
        expected = vault.get_balance_of(CLIENT.address)
    assert got == [ChainId.OGPU_MAINNET, expected]


def test_reset_gives_the_next_devnet_user_a_clean_state(devnet: Devnet) -> None:
    snapshot = devnet.snapshot()
    pending = devnet.tester.get_nonce(CLIENT.address)
    ChainConfig.use_devnet(devnet.deployment, web3=devnet.w3)
    vault.deposit(CLIENT.address, 3, signer=CLIENT.account)
    assert NonceManager.get_cached_nonce(1337, CLIENT.address) == pending + 1
    W3M.update_rpc_url(ChainId.OGPU_MAINNET, "http://127.0.0.1:1")
    ChainConfig.register_contracts(ChainId.OGPU_TESTNET, deployment_of(devnet))
    current().ipfs_store = "http://127.0.0.1:2"
    assert resolve_config().api_url == "http://127.0.0.1:2"
    devnet.revert(snapshot)  # the chain forgets the deposit; the SDK must forget its nonce

    ogpu.reset()
    _assert_defaults()
    assert NonceManager.get_cached_nonce(1337, CLIENT.address) is None
    ChainConfig.use_devnet(devnet.deployment, web3=devnet.w3)
    assert NonceManager.reserve(devnet.w3, 1337, CLIENT.address) == pending


def test_reset_drops_the_transports_and_what_they_learnt(proxy: FaultProxy) -> None:
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)
    ChainConfig.set_rpc(proxy.url)
    first = W3M.get_endpoint()
    assert isinstance(first, HttpTransport)
    with ogpu.using(rpc=proxy.url):  # a scope shares the pool of the same endpoint
        assert W3M.get_endpoint() is first
    proxy.reset_counts()
    execution_offset(first)
    learnt = proxy.requests
    execution_offset(first)
    assert learnt == 2 and proxy.requests == learnt  # learnt once per transport

    ogpu.reset()  # the next test starts as a new process would: nothing learnt
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)
    ChainConfig.set_rpc(proxy.url)
    again = W3M.get_endpoint()
    assert again is not first
    proxy.reset_counts()
    execution_offset(again)
    assert proxy.requests == learnt


def test_a_registered_store_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "ogpu")
    monkeypatch.setenv("OGPU_IPFS_API_URL", "https://example.org")
    with ogpu.using():
        current().ipfs_store = "http://127.0.0.1:5999"
        inside = resolve_config()
        assert resolve_config("ogpu").api_url == "https://example.org"
    assert (inside.backend, inside.api_url, inside.gateway_url) == (
        "devnet",
        "http://127.0.0.1:5999",
        "http://127.0.0.1:5999",
    )
    assert resolve_config().backend == "ogpu"


def deployment_of(chain: Devnet) -> dict[str, str]:
    return {
        name: getattr(chain.deployment, name)
        for name in ("nexus", "controller", "terminal", "vault")
    }


def nonce(chain: Devnet) -> int:
    return int(chain.tester.get_nonce(CLIENT.address))


def vault_balance(chain: Devnet) -> int:
    with ogpu.using(ChainId.OGPU_DEVNET, web3=chain.w3, contracts=chain.deployment):
        return vault.get_balance_of(CLIENT.address)


def guarded(fn: Callable[[], None], failures: list[BaseException]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            failures.append(exc)

    return run
