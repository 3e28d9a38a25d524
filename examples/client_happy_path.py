"""Client happy path: fund the vault, publish a source and a task, confirm the response.

The source uses MANUAL_CONFIRMATION, so the client reviews the provider's
response before paying. The provider's side runs in this process
(``_provider_side.py``).

Run against a devnet (``ogpu devnet`` in another terminal)::

    python examples/client_happy_path.py

Environment: ``OGPU_RPC_URL`` (default ``http://127.0.0.1:8545``),
``OGPU_IPFS_API_URL`` (the devnet content store when not on port 5001), and
``CLIENT_PRIVATE_KEY`` / ``PROVIDER_PRIVATE_KEY`` / ``MASTER_PRIVATE_KEY``
(default: the devnet's public test keys).
"""

from __future__ import annotations

import asyncio
import os
import time

from _provider_side import provider_side
from eth_account import Account

from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    TaskInfo,
    TaskInput,
    confirm_response,
    publish_source,
    publish_task,
)
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS, connect_devnet
from ogpu.events import watch_response_submitted
from ogpu.protocol import Response, vault
from ogpu.provider import prepare_provider

CLIENT = Account.from_key(os.environ.get("CLIENT_PRIVATE_KEY") or CLIENTS[0].key_hex)
PROVIDER = Account.from_key(os.environ.get("PROVIDER_PRIVATE_KEY") or PROVIDERS[0].key_hex)
MASTER = Account.from_key(os.environ.get("MASTER_PRIVATE_KEY") or MASTERS[0].key_hex)
OGPU = 10**18


async def first_response(task: str, from_block: int) -> Response:
    async for event in watch_response_submitted(task, from_block=from_block, poll_interval=0.2):
        return Response(event.response)
    raise RuntimeError("the watcher ended")


def main() -> None:
    devnet = connect_devnet()
    print(f"devnet at {devnet.rpc_url}, Nexus {devnet.nexus}")

    vault.deposit(CLIENT.address, OGPU // 10, signer=CLIENT)
    print(f"client {CLIENT.address} vault balance: {vault.get_balance_of(CLIENT.address)} wei")

    source = publish_source(
        SourceInfo(
            name="sentiment-analyzer",
            description="Lexicon-based sentiment analysis",
            logoUrl="https://example.com/logo.png",
            imageEnvs=ImageEnvironments(cpu="https://example.com/docker-compose.yml"),
            minPayment=OGPU // 1000,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.MANUAL_CONFIRMATION,
        ),
        signer=CLIENT,
    )
    print(f"published source {source.address} ({source.get_status().name})")

    prepare_provider(PROVIDER, [source.address], master=MASTER)
    with provider_side(PROVIDER, [source.address]):
        task = publish_task(
            TaskInfo(
                source=source.address,
                config=TaskInput(function_name="predict", data={"text": "I love this, great!"}),
                expiryTime=int(time.time()) + 600,
                payment=OGPU // 100,
            ),
            signer=CLIENT,
        )
        print(f"published task {task.address} paying {task.get_payment()} wei")
        published_at = task.snapshot().block_number
        response = asyncio.run(
            asyncio.wait_for(first_response(task.address, published_at), timeout=60)
        )

    result = response.fetch_data()
    print(f"response {response.address} from {response.get_params().provider}: {result}")
    assert task.get_status().name == "RESPONDED"
    receipt = confirm_response(response.address, signer=CLIENT)
    print(f"confirmed in block {receipt.block_number}: task {task.get_status().name}")
    earned = vault.get_total_earnings_of(response.get_params().provider)
    print(f"provider earnings: {earned} wei")
    print(f"RESULT {result['label']}")


if __name__ == "__main__":
    main()
