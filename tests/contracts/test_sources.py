"""Sources: publish, update, inactivate; provider registration rules."""

from __future__ import annotations

import pytest

from ogpu.devnet import ADMIN, AGENTS, CLIENTS, MASTERS, PROVIDERS

ETHER = 10**18
ZERO = "0x" + "00" * 20
CPU, NVIDIA, AMD = 1, 2, 4
ACTIVE, INACTIVE = 0, 1
MANUAL_CONFIRMATION, FIRST_RESPONSE = 0, 1


def test_publish_source(suite) -> None:
    client = CLIENTS[0]
    n = suite.nexus.functions
    # The contract sets client and lastUpdateTime itself.
    params = suite.source_params(
        client,
        client=CLIENTS[1].address,
        lastUpdateTime=123,
        imageEnvironments=CPU | AMD,
        deliveryMethod=FIRST_RESPONSE,
        privacyEnabled=True,
        optionalParamsUrl="http://x/opt",
    )
    receipt = suite.transact(client, n.publishSource(params))
    (event,) = suite.events(receipt, suite.nexus, "SourcePublished")
    source = suite.source(event["source"])
    now = suite.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    expected = (client.address, *params[1:9], now)
    assert source.functions.getSourceParams().call() == expected
    assert source.functions.sourceParams().call() == list(expected)
    assert source.functions.owner().call() == client.address
    assert source.functions.getClient().call() == client.address
    assert source.functions.getStatus().call() == ACTIVE
    assert source.functions.status().call() == ACTIVE
    assert source.functions.nexus().call() == suite.nexus.address
    assert source.functions.getTaskCount().call() == 0
    assert source.functions.getRegistrantCount().call() == 0
    assert suite.events(receipt, source, "OwnershipTransferred") == [
        {"previousOwner": ZERO, "newOwner": client.address}
    ]

    second = suite.publish_source(client)
    third = suite.publish_source(CLIENTS[1])
    assert n.getSourceCount().call() == 3
    assert n.getSources(0, 2).call() == [source.address, second.address, third.address]
    assert n.getSources(1, 1).call() == [second.address]
    assert n.getSourceId(source.address).call() == 1
    assert n.sourceId(third.address).call() == 3
    assert n.getSourceId(client.address).call() == 0
    assert n.sources(1).call() == second.address
    assert n.sourcesOf(client.address, 1).call() == second.address
    assert n.clients(0).call() == client.address
    assert n.clients(1).call() == CLIENTS[1].address
    assert n.getActiveSourceCount(client.address).call() == 2
    assert n.activeSourceCountOf(CLIENTS[1].address).call() == 1


def test_publish_source_rejects_bad_environments(suite) -> None:
    client = CLIENTS[0]
    for envs in (0, 8):
        suite.reverts(
            client,
            suite.nexus.functions.publishSource(
                suite.source_params(client, imageEnvironments=envs)
            ),
            "EnvironmentNotSupported",
        )


def test_update_source(suite) -> None:
    client = CLIENTS[0]
    source = suite.publish_source(client)
    new = suite.source_params(client, minPayment=5 * 10**15, imageMetadataUrl="http://new")
    receipt = suite.transact(client, suite.nexus.functions.updateSource(source.address, new))
    now = suite.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    stored = source.functions.getSourceParams().call()
    assert stored == (*new[:9], now)
    (event,) = suite.events(receipt, suite.nexus, "SourceUpdated")
    assert event["source"] == source.address
    assert tuple(event["sourceParams"].values()) == stored
    suite.reverts(CLIENTS[1], suite.nexus.functions.updateSource(source.address, new), "NotOwner")
    suite.reverts(client, suite.nexus.functions.updateSource(client.address, new), "UnknownSource")
    # Only Nexus writes the params.
    suite.reverts(client, source.functions.setSourceParams(new), "NotNexus")


