"""ogpu.client task workflows: publish (and every check before it), cancel, responses, agents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from ogpu.client import (
    DeliveryMethod,
    Response,
    Task,
    TaskInfo,
    TaskInput,
    cancel_task,
    confirm_response,
    get_task_responses,
    inactivate_source,
    publish_source,
    publish_task,
    revoke_agent,
    set_agent,
)
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Source, nexus, terminal, vault
from ogpu.types import (
    ExpiryTooLongError,
    InsufficientBalanceError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidInputError,
    InvalidParamsError,
    MissingSignerError,
    NotAuthorizedError,
    NotTaskOwnerError,
    PaymentTooLowError,
    ResponseAlreadyConfirmedError,
    ResponseStatus,
    SourceInactiveError,
    SourceNotFoundError,
    StateError,
    TaskAlreadyFinalizedError,
    TaskExpiredError,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskStatus,
)

if TYPE_CHECKING:
    from conftest import Net

ETHER = 10**18
PAYMENT = 10**16
MIN_PAYMENT = 10**15
MAX_EXPIRY = 3600


def _source(net: Net, **kwargs: Any) -> Source:
    kwargs.setdefault("min_payment", MIN_PAYMENT)
    kwargs.setdefault("max_expiry", MAX_EXPIRY)
    return publish_source(net.source_info(**kwargs), signer=net.client.account)


def _info(net: Net, source: str, **changes: Any) -> TaskInfo:
    info = net.task_info(source, data={"text": "is this review positive?"})
    for name, value in changes.items():
        setattr(info, name, value)
    return info


@pytest.fixture
def source(net: Net) -> Source:
    net.fund(net.client, ETHER)
    return _source(net)


class Req(BaseModel):
    text: str
    top_k: int = 1


def test_publish_task_returns_live_task(net: Net, source: Source) -> None:
    expiry = net.now() + 900
    config = TaskInput(
        function_name="predict", data=Req(text="hello", top_k=5), priority="high", sensitivity="low"
    )
    balance = vault.get_balance_of(net.client.address)
    net.rpc.reset_counts()
    net.store.reset_counts()

    task = publish_task(
        TaskInfo(source=source.address, config=config, expiryTime=expiry, payment=PAYMENT),
        private_key=net.client.key_hex,
    )

    assert isinstance(task, Task)
    assert net.rpc.count("eth_sendRawTransaction") == 1
    assert net.store.posts() == 1
    # checks + time (one batch), gas + fees (one batch), the send with receipt + block (one
    # batch); ganache mines after answering the batch, so its receipt needs one more poll
    instant = net.node.kind == "devnet"
    assert net.rpc.posts() == (3 if instant else 4)
    assert net.rpc.count("eth_getBlockByNumber") == (3 if instant else 4)
    assert task.get_status() == TaskStatus.NEW
    assert task.get_source() == source
    assert task.get_payment() == PAYMENT
    assert task.get_expiry_time() == expiry
    assert task.get_delivery_method() == DeliveryMethod.MANUAL_CONFIRMATION
    assert task.get_metadata() == {
        "function_name": "predict",
        "data": {"text": "hello", "top_k": 5},
        "priority": "high",
        "sensitivity": "low",
    }
    assert source.get_tasks() == [task]
    assert vault.get_balance_of(net.client.address) == balance - PAYMENT
    assert vault.get_frozen_payment(net.client.address) == PAYMENT


@pytest.mark.slow
def test_publish_task_accepts_checksum_free_source_and_env_key(
    net: Net, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", net.client.key_hex)
    task = publish_task(_info(net, source.address.lower()))
    assert task.get_source() == source


# -- every check before anything is pinned or sent ----------------------------------------------


def _expired(net: Net, info: TaskInfo) -> None:
    info.expiryTime = net.now() - 5


def _too_long(net: Net, info: TaskInfo) -> None:
    info.expiryTime = net.now() + MAX_EXPIRY + 600


def _underpaid(net: Net, info: TaskInfo) -> None:
    info.payment = MIN_PAYMENT - 1


def _no_function(net: Net, info: TaskInfo) -> None:
    info.config.function_name = ""


def _eoa(net: Net, info: TaskInfo) -> None:
    info.source = net.other_client.address


def _a_task(net: Net, info: TaskInfo) -> None:
    info.source = publish_task(_info(net, info.source), signer=net.client.account).address


def _inactive(net: Net, info: TaskInfo) -> None:
    inactivate_source(info.source, signer=net.client.account)


def _poor(net: Net, info: TaskInfo) -> None:
    info.payment = ETHER + 1


def _negative(net: Net, info: TaskInfo) -> None:
    info.payment = -1


CHECKS = [
    ("expiry-in-the-past", _expired, TaskExpiredError, "not in the future"),
    ("expiry-beyond-max", _too_long, ExpiryTooLongError, "maxExpiryDuration of 3600s"),
    ("payment-under-min", _underpaid, PaymentTooLowError, f"at least {MIN_PAYMENT}"),
    ("empty-function-name", _no_function, InvalidParamsError, "function_name"),
    ("address-is-an-account", _eoa, SourceNotFoundError, "not a source"),
    ("address-is-a-task", _a_task, SourceNotFoundError, "not a source"),
    ("source-inactive", _inactive, SourceInactiveError, "inactive"),
    ("vault-balance-short", _poor, InsufficientBalanceError, "deposit at least 1 wei more"),
    ("negative-payment", _negative, InvalidAmountError, "payment"),
]


@pytest.mark.parametrize(
    ("prepare", "error", "message"),
    [case[1:] for case in CHECKS],
    ids=[case[0] for case in CHECKS],
)
def test_publish_task_checks_before_pinning_or_sending(
    net: Net, source: Source, prepare: Any, error: type[Exception], message: str
) -> None:
    info = _info(net, source.address)
    prepare(net, info)
    tasks_before = source.get_task_count()

    with net.nothing_sent(), pytest.raises(error, match=message):
        publish_task(info, signer=net.client.account)

    assert source.get_task_count() == tasks_before


def test_presend_errors_are_the_contracts_own(net: Net, source: Source) -> None:
    """Each on-chain check raises the class the contract's revert would decode to."""
    assert issubclass(TaskExpiredError, StateError)
    assert issubclass(ExpiryTooLongError, StateError)
    assert issubclass(PaymentTooLowError, StateError)
    assert issubclass(SourceInactiveError, StateError)
    with pytest.raises(InsufficientBalanceError) as caught:
        publish_task(_info(net, source.address, payment=2 * ETHER), signer=net.client.account)
    assert caught.value.required == 2 * ETHER
    assert caught.value.available == vault.get_balance_of(net.client.address)


