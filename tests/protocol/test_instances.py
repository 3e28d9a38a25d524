"""Source, Task, Response, Provider and Master: every public method, on the devnet."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils.crypto import keccak

from ogpu.chain import multicall
from ogpu.devnet import AGENTS, MASTERS, PROVIDERS
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Master, Provider, Response, Source, Task, nexus, terminal, vault
from ogpu.protocol import _bindings as bindings
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    MasterSnapshot,
    ProviderSnapshot,
    ResponseParams,
    ResponseSnapshot,
    ResponseStatus,
    SourceInfo,
    SourceSnapshot,
    SourceStatus,
    TaskInfo,
    TaskInput,
    TaskParams,
    TaskSnapshot,
    TaskStatus,
)

from ..helpers.proxy import FaultProxy

pytestmark = pytest.mark.slow

ETHER = 10**18


@pytest.fixture
def proxy(rpc_server: Any) -> Iterator[FaultProxy]:
    """A proxy on a URL of its own for each test, instead of the session's: the SDK keeps
    one transport per URL for the whole process, and with it the execution offset it
    learnt (``multicall.execution_offset``), whose two requests the pagination test counts;
    an earlier module using the session proxy would have left it learnt."""
    with FaultProxy(rpc_server.url) as fresh:
        yield fresh


def test_identity_equality_hash_repr_without_io() -> None:
    address = "0x" + "ab" * 20
    lower = Task(address)
    upper = Task(address.upper().replace("0X", "0x"))
    assert lower == upper and hash(lower) == hash(upper)
    assert len({lower, upper, Task(address)}) == 1
    assert lower != Source(address)
    assert lower.address == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert repr(lower) == "Task('0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB')"
    assert str(lower) == lower.address
    assert lower.chain is None and Task(address, chain="devnet").chain == "devnet"
    assert pickle.loads(pickle.dumps(lower)) == lower
    for cls in (Source, Task, Response, Provider, Master):
        instance = cls(address)
        assert {instance: 1}[cls(address.lower())] == 1
        with pytest.raises(AttributeError):
            instance.cached = 1  # type: ignore[attr-defined]


def test_full_manual_confirmation_lifecycle(world: Any, ipfs: Any) -> None:
    client, provider_acct, master_acct = world.client, world.provider, world.master
    info = SourceInfo(
        name="sentiment",
        description="classifier",
        logoUrl="https://example.invalid/logo.png",
        imageEnvs=ImageEnvironments(cpu="https://example.invalid/cpu.yml"),
        minPayment=10**15,
        minAvailableLockup=ETHER,
        maxExpiryDuration=3600,
    )
    params = info.to_source_params(client.address)
    assert params.imageMetadataUrl.startswith(ipfs.url)
    source = Source(
        nexus.extract_source_address(nexus.publish_source(params, signer=client.account))
    )

    assert Source.load(source.address) == source
    assert source.get_client() == client.address
    assert source.get_status() is SourceStatus.ACTIVE
    assert source.get_params().minPayment == 10**15
    assert source.get_params().imageEnvironments == Environment.CPU
    assert source.get_metadata()["name"] == "sentiment"
    assert source.get_task_count() == 0 and source.get_tasks() == []
    assert source.get_registrant_count() == 0 and source.get_registrants() == []

    # provider side: pairing, registration
    master = Master(master_acct.address)
    provider = Provider(provider_acct.address)
    assert not provider.is_provider() and not master.is_master()
    master.announce_provider(provider.address, 2 * ETHER, signer=master_acct.account)
    provider.announce_master(master.address, signer=provider_acct.account)
    assert Provider.load(provider.address) == provider
    assert Master.load(master.address) == master
    assert provider.get_master() == master.address and master.get_provider() == provider.address
    assert provider.get_lockup() == 2 * ETHER
    provider.register_to(source.address, Environment.CPU, signer=provider_acct.account)
    assert source.get_registrants() == [provider.address]
    assert source.get_registrant_id(provider.address) == 1
    assert source.get_registrant_id(PROVIDERS[2].address) == 0
    assert source.get_preferred_environment_of(provider.address) is Environment.CPU
    assert provider.get_registered_sources() == [source]

    # the client publishes a task whose config lives in the content store
    world.fund(client)
    task_info = TaskInfo(
        source=source.address,
        config=TaskInput(function_name="predict", data={"text": "hi"}, priority="high"),
        expiryTime=world.devnet.timestamp() + 900,
        payment=2 * 10**15,
    )
    task_params = task_info.to_task_params()
    task = Task(bindings_extract_task(client, task_params))
    assert Task.load(task.address) == task
    assert source.get_tasks() == [task] and source.get_task_count() == 1
    assert task.get_source() == source
    assert task.get_status() is TaskStatus.NEW
    assert task.get_params() == task_params
    assert task.get_metadata() == {
        "function_name": "predict",
        "data": {"text": "hi"},
        "priority": "high",
    }
    assert task.get_payment() == 2 * 10**15
    assert task.get_expiry_time() == task_info.expiryTime
    assert task.get_delivery_method() is DeliveryMethod.MANUAL_CONFIRMATION
    assert task.get_attempt_count() == 0 and task.get_attempters() == []
    assert task.get_responses() == [] and task.get_confirmed_response() is None
    assert task.get_winning_provider() is None
    assert vault.get_frozen_payment(client.address) == 2 * 10**15

    provider.attempt(task.address, 123, signer=provider_acct.account)
    assert task.get_status() is TaskStatus.ATTEMPTED
    assert task.get_attempt_count() == 1
    assert task.get_attempters() == [provider.address]
    assert task.get_attempter_id(provider.address) == 1
    stamps = task.get_attempt_timestamps()
    assert len(stamps) == 1 and stamps[0] <= world.devnet.timestamp()

    result_url = publish_to_ipfs({"label": "positive", "score": 0.9}, filename="result.json")
    response = world.respond(task, provider_acct, result_url)
    assert task.is_already_submitted(keccak(text=result_url))
    assert not task.is_already_submitted(b"\x00" * 32)
    assert Response.load(response.address) == response
    assert task.get_status() is TaskStatus.RESPONDED
    assert task.get_responses() == [response]
    assert response.get_task() == task
    assert response.get_params() == ResponseParams(
        task=task.address, provider=provider.address, data=result_url, payment=0
    )
    assert response.get_data() == result_url
    assert response.fetch_data() == {"label": "positive", "score": 0.9}
    assert response.get_status() is ResponseStatus.SUBMITTED
    assert response.get_timestamp() >= stamps[0]
    assert not response.is_confirmed()
    assert task.get_confirmed_response() is None

    receipt = response.confirm(signer=client.account)
    assert {type(e).__name__ for e in receipt.logs} >= {
        "ResponseStatusChangedEvent",
        "TaskStatusChangedEvent",
    }
    assert response.is_confirmed() and response.get_status() is ResponseStatus.CONFIRMED
    assert task.get_status() is TaskStatus.FINALIZED
    assert task.get_confirmed_response() == response
    assert task.get_winning_provider() == provider.address
    assert provider.get_total_earnings() == 2 * 10**15
    assert provider.get_balance() == 2 * 10**15

    # snapshots agree with the getters
    snap = task.snapshot()
    assert isinstance(snap, TaskSnapshot)
    assert (snap.status, snap.winning_provider, snap.attempt_count) == (
        TaskStatus.FINALIZED,
        provider.address,
        1,
    )
    rsnap = response.snapshot()
    assert isinstance(rsnap, ResponseSnapshot)
    assert (rsnap.task, rsnap.data, rsnap.status, rsnap.confirmed) == (
        task.address,
        result_url,
        ResponseStatus.CONFIRMED,
        True,
    )
    assert rsnap.timestamp == response.get_timestamp()
    ssnap = source.snapshot()
    assert isinstance(ssnap, SourceSnapshot)
    assert (ssnap.client, ssnap.task_count, ssnap.registrant_count) == (client.address, 1, 1)
    assert ssnap.params == source.get_params()

    # the owner changes and finally closes the source
    updated = SourceInfo(
        name="sentiment v2",
        description="classifier",
        logoUrl="",
        imageEnvs=ImageEnvironments(cpu="c", nvidia="n"),
        minPayment=5 * 10**15,
        minAvailableLockup=0,
        maxExpiryDuration=60,
    ).to_source_params(client.address, image_metadata_url="https://example.invalid/v2.json")
    source.set_params(updated, signer=client.account)
    assert source.get_params().minPayment == 5 * 10**15
    assert source.get_params().imageEnvironments == Environment.CPU | Environment.NVIDIA
    provider.unregister_from(source.address, signer=provider_acct.account)
    assert source.get_registrant_id(provider.address) == 0
    assert provider.get_registered_sources() == []
    source.set_status(SourceStatus.INACTIVE, signer=client.account)
    assert source.get_status() is SourceStatus.INACTIVE


def bindings_extract_task(client: Any, params: TaskParams) -> str:
    from ogpu.protocol import controller

    return controller.extract_task_address(controller.publish_task(params, signer=client.account))


def test_first_response_delivery_finalizes_on_submit(world: Any) -> None:
    world.fund(world.client)
    source = world.source(delivery=DeliveryMethod.FIRST_RESPONSE)
    task = world.task(source, payment=10**16)
    assert task.get_delivery_method() is DeliveryMethod.FIRST_RESPONSE
    provider = world.register(source)
    provider.attempt(task.address, 1, signer=world.provider.account)
    response = world.respond(task, world.provider, "https://example.invalid/first.json")
    assert response.is_confirmed()
    assert task.get_status() is TaskStatus.FINALIZED
    assert task.get_winning_provider() == provider.address
    assert provider.get_total_earnings() == 10**16


def test_cancel_refunds_and_inactivate(world: Any) -> None:
    world.fund(world.client, 10**17)
    source = world.source()
    task = world.task(source, payment=10**16)
    assert vault.get_balance_of(world.client.address) == 9 * 10**16
    receipt = task.cancel(signer=world.client.account)
    assert receipt.status == 1 and receipt.gas_used > 0 and receipt.timestamp > 0
    mined = world.devnet.w3.eth.get_block(receipt.block_number)
    assert receipt.timestamp == mined["timestamp"]
    assert receipt.block_hash == "0x" + bytes(mined["hash"]).hex()
    assert task.get_status() is TaskStatus.CANCELED
    assert vault.get_balance_of(world.client.address) == 10**17
    source.inactivate(signer=world.client.account)
    assert source.get_status() is SourceStatus.INACTIVE


def test_pagination_chunks_and_bounds(
    http_world: Any, proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = http_world
    monkeypatch.setattr(bindings, "CHUNK_SIZE", 3)
    world.fund(world.client)
    source = world.source()
    tasks = [world.task(source, payment=10**15) for _ in range(8)]
    proxy.reset_counts()
    offset = multicall.execution_offset(bindings.endpoint())  # once per endpoint: two requests
    assert proxy.requests == 2 and offset in (0, 1)
    proxy.reset_counts()
    assert source.get_tasks() == tasks
    assert proxy.requests == 2  # the count, then getTasks(0, 7) pinned to its block
    assert proxy.sequence == ["eth_call", "eth_call"]
    proxy.reset_counts()
    assert source.get_tasks(2, 7) == tasks[2:7]
    assert proxy.requests == 2
    assert source.get_tasks(6) == tasks[6:]
    proxy.reset_counts()
    assert source.get_tasks(8) == [] and source.get_tasks(20, 30) == []
    assert proxy.requests == 2  # only the counts: nothing at or past the end is asked
    assert source.get_tasks(3, 3) == [] and proxy.requests == 2  # costs nothing

    # Task lists are chunked (3 here), every chunk in one batched request
    for index, account in enumerate(PROVIDERS):
        world.register(source, account, MASTERS[index])
        nexus.attempt(tasks[0].address, account.address, 1, signer=account.account)
    responses = [
        world.respond(tasks[0], account, f"https://example.invalid/{i}.json")
        for i, account in enumerate(PROVIDERS)
    ]
    proxy.reset_counts()
    assert tasks[0].get_responses() == responses
    assert proxy.requests == 2  # the attempt count, then both chunks at once
    assert tasks[0].get_responses(1) == responses[1:]
    assert tasks[0].get_attempters() == [a.address for a in PROVIDERS]
    assert len(tasks[0].get_attempt_timestamps(0, 2)) == 2


def test_provider_and_master_accounts(world: Any) -> None:
    provider_acct, master_acct = PROVIDERS[1], MASTERS[1]
    provider, master = Provider(provider_acct.address), Master(master_acct.address)
    master.announce_provider(provider.address, 3 * ETHER, signer=master_acct.account)
    provider.announce_master(
        master.address, signer=master_acct.account if False else provider_acct.account
    )
    assert provider.get_base_data() == "" and provider.get_live_data() == ""
    assert not provider.get_default_agent_disabled()
    provider.set_default_agent_disabled(True, signer=provider_acct.account)
    assert provider.get_default_agent_disabled()
    assert provider.get_sanction() == 0
    assert provider.is_eligible() == vault.is_eligible(provider.address)
    assert not provider.is_whitelisted()

    provider.deposit_to_vault(ETHER, signer=master_acct.account)  # anyone may fund it
    provider.withdraw_from_vault(ETHER // 2, signer=provider_acct.account)
    provider.stake(ETHER // 4, signer=provider_acct.account)
    provider.unstake(ETHER // 4, signer=provider_acct.account)
    assert provider.get_unbonding() == ETHER // 4
    provider.cancel_unbonding(signer=provider_acct.account)
    assert provider.get_unbonding() == 0
    assert provider.get_unbonding_timestamp() >= 0
    snap = provider.snapshot()
    assert isinstance(snap, ProviderSnapshot)
    assert (snap.master, snap.is_provider, snap.default_agent_disabled) == (
        master.address,
        True,
        True,
    )
    assert (snap.balance, snap.lockup, snap.unbonding) == (
        ETHER // 4,
        3 * ETHER + ETHER // 4,
        0,
    )
    assert snap.frozen_payment == 0 and snap.total_earnings == 0

    master.deposit_to_vault(ETHER, signer=master_acct.account)
    master.stake(ETHER // 2, signer=master_acct.account)
    master.unstake(ETHER // 8, signer=master_acct.account)
    master.cancel_unbonding(signer=master_acct.account)
    assert (master.get_lockup(), master.get_unbonding()) == (ETHER // 2, 0)
    master.unstake(ETHER // 4, signer=master_acct.account)
    assert master.get_unbonding_timestamp() > world.devnet.timestamp()
    world.devnet.advance_time(vault.get_unbonding_period() + 1)
    master.claim_earnings(signer=master_acct.account)
    master.withdraw_from_vault(ETHER // 2, signer=master_acct.account)
    msnap = master.snapshot()
    assert isinstance(msnap, MasterSnapshot)
    assert (msnap.provider, msnap.is_master, msnap.balance, msnap.lockup, msnap.unbonding) == (
        provider.address,
        True,
        ETHER // 4,
        ETHER // 4,
        0,
    )
    assert master.get_balance() == ETHER // 4 and master.get_lockup() == ETHER // 4
    assert master.get_frozen_payment() == 0 and master.get_total_earnings() == 0
    assert master.get_unbonding() == 0 and master.get_sanction() == 0
    assert master.is_eligible() == msnap.is_eligible
    assert master.is_whitelisted() is False
    assert provider.get_frozen_payment() == 0

    # agents: the master authorizes one, which may then register its provider
    agent = AGENTS[1]
    master.set_agent(agent.address, True, signer=master_acct.account)
    assert terminal.is_agent_of(master.address, agent.address)
    source = world.source()
    nexus.register(source.address, provider.address, Environment.NVIDIA, signer=agent.account)
    assert source.get_preferred_environment_of(provider.address) is Environment.NVIDIA
    master.set_agent(agent.address, False, signer=master_acct.account)
    assert not terminal.is_agent_of(master.address, agent.address)

    receipt = master.remove_container(provider.address, source.address, signer=master_acct.account)
    assert [type(e).__name__ for e in receipt.logs] == ["RemoveContainerEvent"]
    master.remove_provider(provider.address, signer=master_acct.account)
    assert provider.get_master() == bindings.ZERO_ADDRESS