@pytest.mark.slow
def test_inactivate_source(suite) -> None:
    client = CLIENTS[0]
    source = suite.publish_source(client)
    n = suite.nexus.functions
    suite.reverts(CLIENTS[1], n.inactivateSource(source.address), "NotOwner")
    receipt = suite.transact(client, n.inactivateSource(source.address))
    assert suite.events(receipt, suite.nexus, "SourceStatusChanged") == [
        {"source": source.address, "status": INACTIVE}
    ]
    assert source.functions.getStatus().call() == INACTIVE
    assert n.getActiveSourceCount(client.address).call() == 0
    suite.reverts(client, n.inactivateSource(source.address), "SourceInactive")
    # One-way, also through the Source itself.
    suite.reverts(client, source.functions.setStatus(ACTIVE), "SourceInactive")
    suite.pair(MASTERS[0], PROVIDERS[0])
    suite.reverts(
        PROVIDERS[0],
        n.register(source.address, PROVIDERS[0].address, CPU),
        "SourceInactive",
    )
    suite.deposit(client, ETHER)
    suite.reverts(
        client,
        suite.controller.functions.publishTask(suite.task_params(source, 10**16)),
        "SourceInactive",
    )


def test_source_owner_route_reports_to_nexus(suite) -> None:
    client = CLIENTS[0]
    source = suite.publish_source(client)
    suite.reverts(CLIENTS[1], source.functions.setStatus(INACTIVE), "NotOwner")
    receipt = suite.transact(client, source.functions.setStatus(INACTIVE))
    assert suite.events(receipt, suite.nexus, "SourceStatusChanged") == [
        {"source": source.address, "status": INACTIVE}
    ]
    assert suite.nexus.functions.getActiveSourceCount(client.address).call() == 0
    # The admin route may reactivate; a non-admin may not use it.
    suite.reverts(
        client,
        suite.nexus.functions.setSourceStatus(source.address, ACTIVE),
        "NotController",
    )
    receipt = suite.transact(ADMIN, suite.nexus.functions.setSourceStatus(source.address, ACTIVE))
    assert suite.events(receipt, suite.nexus, "SourceStatusChanged") == [
        {"source": source.address, "status": ACTIVE}
    ]
    assert source.functions.getStatus().call() == ACTIVE
    assert suite.nexus.functions.getActiveSourceCount(client.address).call() == 1


def test_source_ownership_is_fixed(suite) -> None:
    client = CLIENTS[0]
    source = suite.publish_source(client)
    suite.reverts(client, source.functions.transferOwnership(CLIENTS[1].address), "NotTransferable")
    suite.reverts(client, source.functions.renounceOwnership(), "NotTransferable")
    suite.reverts_custom(
        CLIENTS[1],
        source.functions.transferOwnership(CLIENTS[1].address),
        "OwnableUnauthorizedAccount",
        CLIENTS[1].address,
    )
    for fn in (
        source.functions.register(client.address, CPU),
        source.functions.unregister(client.address),
        source.functions.publishTask(client.address),
    ):
        suite.reverts(client, fn, "NotNexus")


@pytest.mark.slow
def test_register_paths(suite) -> None:
    client, master, provider, agent = CLIENTS[0], MASTERS[0], PROVIDERS[0], AGENTS[0]
    n = suite.nexus.functions
    source = suite.publish_source(client, imageEnvironments=CPU | NVIDIA)
    suite.pair(master, provider)

    # The provider itself.
    receipt = suite.register(provider, source, provider, NVIDIA)
    assert suite.events(receipt, suite.nexus, "Registered") == [
        {
            "provider": provider.address,
            "registrantId": 1,
            "source": source.address,
            "preferredEnvironment": NVIDIA,
        }
    ]
    assert source.functions.getRegistrantId(provider.address).call() == 1
    assert source.functions.registrantId(provider.address).call() == 1
    assert source.functions.preferredEnvironmentOf(provider.address).call() == NVIDIA
    suite.reverts(provider, n.register(source.address, provider.address, CPU), "AlreadyRegistered")

    # The master, then an agent of the master, for the same provider on other sources.
    other = suite.publish_source(client)
    suite.register(master, other, provider)
    assert other.functions.getRegistrantId(provider.address).call() == 1
    third = suite.publish_source(CLIENTS[1])
    suite.reverts(agent, n.register(third.address, provider.address, CPU), "NotAuthorized")
    suite.transact(master, suite.terminal.functions.setAgent(agent.address, True))
    suite.register(agent, third, provider)
    assert third.functions.getRegistrants(0, 0).call() == [provider.address]

    # Strangers and agents of someone else are refused.
    suite.transact(client, suite.terminal.functions.setAgent(AGENTS[1].address, True))
    for sender in (CLIENTS[2], AGENTS[1], MASTERS[1]):
        suite.reverts(sender, n.unregister(source.address, provider.address), "NotAuthorized")
    suite.reverts(client, n.register(client.address, provider.address, CPU), "UnknownSource")