def test_task_input_refuses_empty_function_name() -> None:
    with pytest.raises(InvalidInputError):
        TaskInput(function_name="", data={})


def test_publish_task_without_signer_pins_nothing(net: Net, source: Source) -> None:
    with net.nothing_sent(), pytest.raises(MissingSignerError, match="CLIENT_PRIVATE_KEY"):
        publish_task(_info(net, source.address))


def test_publish_task_rejects_non_task_info(net: Net) -> None:
    with net.nothing_sent(), pytest.raises(InvalidParamsError, match="TaskInfo"):
        publish_task({"source": net.client.address}, signer=net.client.account)  # type: ignore[arg-type]


# -- cancel --------------------------------------------------------------------------------------


def test_cancel_task_refunds_the_escrow(net: Net, source: Source) -> None:
    balance = vault.get_balance_of(net.client.address)
    task = publish_task(_info(net, source.address), signer=net.client.account)

    receipt = cancel_task(task.address, private_key=net.client.key_hex)

    assert receipt.status == 1
    mined = net.node.call("eth_getBlockByNumber", [hex(receipt.block_number), False])
    assert receipt.timestamp == int(mined["timestamp"], 16) > 0
    assert receipt.block_hash == mined["hash"]
    assert task.get_status() == TaskStatus.CANCELED
    assert vault.get_balance_of(net.client.address) == balance
    assert vault.get_frozen_payment(net.client.address) == 0


def test_cancel_task_refusals_send_nothing(net: Net, source: Source) -> None:
    task = publish_task(_info(net, source.address), signer=net.client.account)
    with net.nothing_sent(net.other_client), pytest.raises(NotTaskOwnerError):
        cancel_task(task.address, signer=net.other_client.account)

    net.register(source)
    nexus.attempt(task.address, net.provider.address, PAYMENT, signer=net.provider.account)
    with net.nothing_sent(), pytest.raises(TaskNotCancelableError):
        cancel_task(task.address, signer=net.client.account)
    assert task.get_status() == TaskStatus.ATTEMPTED


# -- responses and confirmation -------------------------------------------------------------------


