"""Code written for the official SDK (ogpu 0.2.3) running on ours, against a real node.

Each test uses the official spelling: ``import ogpu; ogpu.client...``, the renamed
parameters (positionally and by keyword), extra keyword arguments, the pydantic
params, ``Task.get_response_of``, the environment helpers, ``set_verbose``,
``ChainConfig.set_chain(ChainId.OGPU_DEVNET)`` on its own.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import BaseModel

from ogpu.chain import ChainConfig, ChainId
from ogpu.chain.config import DEVNET_DEFAULT_CONTRACTS
from ogpu.client import (
    Source,
    Task,
    cancel_task,
    combine_environments,
    confirm_response,
    environment_names,
    inactivate_source,
    parse_environments,
    publish_source,
    publish_task,
    set_agent,
    update_source,
)
from ogpu.devnet.connect import deterministic_addresses
from ogpu.events.watchers import get_async_web3, get_nexus_contract
from ogpu.ipfs import fetch_ipfs_json, publish_to_ipfs
from ogpu.protocol import nexus
from ogpu.types import (
    Environment,
    ImageEnvironments,
    InvalidAddressError,
    InvalidRpcUrlError,
    IPFSUploadError,
    SourceStatus,
    TaskStatus,
    TxHash,
)
from ogpu.types.metadata import SourceParams

from ..helpers.child import last_json
from ..helpers.wait import free_port

if TYPE_CHECKING:
    from conftest import Net

ETHER = 10**18
PAYMENT = 10**16


# -- a fresh interpreter, as a user's script ------------------------------------------------------

_SCRIPT = """
import json, sys, time
import ogpu
from ogpu.client import ImageEnvironments, SourceInfo, TaskInfo, TaskInput

ogpu.set_verbose(True)
ogpu.ChainConfig.set_chain(ogpu.ChainId.OGPU_DEVNET)   # no use_devnet: the default devnet
ogpu.ChainConfig.set_rpc(sys.argv[1])
source = ogpu.client.publish_source(SourceInfo(
    name="s", description="d", logoUrl="https://example.com/l.png",
    imageEnvs=ImageEnvironments(cpu="https://example.com/c.yml"),
    minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600))
task = ogpu.client.publish_task(TaskInfo(
    source=source.address, config=TaskInput(function_name="predict", data={"text": "hi"}),
    expiryTime=int(time.time()) + 600, payment=10**16), nonce=7, auto_fix_nonce=True)
print(json.dumps({"source": source.address, "task": task.address,
                  "nexus": ogpu.ChainConfig.get_contract_address("NEXUS")}))