def test_register_requirements(suite) -> None:
    client, provider = CLIENTS[0], PROVIDERS[1]
    n = suite.nexus.functions
    v = suite.vault.functions
    source = suite.publish_source(client, imageEnvironments=CPU, minAvailableLockup=3 * ETHER)
    cheap = suite.publish_source(client, imageEnvironments=NVIDIA | AMD)

    # No master: the provider stakes by itself.
    suite.deposit(provider, 10 * ETHER)
    suite.reverts(
        provider, n.register(cheap.address, provider.address, NVIDIA), "InsufficientLockup"
    )
    suite.transact(provider, v.lock(ETHER))  # == MIN_LOCKUP_PER_SOURCE
    suite.reverts(
        provider, n.register(cheap.address, provider.address, CPU), "EnvironmentNotSupported"
    )
    suite.reverts(
        provider,
        n.register(cheap.address, provider.address, NVIDIA | AMD),
        "EnvironmentNotSupported",
    )
    suite.register(provider, cheap, provider, AMD)
    # The source's own minimum is higher than the protocol floor.
    suite.reverts(provider, n.register(source.address, provider.address, CPU), "InsufficientLockup")
    suite.transact(provider, v.lock(2 * ETHER))
    suite.transact(ADMIN, v.sanction(provider.address, 1))
    suite.reverts(provider, n.register(source.address, provider.address, CPU), "NotEligible")
    # A whitelisted provider skips the sanction and lockup checks.
    suite.transact(ADMIN, v.setWhitelist(provider.address, True))
    suite.register(provider, source, provider)
    assert source.functions.getRegistrantId(provider.address).call() == 1


@pytest.mark.slow
def test_unregister_swaps_last_into_the_gap(suite) -> None:
    client = CLIENTS[0]
    n = suite.nexus.functions
    source = suite.publish_source(client)
    for master, provider in zip(MASTERS, PROVIDERS, strict=True):
        suite.pair(master, provider)
        suite.register(provider, source, provider)
    addresses = [p.address for p in PROVIDERS]
    assert source.functions.getRegistrants(0, 2).call() == addresses
    assert source.functions.getRegistrantCount().call() == 3

    suite.transact(MASTERS[0], n.unregister(source.address, PROVIDERS[0].address))
    assert source.functions.getRegistrantCount().call() == 2
    assert source.functions.getRegistrants(0, 1).call() == [addresses[2], addresses[1]]
    assert source.functions.getRegistrantId(PROVIDERS[0].address).call() == 0
    assert source.functions.getRegistrantId(PROVIDERS[2].address).call() == 1
    assert source.functions.registrants(1).call() == addresses[1]
    assert source.functions.preferredEnvironmentOf(PROVIDERS[0].address).call() == 0
    suite.reverts(PROVIDERS[0], n.unregister(source.address, PROVIDERS[0].address), "NotRegistered")
    # Registering again appends.
    suite.register(PROVIDERS[0], source, PROVIDERS[0])
    assert source.functions.getRegistrantId(PROVIDERS[0].address).call() == 3
