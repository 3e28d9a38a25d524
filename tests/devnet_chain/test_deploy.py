"""deploy_suite on other nodes, the Deployment record, and the optional-dependency error."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from ogpu.devnet import (
    ADMIN,
    CLIENTS,
    Deployment,
    DeploymentError,
    Devnet,
    DevnetInputError,
    deploy_suite,
    load_artifact,
)

from ..helpers.ganache import running_ganache

ROOT = Path(__file__).resolve().parents[2]


def _plain_tester_w3() -> Web3:
    """A stock eth-tester chain (its own chain id) with only ADMIN funded."""
    state = {
        bytes.fromhex(ADMIN.address[2:]): {
            "balance": 100 * 10**18,
            "nonce": 0,
            "code": b"",
            "storage": {},
        }
    }
    return Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend(genesis_state=state))))


def _vault(w3: Web3, deployment: Deployment) -> Contract:
    return w3.eth.contract(address=deployment.vault, abi=load_artifact("Vault").abi)


@pytest.mark.slow
def test_deploy_on_a_stock_eth_tester_chain_with_custom_settings(devnet: Devnet) -> None:
    w3 = _plain_tester_w3()
    deployment = deploy_suite(w3, ADMIN.account, min_lockup_per_source=5, unbonding_period=7)
    assert deployment.chain_id == w3.eth.chain_id != 1337
    # Same deployer, same nonce: the same addresses as the devnet's.
    assert replace(deployment, chain_id=1337, block_number=13) == devnet.deployment
    vault = _vault(w3, deployment)
    # eth-tester's default sender is one of its own (unfunded) keys here.
    caller = {"from": ADMIN.address}
    assert vault.functions.MIN_LOCKUP_PER_SOURCE().call(caller) == 5
    assert vault.functions.UNBONDING_PERIOD().call(caller) == 7


def test_deploy_argument_checks(devnet: Devnet) -> None:
    with pytest.raises(DevnetInputError) as info:
        deploy_suite(devnet.w3, ADMIN.key_hex)  # type: ignore[arg-type]
    assert ADMIN.key.hex() not in str(info.value)
    for bad in (-1, 2**256, 1.0, True):
        with pytest.raises(DevnetInputError):
            deploy_suite(devnet.w3, ADMIN.account, min_lockup_per_source=bad)  # type: ignore[arg-type]
        with pytest.raises(DevnetInputError):
            deploy_suite(devnet.w3, ADMIN.account, unbonding_period=bad)  # type: ignore[arg-type]
    with pytest.raises(DevnetInputError):
        load_artifact("Nope")


def test_unfunded_deployer_fails_with_a_named_step(devnet: Devnet) -> None:
    broke = Account.from_key(b"\x42" * 32)
    with pytest.raises(DeploymentError) as info:
        deploy_suite(devnet.w3, broke)
    message = str(info.value)
    assert message.startswith("deploy Manager:")
    assert (b"\x42" * 32).hex() not in message


def test_deployment_json_round_trip(devnet: Devnet) -> None:
    d = devnet.deployment
    text = d.to_json()
    assert json.loads(text)["nexus"] == d.nexus
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert Deployment.from_json(text) == d
    lowered = json.loads(text)
    lowered["vault"] = d.vault.lower()
    assert Deployment.from_json(json.dumps(lowered)).vault == d.vault


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: "not json",
        lambda raw: json.dumps([1, 2]),
        lambda raw: json.dumps({k: v for k, v in raw.items() if k != "vault"}),
        lambda raw: json.dumps({**raw, "extra": 1}),
        lambda raw: json.dumps({**raw, "nexus": "0x1234"}),
        lambda raw: json.dumps({**raw, "nexus": 5}),
        lambda raw: json.dumps({**raw, "chain_id": -1}),
        lambda raw: json.dumps({**raw, "chain_id": True}),
        lambda raw: json.dumps({**raw, "block_number": "13"}),
    ],
)
def test_deployment_from_json_rejects_bad_records(
    devnet: Devnet, mutate: Callable[[dict[str, object]], str]
) -> None:
    raw = json.loads(devnet.deployment.to_json())
    with pytest.raises(DeploymentError):
        Deployment.from_json(mutate(raw))


@pytest.mark.slow
def test_importing_devnet_without_eth_tester() -> None:
    script = """
import sys
sys.modules["eth_tester"] = None  # what an environment without eth-tester looks like
import ogpu.devnet.deploy
import ogpu.devnet.pytest_plugin
from ogpu.devnet import deploy_suite, ADMIN, DevnetDependencyError
from ogpu.types import OGPUError
try:
    from ogpu.devnet import Devnet
except DevnetDependencyError as exc:
    assert isinstance(exc, ImportError) and isinstance(exc, OGPUError)
    print(exc)
else:
    raise SystemExit("Devnet imported without eth-tester")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "pip install 'ogpu[devnet]'" in out.stdout

    # Importing the web3-only parts does not load eth-tester or py-evm.
    probe = (
        "import sys, ogpu.devnet.deploy, ogpu.devnet.accounts\n"
        "print(sorted(m for m in ('eth_tester', 'eth') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def ganache() -> Iterator[Web3]:
    with running_ganache([ADMIN, CLIENTS[0]], balance_wei=10**22) as url:
        yield Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))


@pytest.mark.ganache
def test_deploy_on_ganache(ganache: Web3, devnet: Devnet) -> None:
    deployment = deploy_suite(ganache, ADMIN.account)
    assert replace(deployment, block_number=13) == devnet.deployment
    # The suite works there: a client publishes a source through Nexus.
    nexus = ganache.eth.contract(address=deployment.nexus, abi=load_artifact("Nexus").abi)
    client = CLIENTS[0]
    params = (client.address, "u", 1, 0, 0, 60, False, "", 0, 0)
    tx = nexus.functions.publishSource(params).build_transaction(
        {"from": client.address, "nonce": 0, "chainId": 1337}
    )
    tx_hash = ganache.eth.send_raw_transaction(client.account.sign_transaction(tx).raw_transaction)
    assert ganache.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert nexus.functions.getSourceCount().call() == 1
