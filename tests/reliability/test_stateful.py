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

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings import response as response_abi
from ogpu_bindings import task as task_abi
from ogpu_bindings import vault as vault_abi
from ogpu_bindings.errors import revert_class_for
from web3 import Web3

from ogpu import agent, client
from ogpu.chain import ChainConfig, ChainId, NonceManager, Web3Manager, multicall
from ogpu.devnet import AGENTS, ALL_ACCOUNTS, CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.devnet.store import StoreServer
from ogpu.protocol import (
    Provider,
    Source,
    execute_request,
    extract_source_address,
    nexus,
    terminal,
    vault,
)
from ogpu.types import (
    DeliveryMethod,
    Environment,
    OGPUError,
    ResponseParams,
    ResponseStatus,
    SourceParams,
    TaskInfo,
    TaskInput,
    TaskStatus,
    TxRevertError,
)

pytestmark = pytest.mark.slow

ETHER = 10**18
JUMP = 2000  # seconds per time jump; expiry offsets (1000, 3000) stay >= 1000 s from a jump
EXAMPLES = 8
STEPS = 20
MANUAL, FIRST = "manual", "first"
C0, C1 = CLIENTS[0], CLIENTS[1]
M0, M1 = MASTERS[0], MASTERS[1]
P0, P1 = PROVIDERS[0], PROVIDERS[1]
A0, A1 = AGENTS[0], AGENTS[1]
MASTER_OF = {P0.address: M0, P1.address: M1}
MIN_PAYMENT = {MANUAL: 10**15, FIRST: 10**14}
OWNER = {MANUAL: C0, FIRST: C1}
MIN_LOCKUP = ETHER
S = TaskStatus
LIVE = (S.NEW, S.ATTEMPTED, S.RESPONDED)
LEGAL = {
    (S.NEW, S.ATTEMPTED),
    (S.NEW, S.CANCELED),
    (S.NEW, S.EXPIRED),
    (S.ATTEMPTED, S.RESPONDED),
    (S.ATTEMPTED, S.FINALIZED),  # FIRST_RESPONSE: respond and finalize in one transaction
    (S.ATTEMPTED, S.EXPIRED),
    (S.RESPONDED, S.FINALIZED),
    (S.RESPONDED, S.EXPIRED),
    (S.EXPIRED, S.CANCELED),  # reclaiming the escrow of an expired, unanswered task
    (S.EXPIRED, S.FINALIZED),  # confirming a response submitted before expiry
}
HOLDINGS = ("balance", "frozen", "lockup", "unbonding", "sanction")
CHANGING: dict[str, tuple[str, ...]] = {  # the accounts and vault fields the rules change
    C0.address: ("balance", "frozen"),
    C1.address: ("balance", "frozen"),
    P0.address: ("balance", "lockup", "unbonding", "earnings"),
    P1.address: ("balance", "lockup", "unbonding", "earnings"),
}
GETTERS = {
    "balance": vault_abi.balance_of_call,
    "frozen": vault_abi.frozen_payment_call,
    "lockup": vault_abi.lockup_of_call,
    "unbonding": vault_abi.unbonding_of_call,
    "sanction": vault_abi.sanction_of_call,
    "earnings": vault_abi.total_earnings_of_call,
}


@dataclass
class TaskModel:
    address: str
    client: DevnetAccount
    source: str
    payment: int
    offset: int
    published_at_jump: int
    state: TaskStatus = S.NEW
    attempters: set[str] = field(default_factory=set)
    responders: set[str] = field(default_factory=set)
    data: set[str] = field(default_factory=set)
    responses: int = 0


@dataclass
class ResponseModel:
    address: str
    task: TaskModel
    provider: str
    confirmed: bool = False


@dataclass
class World:
    """State built once per test: sources, pairings, registrations, agents, funded clients."""

    devnet: Devnet
    sources: dict[str, str]
    fixed_holdings: int  # what the vault holds for accounts the rules never change
    accounts: dict[str, dict[str, int]]
    registered: set[tuple[str, str]]


def _chain_now(devnet: Devnet) -> int:
    return max(devnet.timestamp(), int(time.time()))


def _source_params(owner: DevnetAccount, delivery: DeliveryMethod, minimum: int) -> SourceParams:
    return SourceParams(
        client=owner.address,
        imageMetadataUrl="https://example.invalid/meta.json",
        imageEnvironments=Environment.CPU,
        minPayment=minimum,
        minAvailableLockup=0,
        maxExpiryDuration=3600,
        privacyEnabled=False,
        optionalParamsUrl="",
        deliveryMethod=delivery,
        lastUpdateTime=0,
    )


