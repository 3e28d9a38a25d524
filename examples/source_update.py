"""Source update: change a source's parameters, then inactivate it for good.

``update_source`` goes through Nexus (``SourceUpdated`` fires) and takes every
field again, changed or not. After ``inactivate_source`` new tasks are refused
with ``SourceInactiveError`` before anything is sent.

Run against a devnet (``ogpu devnet`` in another terminal)::

    python examples/source_update.py

Environment: ``OGPU_RPC_URL``, ``OGPU_IPFS_API_URL``, ``CLIENT_PRIVATE_KEY``
(default: the devnet's test key).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from eth_account import Account

from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    TaskInfo,
    TaskInput,
    inactivate_source,
    publish_source,
    publish_task,
    update_source,
)
from ogpu.devnet import CLIENTS, connect_devnet
from ogpu.protocol import vault
from ogpu.types import PaymentTooLowError, SourceInactiveError

CLIENT = Account.from_key(os.environ.get("CLIENT_PRIVATE_KEY") or CLIENTS[0].key_hex)
OGPU = 10**18


def task_paying(source: str, payment: int) -> TaskInfo:
    return TaskInfo(
        source=source,
        config=TaskInput(function_name="predict", data={"text": "hello"}),
        expiryTime=int(time.time()) + 600,
        payment=payment,
    )


def main() -> None:
    connect_devnet()
    vault.deposit(CLIENT.address, OGPU // 10, signer=CLIENT)
    info = SourceInfo(
        name="sentiment-analyzer",
        description="v1",
        logoUrl="https://example.com/logo.png",
        imageEnvs=ImageEnvironments(cpu="https://example.com/docker-compose.yml"),
        minPayment=OGPU // 1000,
        minAvailableLockup=0,
        maxExpiryDuration=3600,
        deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
    )
    source = publish_source(info, signer=CLIENT)
    print(f"published source {source.address}: minPayment {source.get_params().minPayment} wei")

    update_source(
        source.address,
        replace(
            info,
            description="v2: now on GPUs too",
            imageEnvs=ImageEnvironments(
                cpu="https://example.com/docker-compose.yml",
                nvidia="https://example.com/docker-compose.gpu.yml",
            ),
            minPayment=OGPU // 20,
        ),
        signer=CLIENT,
    )
    params = source.get_params()
    metadata = source.get_metadata()
    print(
        f"updated: minPayment {params.minPayment} wei, environments "
        f"{params.imageEnvironments!r}, description {metadata['description']!r}"
    )
    assert params.minPayment == OGPU // 20 and metadata["nvidia"]

    try:
        publish_task(task_paying(source.address, OGPU // 100), signer=CLIENT)
    except PaymentTooLowError as exc:
        print(f"old price refused: {exc}")

    inactivate_source(source.address, signer=CLIENT)
    print(f"inactivated: {source.get_status().name}")
    try:
        publish_task(task_paying(source.address, OGPU // 20), signer=CLIENT)
    except SourceInactiveError as exc:
        print(f"new task refused: {type(exc).__name__}")
    else:
        raise AssertionError("an inactive source must refuse tasks")
    print(f"RESULT {source.get_status().name} minPayment={params.minPayment}")


if __name__ == "__main__":
    main()
