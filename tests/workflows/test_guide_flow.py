"""The publishing guide end to end, with a provider driven by the agent API.

Client: publish source -> publish task -> watch the attempt -> read responses -> confirm
-> FINALIZED. Provider side: the master announces the provider, the provider
announces the master and locks stake, the master authorizes an agent, the agent
registers the provider and attempts the task, the provider submits its response
through ogpu.protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from ogpu import agent
from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    confirm_response,
    get_task_responses,
    publish_source,
    publish_task,
)
from ogpu.events import (
    AttemptedEvent,
    watch_attempted,
    watch_response_submitted,
    watch_task_status_changed,
)
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Master, Provider, Source, vault
from ogpu.types import (
    Environment,
    InsufficientLockupError,
    ResponseAlreadyConfirmedError,
    ResponseStatus,
    TaskStatus,
)

pytestmark = pytest.mark.slow

if TYPE_CHECKING:
    from conftest import Net

ETHER = 10**18
PAYMENT = 10**16
E = TypeVar("E")


def _guide_source(net: Net, delivery: DeliveryMethod) -> Source:
    return publish_source(
        SourceInfo(
            name="sentiment-analyzer",
            description="DistilBERT-based sentiment classifier",
            logoUrl="https://example.com/logo.png",
            imageEnvs=ImageEnvironments(
                cpu="https://raw.githubusercontent.com/you/repo/main/docker-compose.yml",
                nvidia="https://raw.githubusercontent.com/you/repo/main/docker-compose.gpu.yml",
            ),
            minPayment=PAYMENT,
            minAvailableLockup=2 * ETHER,
            maxExpiryDuration=86400,
            deliveryMethod=delivery,
        )
    )


def _provider_joins(net: Net, source: Source) -> None:
    """Pairing, agent authorization, stake and registration, as the provider side does it."""
    master, provider = Master(net.master.address), Provider(net.provider.address)
    master.announce_provider(provider.address, ETHER)
    provider.announce_master(master.address)
    master.set_agent(net.agent.address, True)
    with net.nothing_sent(net.agent), pytest.raises(InsufficientLockupError):
        agent.register_to(source.address, provider.address, Environment.CPU)
    provider.deposit_to_vault(ETHER, signer=net.provider.account)
    provider.stake(ETHER, signer=net.provider.account)
    assert provider.get_lockup() == 2 * ETHER
    agent.register_to(source.address, provider.address, Environment.CPU)
    assert source.get_registrants() == [provider.address]


async def _next_while(
    stream: Any, action: Callable[[], object], timeout: float = 60.0
) -> tuple[Any, object]:
    """Wait for the stream's next event while ``action`` runs in a worker thread."""
    job = asyncio.ensure_future(asyncio.to_thread(action))
    event = asyncio.ensure_future(stream.__anext__())
    try:
        done = await asyncio.wait_for(asyncio.gather(event, job), timeout)
    finally:
        event.cancel()
        await asyncio.gather(event, return_exceptions=True)
        await stream.aclose()
    return done[0], done[1]


async def _collect(stream: Any, count: int, timeout: float = 60.0) -> list[Any]:
    found: list[Any] = []

    async def take() -> None:
        async for item in stream:
            found.append(item)
            if len(found) == count:
                return

    try:
        await asyncio.wait_for(take(), timeout)
    finally:
        await stream.aclose()
    return found


def _roles(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    for role, account in (
        ("CLIENT", net.client),
        ("MASTER", net.master),
        ("PROVIDER", net.provider),
        ("AGENT", net.agent),
    ):
        monkeypatch.setenv(f"{role}_PRIVATE_KEY", account.key_hex)


def test_publishing_guide_manual_confirmation(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    _roles(net, monkeypatch)
    source = _guide_source(net, DeliveryMethod.MANUAL_CONFIRMATION)
    assert source.get_status().name == "ACTIVE"
    assert source.get_client() == net.client.address
    assert source.get_params().minPayment == PAYMENT
    _provider_joins(net, source)

    net.fund(net.client, ETHER)
    start = net.block_number()
    task = publish_task(
        net.task_info(
            source, data={"prompt": "is this review positive or negative?"}, expires_in=3600
        )
    )
    assert task.get_status() == TaskStatus.NEW

    def attempt() -> object:
        return agent.attempt(task.address, net.provider.address)

    event, _ = asyncio.run(
        _next_while(watch_attempted(task.address, from_block=start, poll_interval=0.05), attempt)
    )
    assert isinstance(event, AttemptedEvent)
    assert (event.task, event.provider, event.suggested_payment) == (
        task.address,
        net.provider.address,
        PAYMENT,
    )
    assert task.get_status() == TaskStatus.ATTEMPTED

    payload = {"label": "positive", "confidence": 0.97}

    def respond() -> object:
        return net.respond(task.address, net.provider, publish_to_ipfs(payload))

    submitted, response = asyncio.run(
        _next_while(
            watch_response_submitted(task.address, from_block=start, poll_interval=0.05), respond
        )
    )
    assert submitted.response == response.address  # type: ignore[attr-defined]
    assert task.get_status() == TaskStatus.RESPONDED

    responses = get_task_responses(task.address)
    assert responses == [response]
    assert responses[0].fetch_data() == payload
    assert responses[0].get_params().provider == net.provider.address

    earned = vault.get_total_earnings_of(net.provider.address)
    receipt = confirm_response(responses[0].address)

    assert receipt.from_address == net.client.address
    assert task.get_status() == TaskStatus.FINALIZED
    assert responses[0].get_status() == ResponseStatus.CONFIRMED
    assert task.get_winning_provider() == net.provider.address
    assert vault.get_total_earnings_of(net.provider.address) == earned + PAYMENT
    assert vault.get_frozen_payment(net.client.address) == 0
    statuses = asyncio.run(
        _collect(watch_task_status_changed(task.address, from_block=start, poll_interval=0.05), 3)
    )
    assert [e.status for e in statuses] == [
        TaskStatus.ATTEMPTED,
        TaskStatus.RESPONDED,
        TaskStatus.FINALIZED,
    ]


def test_publishing_guide_first_response(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    _roles(net, monkeypatch)
    source = _guide_source(net, DeliveryMethod.FIRST_RESPONSE)
    _provider_joins(net, source)
    net.fund(net.client, ETHER)
    task = publish_task(net.task_info(source, data={"text": "hello"}))
    assert task.get_delivery_method() == DeliveryMethod.FIRST_RESPONSE

    agent.attempt(task.address, net.provider.address)
    response = net.respond(task.address, net.provider, publish_to_ipfs({"label": "positive"}))

    assert task.get_status() == TaskStatus.FINALIZED
    assert get_task_responses(task.address)[0].is_confirmed()
    with net.nothing_sent(), pytest.raises(ResponseAlreadyConfirmedError):
        confirm_response(response.address)
