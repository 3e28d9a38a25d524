"""Agent-driven flow: a master authorizes a scheduling agent, the agent registers the
master's provider to a source and signs the attempts; the provider runs the task.

Run against a devnet (``ogpu devnet`` in another terminal)::

    python examples/agent_flow.py

Environment: ``OGPU_RPC_URL``, ``OGPU_IPFS_API_URL``, ``CLIENT_PRIVATE_KEY``,
``MASTER_PRIVATE_KEY``, ``PROVIDER_PRIVATE_KEY``, ``AGENT_PRIVATE_KEY``
(default: the devnet's test keys).
"""

from __future__ import annotations

import os
import time

from _provider_side import provider_side
from eth_account import Account

from ogpu import agent
from ogpu.client import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    SourceInfo,
    TaskInfo,
    TaskInput,
    publish_source,
    publish_task,
    set_agent,
)
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS, connect_devnet
from ogpu.protocol import Provider, terminal, vault

CLIENT = Account.from_key(os.environ.get("CLIENT_PRIVATE_KEY") or CLIENTS[0].key_hex)
MASTER = Account.from_key(os.environ.get("MASTER_PRIVATE_KEY") or MASTERS[1].key_hex)
PROVIDER = Account.from_key(os.environ.get("PROVIDER_PRIVATE_KEY") or PROVIDERS[1].key_hex)
AGENT = Account.from_key(os.environ.get("AGENT_PRIVATE_KEY") or AGENTS[0].key_hex)
OGPU = 10**18


def main() -> None:
    connect_devnet()
    if Provider(PROVIDER.address).get_master() != MASTER.address:
        terminal.announce_provider(PROVIDER.address, OGPU, signer=MASTER)
        terminal.announce_master(MASTER.address, signer=PROVIDER)
    print(f"provider {PROVIDER.address} is paired with master {MASTER.address}")
    set_agent(AGENT.address, True, signer=MASTER)
    authorized = terminal.is_agent_of(MASTER.address, AGENT.address)
    print(f"master authorized agent {AGENT.address}: {authorized}")

    vault.deposit(CLIENT.address, OGPU // 10, signer=CLIENT)
    source = publish_source(
        SourceInfo(
            name="sentiment-analyzer",
            description="scheduled by an agent",
            logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://example.com/docker-compose.yml"),
            minPayment=OGPU // 1000,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
        ),
        signer=CLIENT,
    )
    receipt = agent.register_to(source.address, PROVIDER.address, Environment.CPU, signer=AGENT)
    print(f"agent registered the provider to {source.address} (tx {receipt.tx_hash})")

    with provider_side(PROVIDER, [source.address], scheduler=AGENT) as runtime:
        task = publish_task(
            TaskInfo(
                source=source.address,
                config=TaskInput(function_name="predict", data={"text": "not bad at all"}),
                expiryTime=int(time.time()) + 600,
                payment=OGPU // 100,
            ),
            signer=CLIENT,
        )
        print(f"client published task {task.address}")
        deadline = time.monotonic() + 60
        while task.get_status().name != "FINALIZED":
            if time.monotonic() > deadline:
                raise TimeoutError(f"task still {task.get_status().name}")
            time.sleep(0.2)
        print(f"runtime stats: {runtime.stats()}")

    response = task.get_confirmed_response()
    assert response is not None
    result = response.fetch_data()
    print(f"winner {task.get_winning_provider()}, result {result}")
    print(f"provider earnings: {vault.get_total_earnings_of(PROVIDER.address)} wei")
    print(f"RESULT {result['label']}")


if __name__ == "__main__":
    main()
