"""Terminal pairing/agents/provider data, Manager roles, Ownable on the singletons."""

from __future__ import annotations

from eth_utils.crypto import keccak

from ogpu.devnet import ADMIN, AGENTS, CLIENTS, MASTERS, PROVIDERS

ETHER = 10**18
ZERO = "0x" + "00" * 20
CONTROLLER_ROLE = keccak(text="CONTROLLER")


def test_pairing_handshake(suite) -> None:
    master, provider = MASTERS[0], PROVIDERS[0]
    t = suite.terminal.functions
    receipt = suite.transact(
        master, t.announceProvider(provider.address, 2 * ETHER), value=2 * ETHER
    )
    assert suite.events(receipt, suite.terminal, "ProviderAnnounced") == [
        {"provider": provider.address, "master": master.address}
    ]
    # The master's coin went to the provider's lockup.
    assert suite.vault.functions.lockupOf(provider.address).call() == 2 * ETHER
    assert suite.events(receipt, suite.vault, "Deposited") == [
        {"account": provider.address, "amount": 2 * ETHER}
    ]
    assert t.isProvider(provider.address).call()
    assert not t.isMaster(master.address).call()
    assert t.masterOf(provider.address).call() == ZERO
    assert t.providerOf(master.address).call() == ZERO

    receipt = suite.transact(provider, t.announceMaster(master.address))
    assert suite.events(receipt, suite.terminal, "MasterAnnounced") == [
        {"provider": provider.address, "master": master.address}
    ]
    assert t.isMaster(master.address).call()
    assert t.getIsMaster(master.address).call()
    assert t.masterOf(provider.address).call() == master.address
    assert t.getMasterOf(provider.address).call() == master.address
    assert t.providerOf(master.address).call() == provider.address

    # A top-up by the same master is fine; another master cannot take the provider.
    suite.transact(master, t.announceProvider(provider.address, ETHER), value=ETHER)
    assert suite.vault.functions.lockupOf(provider.address).call() == 3 * ETHER
    suite.reverts(MASTERS[1], t.announceProvider(provider.address, 0), "AlreadyPaired")
    # A paired master cannot announce a second provider.
    suite.reverts(master, t.announceProvider(PROVIDERS[1].address, 0), "AlreadyPaired")


def test_pairing_reverts(suite) -> None:
    master, provider = MASTERS[0], PROVIDERS[0]
    t = suite.terminal.functions
    suite.reverts(master, t.announceProvider(provider.address, ETHER), "ValueMismatch", value=1)
    suite.reverts(master, t.announceProvider(ZERO, 0), "InvalidAddress")
    suite.reverts(master, t.announceProvider(master.address, 0), "InvalidAddress")
    # Not announced by anyone yet.
    suite.reverts(provider, t.announceMaster(master.address), "NotProvider")
    suite.transact(master, t.announceProvider(provider.address, 0))
    # Announced, but by a different master.
    suite.reverts(provider, t.announceMaster(MASTERS[1].address), "NotMaster")
    suite.reverts(MASTERS[1], t.removeProvider(provider.address), "NotMaster")
    suite.reverts(MASTERS[1], t.removeContainer(provider.address, ZERO), "NotMaster")


def test_remove_provider_and_container(suite) -> None:
    master, provider = MASTERS[0], PROVIDERS[0]
    t = suite.terminal.functions
    suite.pair(master, provider)
    receipt = suite.transact(master, t.removeContainer(provider.address, CLIENTS[0].address))
    assert suite.events(receipt, suite.terminal, "RemoveContainer") == [
        {"provider": provider.address, "source": CLIENTS[0].address}
    ]
    receipt = suite.transact(master, t.removeProvider(provider.address))
    assert suite.events(receipt, suite.terminal, "ProviderRemoved") == [
        {"provider": provider.address}
    ]
    assert t.masterOf(provider.address).call() == ZERO
    assert t.providerOf(master.address).call() == ZERO
    assert not t.isProvider(provider.address).call()
    assert not t.isMaster(master.address).call()
    # The lockup stays with the provider.
    assert suite.vault.functions.lockupOf(provider.address).call() == 2 * ETHER
    # The pair can be formed again.
    suite.pair(master, provider, lockup=0)
    assert t.masterOf(provider.address).call() == master.address


def test_agents(suite) -> None:
    client, master, agent = CLIENTS[0], MASTERS[0], AGENTS[0]
    t = suite.terminal.functions
    receipt = suite.transact(client, t.setAgent(agent.address, True))
    assert suite.events(receipt, suite.terminal, "AgentSet") == [
        {"account": client.address, "agent": agent.address, "value": True}
    ]
    suite.transact(master, t.setAgent(agent.address, True))
    assert t.isAgentOf(client.address, agent.address).call()
    assert t.getIsAgentOf(master.address, agent.address).call()
    assert not t.isAgentOf(agent.address, client.address).call()
    suite.transact(client, t.setAgent(agent.address, False))
    assert not t.isAgentOf(client.address, agent.address).call()
    suite.reverts(client, t.setAgent(ZERO, True), "InvalidAddress")
    suite.reverts(client, t.setAgent(client.address, True), "InvalidAddress")
    # Providers cannot appoint agents.
    suite.pair(MASTERS[1], PROVIDERS[1], lockup=0)
    suite.reverts(PROVIDERS[1], t.setAgent(agent.address, True), "NotAuthorized")


