"""Property-based test of the protocol: a hypothesis state machine on the in-process devnet.

Actors: two clients (C0 owns a MANUAL_CONFIRMATION source, C1 a FIRST_RESPONSE one),
two masters each paired with a provider registered to both sources, an agent of
master M0 (A0) and an agent of client C0 (A1). Rules drive the public SDK:
client workflows (``publish_task``, ``confirm_response``, ``cancel_task``,
``set_agent``), the agent workflow (``attempt``/``register_to``/``unregister_from``
signed by provider, master or agent), the provider's ``submitResponse`` through
the executor, vault operations (deposit, withdraw, stake, unbond, claim, cancel
unbonding) and time jumps. A Python model predicts every outcome: success, or the
revert reason, checked through the SDK's typed error class.

After every step one aggregated read (plus the vault's coin balance) checks:

- vault coin == the sum of every account's balance, frozen payment, lockup,
  unbonding and sanction (accounts the rules never touch are measured once);
- every account the rules touch has exactly the model's vault fields;
- each client's frozen payment == the payments of its unsettled tasks;
- every task and response status == the model's, and every observed change of
  a task status is a legal transition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from ogpu_bindings import response as response_abi
from ogpu_bindings import task as task_abi

from ogpu import agent, client
from ogpu.devnet import ALL_ACCOUNTS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.devnet.store import StoreServer
from ogpu.protocol import (
    Provider,
    Source,
    extract_source_address,
    nexus,
    terminal,
    vault,
)
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ResponseStatus,
)

from ..helpers.state import devnet_selected
from ..helpers.world import source_params
from .stateful_model import (
    A0,
    A1,
    C0,
    C1,
    CHANGING,
    ETHER,
    EXAMPLES,
    FIRST,
    HOLDINGS,
    JUMP,
    LEGAL,
    LIVE,
    M0,
    M1,
    MANUAL,
    MASTER_OF,
    MIN_LOCKUP,
    MIN_PAYMENT,
    OWNER,
    P0,
    P1,
    STEPS,
    ProtocolModel,
    S,
    World,
    read_vault,
)

pytestmark = pytest.mark.slow


class ProtocolMachine(ProtocolModel, RuleBasedStateMachine):
    # -- rules -------------------------------------------------------------------------------

    @initialize(who=st.sampled_from([C0, C1]), offset=st.sampled_from([1000, 3000]))
    def first_tasks(self, who: DevnetAccount, offset: int) -> None:
        self._count("example")
        self._publish(who, MANUAL, 10**15, offset)
        self._publish(who, FIRST, 10**15, offset)

    @rule(
        who=st.sampled_from([C0, C1]),
        source=st.sampled_from([MANUAL, FIRST]),
        payment=st.sampled_from([10**15, 5 * 10**15, 10**14, 0]),
        offset=st.sampled_from([1000, 3000, 5000]),
    )
    def publish_task(self, who: DevnetAccount, source: str, payment: int, offset: int) -> None:
        self._publish(who, source, payment, offset)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data())
    def advance_a_lifecycle(self, data: st.DataObject) -> None:
        """Take the next step of a live task with an allowed actor."""
        live = [t for t in self.tasks if self._status(t) in LIVE]
        if not live:
            return
        task = data.draw(st.sampled_from(live), label="live task")
        status = self._status(task)
        waiting = [r for r in self.responses if r.task is task and not r.confirmed]
        if status == S.RESPONDED and task.source == MANUAL and waiting:
            coin: bool = data.draw(st.booleans(), label="confirm as the client's agent")
            by_agent = task.client is C0 and self.a1_for_c0 and coin
            self._confirm(data.draw(st.sampled_from(waiting)), A1 if by_agent else task.client)
            return
        silent = sorted(task.attempters - task.responders)
        respond: bool = data.draw(st.booleans(), label="respond rather than attempt")
        if silent and respond:
            provider = P0 if silent[0] == P0.address else P1
            self._submit(task, provider, f"https://example.invalid/{task.address}/{len(silent)}")
            return
        fresh = [
            p
            for p in (P0, P1)
            if p.address not in task.attempters and (task.source, p.address) in self.registered
        ]
        if status in (S.NEW, S.ATTEMPTED) and fresh:
            provider = data.draw(st.sampled_from(fresh), label="provider")
            vias = ["self", "master"] + (["agent"] if provider is P0 and self.a0_for_m0 else [])
            self._attempt(task, provider, data.draw(st.sampled_from(vias), label="signer"))

    @precondition(lambda self: self.tasks)
    @rule(
        data=st.data(),
        provider=st.sampled_from([P0, P1]),
        via=st.sampled_from(["self", "master", "agent"]),
    )
    def attempt(self, data: st.DataObject, provider: DevnetAccount, via: str) -> None:
        promising = [
            t
            for t in self.tasks
            if self._status(t) in (S.NEW, S.ATTEMPTED) and provider.address not in t.attempters
        ]
        self._attempt(self._pick(data, self.tasks, promising), provider, via)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), provider=st.sampled_from([P0, P1]), name=st.sampled_from(["a", "b"]))
    def submit_response(self, data: st.DataObject, provider: DevnetAccount, name: str) -> None:
        promising = [t for t in self.tasks if provider.address in t.attempters - t.responders]
        task = self._pick(data, self.tasks, promising)
        self._submit(task, provider, f"https://example.invalid/{name}.json")

    @precondition(lambda self: self.responses)
    @rule(data=st.data(), who=st.sampled_from([C0, C1, A1]))
    def confirm_response(self, data: st.DataObject, who: DevnetAccount) -> None:
        promising = [r for r in self.responses if not r.confirmed]
        self._confirm(self._pick(data, self.responses, promising), who)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from([C0, C1]))
    def cancel_task(self, data: st.DataObject, who: DevnetAccount) -> None:
        promising = [t for t in self.tasks if t.client is who and self._status(t) == S.NEW]
        self._cancel(self._pick(data, self.tasks, promising), who)

    @rule(
        withdraw=st.booleans(),
        who=st.sampled_from([C0, C1]),
        amount=st.sampled_from([10**15, 10**16, 10**17]),
    )
    def vault_funds(self, withdraw: bool, who: DevnetAccount, amount: int) -> None:
        mine = self.accounts[who.address]
        if not withdraw:
            self._expect(
                None,
                lambda: vault.deposit(who.address, amount, signer=who.account),
                "Vault",
                "deposit",
                "vault.deposit",
            )
            mine["balance"] += amount
            return
        reason = None if amount <= mine["balance"] else "InsufficientBalance"
        self._expect(
            reason,
            lambda: vault.withdraw(amount, signer=who.account),
            "Vault",
            "withdraw",
            "vault.withdraw",
        )
        if reason is None:
            mine["balance"] -= amount

    @rule(by_master=st.booleans(), value=st.booleans())
    def set_agent(self, by_master: bool, value: bool) -> None:
        principal, helper = (M0, A0) if by_master else (C0, A1)
        self._expect(
            None,
            lambda: client.set_agent(helper.address, value, signer=principal.account),
            "Terminal",
            "setAgent",
            f"client.set_agent ({'master' if by_master else 'client'})",
        )
        if by_master:
            self.a0_for_m0 = value
        else:
            self.a1_for_c0 = value

    @rule(
        leave=st.booleans(),
        provider=st.sampled_from([P0, P1]),
        source=st.sampled_from([MANUAL, FIRST]),
    )
    def registration(self, leave: bool, provider: DevnetAccount, source: str) -> None:
        key = (source, provider.address)
        address = self.world.sources[source]
        if leave:
            reason = None if key in self.registered else "NotRegistered"
            self._expect(
                reason,
                lambda: agent.unregister_from(address, provider.address, signer=provider.account),
                "Nexus",
                "unregister",
                "agent.unregister_from",
            )
            self.registered.discard(key)
            return
        reason = None
        if self.accounts[provider.address]["lockup"] < MIN_LOCKUP:
            reason = "InsufficientLockup"
        elif key in self.registered:
            reason = "AlreadyRegistered"
        master = MASTER_OF[provider.address]
        self._expect(
            reason,
            lambda: agent.register_to(
                address, provider.address, Environment.CPU, signer=master.account
            ),
            "Nexus",
            "register",
            "agent.register_to (master)",
        )
        self.registered.add(key)

    @rule(
        op=st.sampled_from(["stake", "unstake", "claim", "cancel_unbonding"]),
        provider=st.sampled_from([P0, P1]),
        amount=st.sampled_from([10**15, ETHER, 3 * ETHER]),
    )
    def staking(self, op: str, provider: DevnetAccount, amount: int) -> None:
        mine = self.accounts[provider.address]
        me = Provider(provider.address)
        key = provider.account
        reason: str | None = None
        if op == "stake":
            reason = None if amount <= mine["balance"] else "InsufficientBalance"
            self._expect(reason, lambda: me.stake(amount, signer=key), "Vault", "lock", op)
            if reason is None:
                mine["balance"] -= amount
                mine["lockup"] += amount
        elif op == "unstake":
            reason = None if amount <= mine["lockup"] else "InsufficientLockup"
            self._expect(reason, lambda: me.unstake(amount, signer=key), "Vault", "unbond", op)
            if reason is None:
                mine["lockup"] -= amount
                mine["unbonding"] += amount
                self.unbonded_at[provider.address] = self.jumps
        elif op == "claim":
            if mine["unbonding"] == 0:
                reason = "NothingUnbonding"
            elif self.unbonded_at.get(provider.address) == self.jumps:
                reason = "UnbondingNotElapsed"
            self._expect(reason, lambda: me.claim_earnings(signer=key), "Vault", "claim", op)
            if reason is None:
                mine["balance"] += mine["unbonding"]
                mine["unbonding"] = 0
        else:
            reason = None if mine["unbonding"] else "NothingUnbonding"
            self._expect(
                reason, lambda: me.cancel_unbonding(signer=key), "Vault", "cancelUnbonding", op
            )
            if reason is None:
                mine["lockup"] += mine["unbonding"]
                mine["unbonding"] = 0

    @precondition(lambda self: len(self.tasks) >= 2 * (self.jumps + 1))
    @rule()
    def time_passes(self) -> None:
        self._count("time jump")
        self.devnet.advance_time(JUMP)
        self.jumps += 1

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def chain_matches_model(self) -> None:
        statuses: list[Any] = [task_abi.get_status_call(t.address) for t in self.tasks]
        statuses += [response_abi.get_status_call(r.address) for r in self.responses]
        coin, accounts, values = read_vault(self.devnet, CHANGING, statuses)
        changing = sum(a.get(f, 0) for a in accounts.values() for f in HOLDINGS)
        assert coin == self.world.fixed_holdings + changing, "vault coin != sum of holdings"
        assert accounts == self.accounts
        for who in (C0, C1):
            escrow = sum(t.payment for t in self.tasks if t.client is who and t.state in LIVE)
            assert accounts[who.address]["frozen"] == escrow, "frozen != open escrows"
        for task, status in zip(self.tasks, values, strict=False):
            assert status == self._status(task), f"task {task.address}: {status!r}"
            before = self.seen.get(task.address, S.NEW)
            assert before == status or (before, status) in LEGAL, f"{before!r} -> {status!r}"
            self.seen[task.address] = status
        for response, status in zip(self.responses, values[len(self.tasks) :], strict=True):
            confirmed = ResponseStatus.CONFIRMED if response.confirmed else ResponseStatus.SUBMITTED
            assert status == confirmed


@pytest.fixture
def world(devnet: Devnet, store: StoreServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", store.url)
    with devnet_selected(devnet.deployment, web3=devnet.w3):
        sources = {}
        for name, delivery in (
            (MANUAL, DeliveryMethod.MANUAL_CONFIRMATION),
            (FIRST, DeliveryMethod.FIRST_RESPONSE),
        ):
            owner = OWNER[name]
            params = source_params(
                owner.address,
                delivery=delivery,
                min_payment=MIN_PAYMENT[name],
                envs=Environment.CPU,
            )
            receipt = nexus.publish_source(params, signer=owner.account)
            sources[name] = extract_source_address(receipt)
        for who in (C0, C1):
            vault.deposit(who.address, 10**16, signer=who.account)
        registered: set[tuple[str, str]] = set()
        for master, provider in ((M0, P0), (M1, P1)):
            terminal.announce_provider(provider.address, 2 * ETHER, signer=master.account)
            terminal.announce_master(master.address, signer=provider.account)
            for name, address in sources.items():
                nexus.register(address, provider.address, Environment.CPU, signer=provider.account)
                registered.add((name, provider.address))
        terminal.set_agent(A0.address, True, signer=M0.account)
        terminal.set_agent(A1.address, True, signer=C0.account)
        assert Source(sources[MANUAL]).get_registrant_count() == 2
        # every devnet account's holdings add up to the vault's coin before the run
        everyone: dict[str, tuple[str, ...]] = {a.address: HOLDINGS for a in ALL_ACCOUNTS}
        coin, holdings, _ = read_vault(devnet, everyone, [])
        assert coin == sum(sum(h.values()) for h in holdings.values())
        fixed = sum(sum(h.values()) for who, h in holdings.items() if who not in CHANGING)
        fixed += sum(holdings[who]["sanction"] for who in CHANGING)
        fixed += sum(
            holdings[who][f]
            for who, names in CHANGING.items()
            for f in HOLDINGS
            if f not in names and f != "sanction"
        )
        _, accounts, _ = read_vault(devnet, CHANGING, [])
        yield World(devnet, sources, fixed, accounts, registered)


def test_protocol_state_machine(world: World, row: Any) -> None:
    ProtocolMachine.world = world
    ProtocolMachine.steps = {}
    run_state_machine_as_test(
        ProtocolMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    steps = ProtocolMachine.steps
    print(sorted(steps.items()))
    assert steps.get("example", 0) >= EXAMPLES // 2
    for needed in ("client.publish_task", "provider submitResponse", "client.confirm_response"):
        assert steps.get(needed, 0) > 0, f"the run never exercised {needed}"
    row(
        area="properties",
        case="protocol state machine",
        injected=f"hypothesis RuleBasedStateMachine, {EXAMPLES} examples x up to {STEPS} steps "
        "(derandomized): publish/cancel/confirm by clients and a client agent, attempts by "
        "provider/master/master agent, responses, (un)registration, deposit/withdraw, "
        "stake/unbond/claim/cancel unbonding, agent changes, 2000 s time jumps",
        outcome="after every step: vault coin == sum of all holdings; each account's vault "
        "fields == model; frozen == open escrows; task/response statuses == model, every "
        "status change legal; every refusal is the predicted typed error",
    )
