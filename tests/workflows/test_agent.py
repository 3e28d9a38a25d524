"""ogpu.agent: register, unregister and attempt on behalf of a master's provider."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ogpu import agent
from ogpu.client import publish_source, publish_task, set_agent
from ogpu.protocol import Source, Task
from ogpu.types import (
    AlreadyAttemptedError,
    Environment,
    EnvironmentNotSupportedError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidEnumValueError,
    InvalidParamsError,
    MissingSignerError,
    NotAuthorizedError,
    NotRegisteredError,
    TaskNotFoundError,
    TaskStatus,
)

if TYPE_CHECKING:
    from conftest import Net

ETHER = 10**18
PAYMENT = 10**16


@pytest.fixture
def source(net: Net) -> Source:
    """A CPU/NVIDIA source, the master/provider pair, and AGENTS[0] authorized by the master."""
    created = publish_source(net.source_info(min_payment=10**15), signer=net.client.account)
    net.pair(net.master, net.provider)
    set_agent(net.agent.address, True, signer=net.master.account)
    return created


def _task(net: Net, source: Source) -> Task:
    net.fund(net.client, ETHER)
    return publish_task(net.task_info(source), signer=net.client.account)


def _only(receipt: object, name: str) -> object:
    found = [log for log in receipt.logs if type(log).__name__ == name]  # type: ignore[attr-defined]
    assert len(found) == 1
    return found[0]


def test_register_to_with_agent_env_key(
    net: Net, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_PRIVATE_KEY", net.agent.key_hex)

    receipt = agent.register_to(source.address, net.provider.address, Environment.NVIDIA)

    event = _only(receipt, "RegisteredEvent")
    assert event.provider == net.provider.address  # type: ignore[attr-defined]
    assert event.source == source.address  # type: ignore[attr-defined]
    assert receipt.from_address == net.agent.address
    assert source.get_registrant_id(net.provider.address) == 1
    assert source.get_preferred_environment_of(net.provider.address) == Environment.NVIDIA
    assert source.get_registrants() == [net.provider.address]


@pytest.mark.parametrize("form", ["private_key", "positional", "signer"])
def test_register_to_signer_forms(net: Net, source: Source, form: str) -> None:
    args = (source.address, net.provider.address, Environment.CPU)
    if form == "private_key":
        receipt = agent.register_to(*args, private_key=net.agent.key_hex)
    elif form == "positional":
        receipt = agent.register_to(*args, net.agent.key_hex)
    else:
        receipt = agent.register_to(*args, signer=net.agent.account)
    assert receipt.from_address == net.agent.address
    assert source.get_registrant_id(net.provider.address) == 1


def test_the_provider_and_its_master_may_sign_too(net: Net, source: Source) -> None:
    agent.register_to(source.address, net.provider.address, 1, signer=net.provider.account)
    agent.unregister_from(source.address, net.provider.address, signer=net.master.account)
    assert source.get_registrant_id(net.provider.address) == 0


def test_register_refusals_send_nothing(net: Net, source: Source) -> None:
    with net.nothing_sent(net.other_agent), pytest.raises(NotAuthorizedError):
        agent.register_to(source.address, net.provider.address, 1, signer=net.other_agent.account)
    with net.nothing_sent(net.agent), pytest.raises(EnvironmentNotSupportedError):
        agent.register_to(source.address, net.provider.address, Environment.AMD, net.agent.key_hex)
    for env in (Environment.CPU | Environment.NVIDIA, 8, 0):
        with net.nothing_sent(net.agent), pytest.raises(InvalidEnumValueError):
            agent.register_to(source.address, net.provider.address, env, net.agent.key_hex)
    with net.nothing_sent(net.agent), pytest.raises(InvalidAddressError):
        agent.register_to("0xdead", net.provider.address, 1, net.agent.key_hex)
    assert source.get_registrant_count() == 0


def test_agent_needs_a_key(net: Net, source: Source) -> None:
    with net.nothing_sent(net.agent), pytest.raises(MissingSignerError, match="AGENT_PRIVATE_KEY"):
        agent.register_to(source.address, net.provider.address, 1)
    with net.nothing_sent(net.agent), pytest.raises(InvalidParamsError, match="not both"):
        agent.attempt(
            source.address, net.provider.address, 1, net.agent.key_hex, signer=net.agent.account
        )


def test_unregister_from(net: Net, source: Source) -> None:
    agent.register_to(source.address, net.provider.address, 1, signer=net.agent.account)

    receipt = agent.unregister_from(source.address, net.provider.address, signer=net.agent.account)

    assert receipt.status == 1
    assert source.get_registrant_id(net.provider.address) == 0
    assert source.get_registrants() == []
    with net.nothing_sent(net.agent), pytest.raises(NotRegisteredError):
        agent.unregister_from(source.address, net.provider.address, signer=net.agent.account)


def test_attempt_defaults_to_the_task_payment(net: Net, source: Source) -> None:
    agent.register_to(source.address, net.provider.address, 1, signer=net.agent.account)
    task = _task(net, source)

    receipt = agent.attempt(task.address, net.provider.address, signer=net.agent.account)

    event = _only(receipt, "AttemptedEvent")
    assert event.suggested_payment == PAYMENT  # type: ignore[attr-defined]
    assert event.provider == net.provider.address  # type: ignore[attr-defined]
    assert task.get_status() == TaskStatus.ATTEMPTED
    assert task.get_attempters() == [net.provider.address]
    with net.nothing_sent(net.agent), pytest.raises(AlreadyAttemptedError):
        agent.attempt(task.address, net.provider.address, 5, signer=net.agent.account)


def test_attempt_with_explicit_payment(net: Net, source: Source) -> None:
    agent.register_to(source.address, net.provider.address, 1, signer=net.agent.account)
    task = _task(net, source)
    receipt = agent.attempt(task.address, net.provider.address, 12345, net.agent.key_hex)
    assert _only(receipt, "AttemptedEvent").suggested_payment == 12345  # type: ignore[attr-defined]


def test_attempt_refusals_send_nothing(net: Net, source: Source) -> None:
    task = _task(net, source)
    with net.nothing_sent(net.agent), pytest.raises(NotRegisteredError):
        agent.attempt(task.address, net.provider.address, signer=net.agent.account)
    with net.nothing_sent(net.agent), pytest.raises(InvalidAmountError):
        agent.attempt(task.address, net.provider.address, -1, signer=net.agent.account)
    with net.nothing_sent(net.agent), pytest.raises(TaskNotFoundError):
        agent.attempt(net.client.address, net.provider.address, signer=net.agent.account)
    assert task.get_status() == TaskStatus.NEW