def test_provider_data(suite) -> None:
    provider = PROVIDERS[0]
    t = suite.terminal.functions
    suite.reverts(provider, t.setBaseData("ipfs://base"), "NotProvider")
    suite.reverts(provider, t.setLiveData("ipfs://live"), "NotProvider")
    suite.reverts(provider, t.setDefaultAgentDisabled(True), "NotProvider")
    suite.pair(MASTERS[0], provider, lockup=0)
    receipt = suite.transact(provider, t.setBaseData("ipfs://base"))
    assert suite.events(receipt, suite.terminal, "BaseDataUpdated") == [
        {"provider": provider.address}
    ]
    receipt = suite.transact(provider, t.setLiveData("ipfs://live"))
    assert suite.events(receipt, suite.terminal, "LiveDataUpdated") == [
        {"provider": provider.address}
    ]
    receipt = suite.transact(provider, t.setDefaultAgentDisabled(True))
    assert suite.events(receipt, suite.terminal, "DefaultAgentDisabled") == [
        {"master": provider.address, "value": True}
    ]
    assert t.baseDataOf(provider.address).call() == "ipfs://base"
    assert t.liveDataOf(provider.address).call() == "ipfs://live"
    assert t.defaultAgentDisabled(provider.address).call()


def test_singleton_ownership(suite) -> None:
    stranger = CLIENTS[0]
    for contract in (suite.nexus, suite.controller, suite.terminal):
        assert contract.functions.owner().call() == ADMIN.address
    suite.reverts_custom(
        stranger,
        suite.terminal.functions.setVault(stranger.address),
        "OwnableUnauthorizedAccount",
        stranger.address,
    )
    suite.reverts_custom(
        stranger,
        suite.nexus.functions.setFactories(stranger.address, stranger.address),
        "OwnableUnauthorizedAccount",
        stranger.address,
    )
    suite.reverts_custom(
        stranger,
        suite.controller.functions.setTaskFactory(stranger.address),
        "OwnableUnauthorizedAccount",
        stranger.address,
    )
    suite.reverts_custom(
        ADMIN,
        suite.controller.functions.transferOwnership(ZERO),
        "OwnableInvalidOwner",
        ZERO,
    )
    receipt = suite.transact(ADMIN, suite.terminal.functions.transferOwnership(stranger.address))
    assert suite.events(receipt, suite.terminal, "OwnershipTransferred") == [
        {"previousOwner": ADMIN.address, "newOwner": stranger.address}
    ]
    suite.transact(stranger, suite.terminal.functions.setManager(suite.manager.address))
    suite.transact(stranger, suite.terminal.functions.renounceOwnership())
    assert suite.terminal.functions.owner().call() == ZERO


def test_wiring(suite) -> None:
    n, c, t = suite.nexus.functions, suite.controller.functions, suite.terminal.functions
    d = suite.devnet.deployment
    assert (n.manager().call(), n.terminal().call(), n.vault().call()) == (
        d.manager,
        d.terminal,
        d.vault,
    )
    assert (n.sourceFactory().call(), n.responseFactory().call()) == (
        d.source_factory,
        d.response_factory,
    )
    assert (c.nexus().call(), c.terminal().call(), c.vault().call(), c.taskFactory().call()) == (
        d.nexus,
        d.terminal,
        d.vault,
        d.task_factory,
    )
    assert (t.manager().call(), t.vault().call()) == (d.manager, d.vault)
    assert n.CONTROLLER().call() == CONTROLLER_ROLE
    assert n.PROVIDER().call() == keccak(text="PROVIDER") == t.PROVIDER().call()
    assert n.checkController(d.controller).call()
    assert not n.checkController(ADMIN.address).call()


def test_manager_roles(suite) -> None:
    m = suite.manager.functions
    stranger, other = CLIENTS[0], CLIENTS[1]
    admin_role = m.DEFAULT_ADMIN_ROLE().call()
    assert admin_role == b"\x00" * 32
    assert m.CONTROLLER().call() == CONTROLLER_ROLE
    assert m.JUDGE().call() == keccak(text="JUDGE")
    assert m.PROVIDER().call() == keccak(text="PROVIDER")
    assert m.hasRole(admin_role, ADMIN.address).call()
    assert m.hasRole(CONTROLLER_ROLE, suite.controller.address).call()
    assert m.getRoleAdmin(CONTROLLER_ROLE).call() == admin_role
    assert m.supportsInterface(bytes.fromhex("7965db0b")).call()
    assert m.supportsInterface(bytes.fromhex("01ffc9a7")).call()
    assert not m.supportsInterface(bytes.fromhex("ffffffff")).call()

    judge = m.JUDGE().call()
    receipt = suite.transact(ADMIN, m.grantRole(judge, other.address))
    assert suite.events(receipt, suite.manager, "RoleGranted") == [
        {"role": judge, "account": other.address, "sender": ADMIN.address}
    ]
    assert m.hasRole(judge, other.address).call()
    suite.reverts_custom(
        stranger,
        m.grantRole(judge, stranger.address),
        "AccessControlUnauthorizedAccount",
        stranger.address,
        admin_role,
    )
    suite.reverts_custom(
        stranger, m.renounceRole(judge, other.address), "AccessControlBadConfirmation"
    )
    receipt = suite.transact(other, m.renounceRole(judge, other.address))
    assert suite.events(receipt, suite.manager, "RoleRevoked") == [
        {"role": judge, "account": other.address, "sender": other.address}
    ]
    suite.transact(ADMIN, m.grantRole(judge, other.address))
    suite.transact(ADMIN, m.revokeRole(judge, other.address))
    assert not m.hasRole(judge, other.address).call()