"""


@pytest.mark.slow
def test_a_script_for_the_official_sdk_runs_unchanged(net: Net, tmp_path: Path) -> None:
    net.fund(net.client, ETHER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGPU_VERBOSE")}
    env.update(HOME=str(tmp_path), CLIENT_PRIVATE_KEY=net.client.key_hex)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, net.rpc.url],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = last_json(done.stdout)
    assert out["nexus"] == net.node.deployment.nexus == DEVNET_DEFAULT_CONTRACTS["NEXUS"]
    task = Task(out["task"])
    assert task.get_status() == TaskStatus.NEW and task.get_source().address == out["source"]
    # set_verbose: every stage with its duration, on stderr
    log = done.stderr
    assert " DEBUG   ogpu.ipfs — publishing taskConfig.json" in log
    assert " INFO    ogpu.ipfs — IPFS upload of taskConfig.json done in " in log
    assert "ogpu.tx — [Controller.publishTask" in log and " sent in " in log
    assert " mined in block " in log and ", total " in log
    assert "IgnoredArgumentsWarning" in log and "auto_fix_nonce, nonce" in log
    assert net.client.key_hex[2:] not in log + done.stdout


def test_default_devnet_addresses_are_the_deployed_ones(net: Net) -> None:
    computed = deterministic_addresses()
    assert {
        name.upper(): computed[name] for name in ("nexus", "controller", "terminal", "vault")
    } == DEVNET_DEFAULT_CONTRACTS
    deployed = net.node.deployment
    assert DEVNET_DEFAULT_CONTRACTS["VAULT"] == deployed.vault
    assert DEVNET_DEFAULT_CONTRACTS["CONTROLLER"] == deployed.controller


def test_use_devnet_without_arguments_selects_the_default_devnet(net: Net) -> None:
    ChainConfig.set_chain(ChainId.OGPU_MAINNET)
    ChainConfig.CHAIN_CONTRACTS[ChainId.OGPU_DEVNET] = dict.fromkeys(DEVNET_DEFAULT_CONTRACTS, "")
    ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
    ChainConfig.use_devnet()
    assert ChainConfig.get_current_chain() is ChainId.OGPU_DEVNET
    assert ChainConfig.get_rpc() == "http://127.0.0.1:8545"
    assert ChainConfig.CHAIN_CONTRACTS[ChainId.OGPU_DEVNET] == DEVNET_DEFAULT_CONTRACTS
    ChainConfig.set_rpc(net.rpc.url)  # the node under test is not on port 8545
    assert nexus.get_source_count() == 0


# -- renamed parameters, positionally and by keyword ---------------------------------------------


@pytest.mark.slow
def test_cancel_task_takes_task_positionally_by_keyword_and_as_instance(
    net: Net, source: Source
) -> None:
    tasks = [publish_task(net.task_info(str(source)), signer=net.client.account) for _ in range(3)]
    receipts = [
        cancel_task(tasks[0].address, net.client.key_hex),
        cancel_task(task=tasks[1].address, private_key=net.client.key_hex),
        cancel_task(tasks[2], signer=net.client.account),
    ]
    assert [t.get_status() for t in tasks] == [TaskStatus.CANCELED] * 3
    assert len({r.tx_hash for r in receipts}) == 3
    with net.nothing_sent(), pytest.raises(InvalidAddressError) as caught:
        cancel_task(task="0x12", signer=net.client.account)
    assert caught.value.param == "task"


@pytest.mark.slow
def test_update_and_inactivate_source_take_the_official_names(net: Net) -> None:
    first = publish_source(net.source_info(), signer=net.client.account)
    second = publish_source(net.source_info(), signer=net.client.account)
    update_source(first, net.source_info(min_payment=5 * 10**15), net.client.key_hex)
    update_source(
        source=second.address,
        new_info=net.source_info(min_payment=7 * 10**15),
        private_key=net.client.key_hex,
    )
    assert first.get_params().minPayment == 5 * 10**15
    assert second.get_params().minPayment == 7 * 10**15
    inactivate_source(first, net.client.key_hex)
    inactivate_source(source=second.address, private_key=net.client.key_hex)
    assert first.get_status() == second.get_status() == SourceStatus.INACTIVE


def test_extra_keyword_arguments_are_tolerated(net: Net, source: Source) -> None:
    legacy = {"nonce": 42, "auto_fix_nonce": False, "max_retries": 9}
    with pytest.warns(UserWarning, match="auto_fix_nonce, max_retries, nonce") as caught:
        task = publish_task(net.task_info(str(source)), net.client.key_hex, **legacy)
    assert type(caught[0].message).__name__ == "IgnoredArgumentsWarning"
    assert "42" not in str(caught[0].message)  # names only, never values
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning):
            cancel_task(task, net.client.key_hex, nonce=1)
    assert task.get_status() == TaskStatus.NEW  # the warning-as-error stopped it before sending
    with pytest.warns(UserWarning):
        cancel_task(task, net.client.key_hex, nonce=1)
    assert task.get_status() == TaskStatus.CANCELED


# -- responses, hashes, environment helpers, pydantic params -------------------------------------


@pytest.mark.slow
def test_get_response_of_and_confirm_response_returns_the_hash(net: Net, source: Source) -> None:
    task = publish_task(net.task_info(str(source)), signer=net.client.account)
    net.register(source)
    nexus.attempt(task.address, net.provider.address, PAYMENT, signer=net.provider.account)
    response = net.respond(task.address, net.provider, publish_to_ipfs({"label": "positive"}))

    assert task.get_response_of(net.provider.address) == response
    assert task.get_response_of(net.other_provider.address.lower()) is None
    with pytest.raises(InvalidAddressError):
        task.get_response_of("nope")

    tx_hash = confirm_response(response.address, net.client.key_hex)
    assert isinstance(tx_hash, str) and isinstance(tx_hash, TxHash)
    assert tx_hash.startswith("0x") and len(tx_hash) == 66
    mined = net.node.call("eth_getTransactionReceipt", [tx_hash])
    assert int(mined["blockNumber"], 16) == tx_hash.receipt.block_number == tx_hash.block_number
    assert task.get_status() == TaskStatus.FINALIZED
    agent_hash = set_agent(net.agent.address, True, net.client.key_hex)
    assert isinstance(agent_hash, str) and agent_hash == agent_hash.receipt.tx_hash


def test_environment_helpers_read_a_published_mask(net: Net) -> None:
    info = net.source_info()
    info.imageEnvs = ImageEnvironments(cpu="https://e.com/c.yml", amd="https://e.com/a.yml")
    source = publish_source(info, signer=net.client.account)
    mask = source.get_params().imageEnvironments
    assert mask == combine_environments(Environment.CPU, Environment.AMD) == 5
    assert parse_environments(mask) == [Environment.CPU, Environment.AMD]
    assert environment_names(mask) == ["CPU", "AMD"]
    assert environment_names(combine_environments()) == []


def test_params_are_pydantic_models_the_chain_accepts(net: Net, source: Source) -> None:
    params = source.get_params()
    assert isinstance(params, BaseModel) and isinstance(params, SourceParams)
    assert params.to_tuple()[0] == net.client.address and len(params.to_tuple()) == 10
    changed = params.model_copy(update={"minPayment": 3 * 10**15})
    source.set_params(changed, signer=net.client.account)
    assert source.get_params().minPayment == 3 * 10**15
    assert source.snapshot().params.model_dump()["minPayment"] == 3 * 10**15
    task = publish_task(net.task_info(str(source)), signer=net.client.account)
    assert task.get_params().to_tuple()[2:] == (task.get_expiry_time(), PAYMENT)


# -- ipfs and events helpers as the official SDK calls them --------------------------------------


def test_publish_and_fetch_with_the_official_arguments(net: Net) -> None:
    url = publish_to_ipfs({"a": 1}, "a.json", "application/json", 5, 2, 0.1)
    assert fetch_ipfs_json(url, 5) == {"a": 1}
    net.store.reset_counts()
    with pytest.raises(IPFSUploadError, match="budget"):
        publish_to_ipfs({"a": 2}, "b.json", "application/json", 5, 2, 0.1, 0.0)
    assert net.store.posts() == 0  # a spent deadline sends nothing


class _Counts(BaseModel):
    sources: int


def test_async_web3_helpers_reach_the_active_chain(net: Net, source: Source) -> None:
    async def read() -> _Counts:
        w3 = await get_async_web3()
        assert await get_async_web3() is w3
        contract = await get_nexus_contract(w3)
        return _Counts(sources=await contract.functions.getSourceCount().call())

    assert asyncio.run(read()).sources == nexus.get_source_count() == 1


def test_async_web3_refuses_a_node_of_another_chain(net: Net) -> None:
    from ogpu.chain import Web3Manager

    ChainConfig.set_chain(ChainId.OGPU_TESTNET)
    Web3Manager.update_rpc_url(ChainId.OGPU_TESTNET, net.rpc.url)  # a devnet, not testnet
    try:
        with pytest.raises(InvalidRpcUrlError, match="serves chain id 1337"):
            asyncio.run(get_async_web3())
    finally:
        ChainConfig.reset_rpc(ChainId.OGPU_TESTNET)


@pytest.mark.slow
def test_async_web3_unreachable_is_a_connection_error(net: Net) -> None:
    from ogpu.chain import Web3Manager

    closed = free_port()
    Web3Manager.update_rpc_url(ChainId.OGPU_DEVNET, f"http://u:secret@127.0.0.1:{closed}/?k=1")
    with pytest.raises(ConnectionError) as caught:  # what the official SDK raises
        asyncio.run(get_async_web3())
    assert isinstance(caught.value, InvalidRpcUrlError)
    assert "secret" not in str(caught.value) and "k=1" not in str(caught.value)


def test_receipt_from_web3_receipt_decodes_like_ours(net: Net, source: Source) -> None:
    from ogpu.chain import Web3Manager
    from ogpu.types import Receipt

    task = publish_task(net.task_info(str(source)), signer=net.client.account)
    receipt = cancel_task(task, signer=net.client.account)
    raw = Web3Manager.get_web3_instance().eth.get_transaction_receipt(receipt.tx_hash)  # type: ignore[arg-type]
    rebuilt = Receipt.from_web3_receipt(raw, timestamp=receipt.timestamp)
    assert rebuilt.tx_hash == receipt.tx_hash and rebuilt.block_number == receipt.block_number
    assert [type(log).__name__ for log in rebuilt.logs] == [
        type(log).__name__ for log in receipt.logs
    ]
    assert rebuilt == receipt


def test_decode_revert_of_a_web3_revert_as_the_official_sdk_calls_it(
    net: Net, source: Source
) -> None:
    from web3.exceptions import ContractLogicError, Web3RPCError

    from ogpu.protocol import REVERT_PATTERN_MAP, decode_revert, load_contract
    from ogpu.types import NotTaskOwnerError, OGPUError, TxRevertError

    task = publish_task(net.task_info(str(source)), signer=net.client.account)
    controller = load_contract("ControllerAbi")
    # web3 raises ContractLogicError where it recognises the node's revert message
    # ("execution reverted"); ganache's "VM Exception ... revert" stays a Web3RPCError.
    with pytest.raises((ContractLogicError, Web3RPCError)) as raised:
        controller.functions.cancelTask(task.address).call({"from": net.other_client.address})
    context = f"Controller.cancelTask({task.address})"
    error = decode_revert(raised.value, context=context, caller=net.other_client.address)
    assert isinstance(error, NotTaskOwnerError) and error.reason == "NotOwner"
    assert set(REVERT_PATTERN_MAP) >= {"NotOwner", "Expired", "InsufficientBalance"}

    class Custom(OGPUError):
        pass

    REVERT_PATTERN_MAP["MyOwnReason"] = lambda reason, ctx, caller: Custom(f"{reason} {caller}")
    try:
        mine = decode_revert(Exception("execution reverted: MyOwnReason"), context="", caller="me")
    finally:
        del REVERT_PATTERN_MAP["MyOwnReason"]
    assert isinstance(mine, Custom) and str(mine) == "MyOwnReason me"
    assert type(decode_revert(Exception("execution reverted: MyOwnReason"))) is TxRevertError
