"""Module functions nexus, controller, terminal and vault, on the devnet."""

from __future__ import annotations

from typing import Any

import pytest
from ogpu_bindings import terminal as terminal_abi

from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import (
    Provider,
    Source,
    Task,
    controller,
    execute_request,
    extract_source_address,
    extract_task_address,
    nexus,
    terminal,
    vault,
)
from ogpu.protocol import _bindings as bindings
from ogpu.types import (
    Environment,
    IPFSGatewayError,
    Receipt,
    SourceNotFoundError,
    SourceStatus,
    TaskNotFoundError,
    TaskStatus,
)

pytestmark = pytest.mark.slow

ETHER = 10**18


def test_nexus_functions(world: Any) -> None:
    client = world.client
    assert nexus.get_source_count() == 0 and nexus.get_sources() == []
    receipt = nexus.publish_source(world.source_params(), signer=client.key_hex)
    assert isinstance(receipt, Receipt) and receipt.status == 1
    assert receipt.from_address == client.address
    assert receipt.to == bindings.singleton("NEXUS")
    source = Source(extract_source_address(receipt))
    other = world.source()
    assert nexus.get_source_count() == 2
    assert nexus.get_sources() == [source, other]
    assert nexus.get_sources(1) == [other]
    assert nexus.get_sources(0, 1) == [source]
    assert nexus.get_source_id(source.address) == 1
    assert nexus.get_source_id(client.address) == 0
    assert nexus.get_active_source_count(client.address) == 2

    receipt = nexus.update_source(
        source.address, world.source_params(min_payment=7), signer=client.account
    )
    updated = [e for e in receipt.logs if type(e).__name__ == "SourceUpdatedEvent"]
    assert len(updated) == 1 and updated[0].source == source.address
    assert source.get_params().minPayment == 7

    provider, master = world.provider, world.master
    world.pair(master, provider)
    # the master registers its provider
    receipt = nexus.register(
        source.address, provider.address, Environment.CPU, signer=master.account
    )
    registered = next(e for e in receipt.logs if type(e).__name__ == "RegisteredEvent")
    assert (registered.provider, registered.registrant_id, registered.source) == (
        provider.address,
        1,
        source.address,
    )
    world.fund(client)
    task = world.task(source)
    nexus.attempt(task.address, provider.address, 42, signer=provider.account)
    assert task.get_attempters() == [provider.address]
    nexus.unregister(source.address, provider.address, signer=provider.account)
    assert source.get_registrant_id(provider.address) == 0
    assert source.get_registrants() == []

    nexus.inactivate_source(other.address, signer=client.account)
    assert other.get_status() is SourceStatus.INACTIVE
    assert nexus.get_active_source_count(client.address) == 1
    with pytest.raises(SourceNotFoundError):
        extract_source_address(receipt)


def test_controller_functions(world: Any) -> None:
    client = world.client
    world.fund(client)
    source = world.source()
    params = world.task_params(source, config="https://example.invalid/t.json", expires_in=300)
    receipt = controller.publish_task(params, signer=client.account)
    task = Task(extract_task_address(receipt))
    assert task.get_params() == params
    published = [e for e in receipt.logs if type(e).__name__ == "TaskPublishedEvent"]
    assert published[0].source == source.address
    with pytest.raises(TaskNotFoundError):
        extract_task_address(
            Receipt(tx_hash="0x" + "00" * 32, block_number=1, gas_used=1, status=1)
        )

    world.register(source)
    nexus.attempt(task.address, world.provider.address, 1, signer=world.provider.account)
    response = world.respond(task, world.provider, "https://example.invalid/x.json")
    controller.confirm_response(response.address, signer=client.account)
    assert response.is_confirmed()

    second = world.task(source)
    controller.cancel_task(second.address, signer=client.account)
    assert second.get_status() is TaskStatus.CANCELED