def _responded(net: Net, source: Source) -> tuple[Task, Response, Response]:
    task = publish_task(_info(net, source.address), signer=net.client.account)
    second_provider, second_master = net.other_provider, net.other_master
    net.register(source)
    net.register(source, second_provider, second_master)
    providers = (net.provider, second_provider)
    for provider in providers:
        nexus.attempt(task.address, provider.address, PAYMENT, signer=provider.account)
    results = []
    for index, provider in enumerate(providers):
        url = publish_to_ipfs({"label": "positive", "rank": index})
        results.append(net.respond(task.address, provider, url))
    return task, results[0], results[1]


@pytest.mark.slow
def test_get_task_responses_and_confirm(net: Net, source: Source) -> None:
    task, first, second = _responded(net, source)

    responses = get_task_responses(task.address)

    assert responses == [first, second]
    assert [r.fetch_data()["rank"] for r in responses] == [0, 1]
    assert get_task_responses(task.address, 1) == [second]
    assert task.get_status() == TaskStatus.RESPONDED

    earned = vault.get_total_earnings_of(net.other_provider.address)
    confirm_response(second.address, signer=net.client.account)

    assert task.get_status() == TaskStatus.FINALIZED
    assert second.get_status() == ResponseStatus.CONFIRMED
    assert first.get_status() == ResponseStatus.SUBMITTED
    assert task.get_winning_provider() == net.other_provider.address
    assert vault.get_total_earnings_of(net.other_provider.address) == earned + PAYMENT
    with net.nothing_sent(), pytest.raises(ResponseAlreadyConfirmedError):
        confirm_response(second.address, signer=net.client.account)
    with net.nothing_sent(), pytest.raises(TaskAlreadyFinalizedError):
        confirm_response(first.address, signer=net.client.account)


@pytest.mark.slow
def test_confirm_response_by_another_client_sends_nothing(net: Net, source: Source) -> None:
    _, first, _ = _responded(net, source)
    with net.nothing_sent(net.other_client), pytest.raises(NotTaskOwnerError):
        confirm_response(first.address, signer=net.other_client.account)


def test_get_task_responses_of_a_non_task(net: Net) -> None:
    with pytest.raises(TaskNotFoundError):
        get_task_responses(net.client.address)
    with pytest.raises(InvalidAddressError):
        get_task_responses("0xnope")


# -- agents of the client ------------------------------------------------------------------------


@pytest.mark.slow
def test_client_agent_confirms_until_revoked(net: Net, source: Source) -> None:
    agent = net.agent
    receipt = set_agent(agent.address, True, net.client.key_hex)
    assert receipt.status == 1
    assert terminal.is_agent_of(net.client.address, agent.address)

    task, first, _ = _responded(net, source)
    confirm_response(first.address, signer=agent.account)
    assert task.get_status() == TaskStatus.FINALIZED

    revoke_agent(agent.address, signer=net.client.account)
    assert not terminal.is_agent_of(net.client.address, agent.address)
    other = publish_task(_info(net, source.address), signer=net.client.account)
    nexus.attempt(other.address, net.provider.address, PAYMENT, signer=net.provider.account)
    response = net.respond(other.address, net.provider, publish_to_ipfs({"label": "late"}))
    with net.nothing_sent(agent), pytest.raises(NotTaskOwnerError):
        confirm_response(response.address, signer=agent.account)


BAD_AGENT = [
    ("own-address", lambda net: (net.client.address, True), InvalidAddressError),
    ("zero-address", lambda net: ("0x" + "00" * 20, True), InvalidAddressError),
    ("malformed", lambda net: ("0x12", True), InvalidAddressError),
    ("value-not-bool", lambda net: (net.agent.address, "yes"), InvalidParamsError),
]


@pytest.mark.parametrize(
    ("arguments", "error"), [c[1:] for c in BAD_AGENT], ids=[c[0] for c in BAD_AGENT]
)
def test_set_agent_rejects_bad_input(net: Net, arguments: Any, error: type[Exception]) -> None:
    agent, value = arguments(net)
    with net.nothing_sent(), pytest.raises(error):
        set_agent(agent, value, signer=net.client.account)


def test_a_provider_cannot_set_an_agent(net: Net, source: Source) -> None:
    net.register(source)
    with net.nothing_sent(net.provider), pytest.raises(NotAuthorizedError):
        set_agent(net.agent.address, signer=net.provider.account)
