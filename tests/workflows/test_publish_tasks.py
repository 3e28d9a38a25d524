"""ogpu.client.publish_tasks: every check first, then pipelined transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ogpu.client import (
    PublishTasksError,
    Task,
    TaskInfo,
    publish_source,
    publish_tasks,
)
from ogpu.protocol import Source, vault
from ogpu.types import (
    InsufficientBalanceError,
    InvalidParamsError,
    PaymentTooLowError,
    SourceNotFoundError,
    TaskStatus,
)

from ..helpers.proxy import Fault

if TYPE_CHECKING:
    from conftest import Net

ETHER = 10**18
PAYMENT = 10**16


def _info(net: Net, source: str, text: str, **changes: Any) -> TaskInfo:
    info = net.task_info(source, data={"text": text})
    for name, value in changes.items():
        setattr(info, name, value)
    return info


@pytest.fixture
def sources(net: Net) -> list[Source]:
    net.fund(net.client, ETHER)
    return [
        publish_source(net.source_info(name=name), signer=net.client.account)
        for name in ("first", "second")
    ]


@pytest.mark.slow
def test_publish_tasks_returns_live_tasks_in_order(net: Net, sources: list[Source]) -> None:
    infos = [_info(net, sources[i % 2].address, f"text {i}") for i in range(6)]
    balance = vault.get_balance_of(net.client.address)
    nonce = net.nonce(net.client)
    net.rpc.reset_counts()
    net.store.reset_counts()

    tasks = publish_tasks(infos, signer=net.client.account)

    assert net.store.posts() == 6
    assert net.rpc.count("eth_sendRawTransaction") == 6
    # one estimate per source (same payment, same config-URL length)
    assert net.rpc.count("eth_estimateGas") == 2
    # checks, estimates, the broadcast, one receipt poll (no block headers); ganache
    # mines after answering, so it may take more polls
    assert net.rpc.posts() == 4 if net.node.kind == "devnet" else 4 <= net.rpc.posts() <= 6
    assert [type(t) for t in tasks] == [Task] * 6
    assert len(set(tasks)) == 6
    for i, task in enumerate(tasks):
        assert task.get_source() == sources[i % 2]
        assert task.get_metadata()["data"] == {"text": f"text {i}"}
        assert task.get_status() == TaskStatus.NEW
    assert sources[0].get_tasks() == tasks[0::2]
    assert sources[1].get_tasks() == tasks[1::2]
    assert net.nonce(net.client) == nonce + 6
    assert vault.get_balance_of(net.client.address) == balance - 6 * PAYMENT


@pytest.mark.slow
def test_identical_configs_are_pinned_once(net: Net, sources: list[Source]) -> None:
    infos = [_info(net, sources[0].address, "same") for _ in range(3)]
    net.store.reset_counts()
    tasks = publish_tasks(infos, signer=net.client.account)
    assert net.store.posts() == 1
    assert len({t.get_params().config for t in tasks}) == 1


def _underpaid(net: Net, info: TaskInfo) -> None:
    info.payment = 1


def _not_a_source(net: Net, info: TaskInfo) -> None:
    info.source = net.other_client.address


def _bad_type(net: Net, info: TaskInfo) -> None:
    info.payment = -5


@pytest.mark.parametrize(
    ("spoil", "error"),
    [
        (_underpaid, PaymentTooLowError),
        (_not_a_source, SourceNotFoundError),
        (_bad_type, InvalidParamsError.__mro__[1]),
    ],
    ids=["payment-under-min", "not-a-source", "negative-payment"],
)
def test_one_bad_task_stops_all_before_pinning_or_sending(
    net: Net, sources: list[Source], spoil: Any, error: type[Exception]
) -> None:
    infos = [_info(net, sources[0].address, f"t{i}") for i in range(4)]
    spoil(net, infos[2])
    with net.nothing_sent(), pytest.raises(error, match=r"^task_infos\[2\]: "):
        publish_tasks(infos, signer=net.client.account)


def test_the_vault_must_cover_the_sum_of_payments(net: Net, sources: list[Source]) -> None:
    balance = vault.get_balance_of(net.client.address)
    share = balance // 3 + 1
    infos = [_info(net, sources[0].address, f"t{i}", payment=share) for i in range(3)]
    with net.nothing_sent(), pytest.raises(InsufficientBalanceError) as caught:
        publish_tasks(infos, signer=net.client.account)
    assert caught.value.required == 3 * share
    assert caught.value.available == balance


def test_bad_arguments_send_nothing(net: Net, sources: list[Source]) -> None:
    info = _info(net, sources[0].address, "x")
    with net.nothing_sent(), pytest.raises(InvalidParamsError, match="list of TaskInfo"):
        publish_tasks(info, signer=net.client.account)  # type: ignore[arg-type]
    with net.nothing_sent(), pytest.raises(InvalidParamsError, match="max_uploads"):
        publish_tasks([info], signer=net.client.account, max_uploads=0)
    with net.nothing_sent(), pytest.raises(InvalidParamsError, match=r"task_infos\[1\]"):
        publish_tasks([info, "nope"], signer=net.client.account)  # type: ignore[list-item]
    with net.nothing_sent():
        assert publish_tasks([], signer=net.client.account) == []


@pytest.mark.slow
def test_a_receipt_timeout_is_reported_per_task(net: Net, sources: list[Source]) -> None:
    infos = [_info(net, sources[0].address, f"late {i}") for i in range(2)]
    hidden = net.rpc.add("eth_getTransactionReceipt", Fault.NULL_RESULT, times=None)
    try:
        with pytest.raises(PublishTasksError) as caught:
            publish_tasks(infos, signer=net.client.account, receipt_timeout=0.5)
    finally:
        net.rpc.remove(hidden)
    error = caught.value
    assert error.tasks == [None, None]
    assert sorted(error.errors) == [0, 1]
    assert error.tx_hash is not None
    assert "2 of 2 tasks were not published" in str(error)
    assert sources[0].get_task_count() == 2  # they were mined; only the receipts were hidden