def test_terminal_functions(world: Any) -> None:
    master, provider, client = MASTERS[2], PROVIDERS[2], CLIENTS[2]
    assert not terminal.is_provider(provider.address)
    assert not terminal.is_master(master.address)
    assert terminal.get_master_of(provider.address) == bindings.ZERO_ADDRESS
    receipt = terminal.announce_provider(provider.address, ETHER, signer=master.account)
    assert [type(e).__name__ for e in receipt.logs] == [
        "DepositedEvent",
        "LockedEvent",
        "ProviderAnnouncedEvent",
    ]
    assert terminal.is_provider(provider.address)
    assert vault.get_lockup_of(provider.address) == ETHER
    terminal.announce_master(master.address, signer=provider.account)
    assert terminal.is_master(master.address)
    assert terminal.get_master_of(provider.address) == master.address
    assert terminal.get_provider_of(master.address) == provider.address

    assert terminal.get_base_data_of(provider.address) == ""
    terminal_mod, terminal_address = terminal_abi, bindings.singleton("TERMINAL")
    execute_request(terminal_mod.set_base_data(terminal_address, "ipfs://base"), provider.account)
    execute_request(terminal_mod.set_live_data(terminal_address, "ipfs://live"), provider.account)
    assert terminal.get_base_data_of(provider.address) == "ipfs://base"
    assert terminal.get_live_data_of(provider.address) == "ipfs://live"
    assert Provider(provider.address).get_base_data() == "ipfs://base"

    assert not terminal.is_default_agent_disabled(provider.address)
    terminal.set_default_agent_disabled(True, signer=provider.account)
    assert terminal.is_default_agent_disabled(provider.address)

    agent = AGENTS[0]
    receipt = terminal.set_agent(agent.address, True, signer=client.account)
    event = receipt.logs[0]
    assert (type(event).__name__, event.account, event.agent, event.value) == (
        "AgentSetEvent",
        client.address,
        agent.address,
        True,
    )
    assert terminal.is_agent_of(client.address, agent.address)
    terminal.revoke_agent(agent.address, signer=client.account)
    assert not terminal.is_agent_of(client.address, agent.address)

    source = world.source()
    terminal.remove_container(provider.address, source.address, signer=master.account)
    terminal.remove_provider(provider.address, signer=master.account)
    assert terminal.get_master_of(provider.address) == bindings.ZERO_ADDRESS


def test_vault_functions(world: Any) -> None:
    account = CLIENTS[2]
    address = account.address
    assert vault.get_min_lockup_per_source() == ETHER
    assert vault.get_unbonding_period() == 60
    receipt = vault.deposit(address, 3 * ETHER, signer=account.account)
    assert [type(e).__name__ for e in receipt.logs] == ["DepositedEvent"]
    assert receipt.logs[0].amount == 3 * ETHER
    vault.withdraw(ETHER, signer=account.account)
    vault.lock(ETHER, signer=account.account)
    vault.unbond(ETHER // 2, signer=account.account)
    assert (
        vault.get_balance_of(address),
        vault.get_lockup_of(address),
        vault.get_unbonding_of(address),
    ) == (ETHER, ETHER // 2, ETHER // 2)
    assert vault.get_unbonding_timestamp(address) > world.devnet.timestamp()
    world.devnet.advance_time(61)
    vault.claim(signer=account.account)
    assert vault.get_balance_of(address) == ETHER + ETHER // 2
    assert vault.get_total_earnings_of(address) == 0
    assert vault.get_frozen_payment(address) == 0
    assert vault.get_sanction_of(address) == 0
    assert vault.is_whitelisted(address) is False
    assert isinstance(vault.is_eligible(address), bool)
    # a third party funds someone else's balance
    vault.deposit(PROVIDERS[2].address, 5, signer=account.account)
    assert vault.get_balance_of(PROVIDERS[2].address) == 5


def test_metadata_fetch_errors_come_from_the_ipfs_layer(world: Any, ipfs: Any) -> None:
    missing = ipfs.url + "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    source = world.source(metadata_url=missing)
    with pytest.raises(IPFSGatewayError) as caught:
        source.get_metadata()
    assert caught.value.status_code == 404