def _read(
    devnet: Devnet, fields: dict[str, tuple[str, ...]], extra: list[Any]
) -> tuple[int, dict[str, dict[str, int]], list[Any]]:
    """The vault's coin, ``fields`` of each account and the ``extra`` calls, in one eth_call
    (plus eth_getBalance)."""
    address = ChainConfig.get_contract_address("VAULT")
    keys = [(who, name) for who, names in fields.items() for name in names]
    calls = [GETTERS[name](address, who) for who, name in keys] + extra
    outcome = multicall.aggregate_all(devnet.w3, calls)
    values = [call.decode(r.data) for call, r in zip(calls, outcome.results, strict=True)]
    accounts: dict[str, dict[str, int]] = {who: {} for who in fields}
    for (who, name), value in zip(keys, values, strict=False):
        accounts[who][name] = int(value)
    return (
        int(devnet.w3.eth.get_balance(Web3.to_checksum_address(address))),
        accounts,
        values[len(keys) :],
    )


class ProtocolMachine(RuleBasedStateMachine):
    world: ClassVar[World]
    steps: ClassVar[dict[str, int]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.devnet = self.world.devnet
        self.snapshot = self.devnet.snapshot()
        NonceManager.clear_all()
        self.accounts = copy.deepcopy(self.world.accounts)
        self.registered = set(self.world.registered)
        self.jumps = 0
        self.unbonded_at: dict[str, int] = {}
        self.a0_for_m0 = True
        self.a1_for_c0 = True
        self.tasks: list[TaskModel] = []
        self.responses: list[ResponseModel] = []
        self.seen: dict[str, TaskStatus] = {}

    def teardown(self) -> None:
        self.devnet.revert(self.snapshot)
        NonceManager.clear_all()

    # -- model helpers -----------------------------------------------------------------------

    def _count(self, name: str) -> None:
        self.steps[name] = self.steps.get(name, 0) + 1

    def _status(self, task: TaskModel) -> TaskStatus:
        expired = (self.jumps - task.published_at_jump) * JUMP > task.offset
        return S.EXPIRED if task.state in LIVE and expired else task.state

    def _expect(
        self, reason: str | None, call: Callable[[], Any], contract: str, function: str, name: str
    ) -> Any:
        """Run ``call``: it must succeed when ``reason`` is None, else raise the typed error
        of that revert reason. Returns the call's result (None after a refusal)."""
        self._count(name if reason is None else f"{name} refused ({reason})")
        if reason is None:
            return call()
        expected = revert_class_for(reason, contract=contract, function=function)
        with pytest.raises(OGPUError) as caught:
            call()
        error = caught.value
        assert isinstance(error, expected), f"{name}: expected {reason}, got {error!r}"
        if isinstance(error, TxRevertError) and error.reason is not None:
            assert error.reason == reason, f"{name}: expected {reason}, got {error.reason}"
        return None

    def _pick(self, data: st.DataObject, items: list[Any], promising: list[Any]) -> Any:
        """An item, most often one the action can succeed on (so lifecycles progress)."""
        prefer: int = data.draw(st.integers(0, 3), label="prefer a promising item")
        if promising and prefer:
            return data.draw(st.sampled_from(promising), label="promising item")
        return data.draw(st.sampled_from(items), label="any item")

    def _finalize(self, task: TaskModel, response: ResponseModel) -> None:
        task.state = S.FINALIZED
        response.confirmed = True
        self.accounts[task.client.address]["frozen"] -= task.payment
        paid = self.accounts[response.provider]
        paid["balance"] += task.payment
        paid["earnings"] += task.payment

    def _actor(self, provider: DevnetAccount, via: str) -> tuple[DevnetAccount, bool]:
        master = MASTER_OF[provider.address]
        if via == "self":
            return provider, True
        if via == "master":
            return master, True
        return A0, master.address == M0.address and self.a0_for_m0

    # -- actions (model prediction + SDK call) -----------------------------------------------

    def _publish(self, who: DevnetAccount, source: str, payment: int, offset: int) -> None:
        mine = self.accounts[who.address]
        reason = None
        if payment < MIN_PAYMENT[source]:
            reason = "PaymentTooLow"
        elif offset > 3600:
            reason = "ExpiryTooLong"
        elif mine["balance"] < payment:
            reason = "InsufficientBalance"
        info = TaskInfo(
            source=self.world.sources[source],
            config=TaskInput(function_name="predict", data={"n": len(self.tasks)}),
            expiryTime=_chain_now(self.devnet) + offset,
            payment=payment,
        )
        task = self._expect(
            reason,
            lambda: client.publish_task(info, signer=who.account),
            "Controller",
            "publishTask",
            "client.publish_task",
        )
        if task is not None:
            mine["balance"] -= payment
            mine["frozen"] += payment
            self.tasks.append(TaskModel(task.address, who, source, payment, offset, self.jumps))

    def _attempt(self, task: TaskModel, provider: DevnetAccount, via: str) -> None:
        signer, allowed = self._actor(provider, via)
        status = self._status(task)
        reason = None
        if not allowed:
            reason = "NotAuthorized"
        elif (task.source, provider.address) not in self.registered:
            reason = "NotRegistered"
        elif status in (S.FINALIZED, S.CANCELED):
            reason = "AlreadyFinalized"
        elif status == S.EXPIRED:
            reason = "Expired"
        elif status == S.RESPONDED:
            reason = "AlreadyResponded"
        elif provider.address in task.attempters:
            reason = "AlreadyAttempted"
        self._expect(
            reason,
            lambda: agent.attempt(
                task.address, provider.address, task.payment, signer=signer.account
            ),
            "Nexus",
            "attempt",
            f"agent.attempt ({via})",
        )
        if reason is None:
            task.attempters.add(provider.address)
            if task.state == S.NEW:
                task.state = S.ATTEMPTED

    def _submit(self, task: TaskModel, provider: DevnetAccount, url: str) -> None:
        status = self._status(task)
        reason = None
        if status in (S.FINALIZED, S.CANCELED):
            reason = "AlreadyFinalized"
        elif status == S.EXPIRED:
            reason = "Expired"
        elif provider.address not in task.attempters:
            reason = "NotAttempted"
        elif provider.address in task.responders or url in task.data:
            reason = "AlreadySubmitted"
        params = ResponseParams(task=task.address, provider=provider.address, data=url, payment=0)
        request = nexus_abi.submit_response(ChainConfig.get_contract_address("NEXUS"), params)
        receipt = self._expect(
            reason,
            lambda: execute_request(request, provider.account),
            "Nexus",
            "submitResponse",
            "provider submitResponse",
        )
        if receipt is None:
            return
        address = next(log.response for log in receipt.logs if hasattr(log, "response"))
        response = ResponseModel(address, task, provider.address)
        self.responses.append(response)
        task.responders.add(provider.address)
        task.data.add(url)
        task.responses += 1
        task.state = S.RESPONDED
        if task.source == FIRST:
            self._finalize(task, response)

    def _confirm(self, response: ResponseModel, who: DevnetAccount) -> None:
        task = response.task
        owner = task.client.address
        allowed = who.address == owner or (
            who.address == A1.address and owner == C0.address and self.a1_for_c0
        )
        reason = None
        if not allowed:
            reason = "NotOwner"
        elif response.confirmed:
            reason = "AlreadyConfirmed"
        elif self._status(task) in (S.FINALIZED, S.CANCELED):
            reason = "AlreadyFinalized"
        self._expect(
            reason,
            lambda: client.confirm_response(response.address, signer=who.account),
            "Controller",
            "confirmResponse",
            "client.confirm_response",
        )
        if reason is None:
            self._finalize(task, response)

    def _cancel(self, task: TaskModel, who: DevnetAccount) -> None:
        status = self._status(task)
        reason = None
        if who.address != task.client.address:
            reason = "NotOwner"
        elif status == S.FINALIZED:
            reason = "AlreadyFinalized"
        elif not (status == S.NEW or (status == S.EXPIRED and task.responses == 0)):
            reason = "NotCancelable"
        self._expect(
            reason,
            lambda: client.cancel_task(task.address, signer=who.account),
            "Controller",
            "cancelTask",
            "client.cancel_task",
        )
        if reason is None:
            task.state = S.CANCELED
            owner = self.accounts[who.address]
            owner["frozen"] -= task.payment
            owner["balance"] += task.payment

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
        coin, accounts, values = _read(self.devnet, CHANGING, statuses)
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
    NonceManager.clear_all()
    ChainConfig.use_devnet(devnet.deployment, web3=devnet.w3)
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", store.url)
    try:
        sources = {}
        for name, delivery in (
            (MANUAL, DeliveryMethod.MANUAL_CONFIRMATION),
            (FIRST, DeliveryMethod.FIRST_RESPONSE),
        ):
            owner = OWNER[name]
            receipt = nexus.publish_source(
                _source_params(owner, delivery, MIN_PAYMENT[name]), signer=owner.account
            )
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
        coin, holdings, _ = _read(devnet, everyone, [])
        assert coin == sum(sum(h.values()) for h in holdings.values())
        fixed = sum(sum(h.values()) for who, h in holdings.items() if who not in CHANGING)
        fixed += sum(holdings[who]["sanction"] for who in CHANGING)
        fixed += sum(
            holdings[who][f]
            for who, names in CHANGING.items()
            for f in HOLDINGS
            if f not in names and f != "sanction"
        )
        _, accounts, _ = _read(devnet, CHANGING, [])
        yield World(devnet, sources, fixed, accounts, registered)
    finally:
        NonceManager.clear_all()
        Web3Manager.set_web3_instance(ChainId.OGPU_DEVNET, None)
        ChainConfig.reset_rpc(ChainId.OGPU_DEVNET)
        ChainConfig.set_chain(ChainId.OGPU_MAINNET)


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
