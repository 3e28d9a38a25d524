"""The model behind test_stateful.py: the actors and their constants, what the vault is
read with, and ``ProtocolModel``: per action, the model's prediction (success or the revert
reason) checked against the SDK call, then the model updated."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings import vault as vault_abi
from ogpu_bindings.errors import revert_class_for
from web3 import Web3

from ogpu import agent, client
from ogpu.chain import ChainConfig, NonceManager, multicall
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS, DevnetAccount
from ogpu.devnet.chain import Devnet
from ogpu.protocol import (
    execute_request,
)
from ogpu.types import (
    OGPUError,
    ResponseParams,
    TaskInfo,
    TaskInput,
    TaskStatus,
    TxRevertError,
)

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


def chain_now(devnet: Devnet) -> int:
    return max(devnet.timestamp(), int(time.time()))


def read_vault(
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


class ProtocolModel:
    """The state machine's model and actions; ``ProtocolMachine`` adds the rules."""

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
            expiryTime=chain_now(self.devnet) + offset,
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
