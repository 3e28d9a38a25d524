"""Cancellation: a client cancels a task nobody attempted (escrow refunded); once a provider
has attempted a task, cancelling is refused with a typed error.

Run against a devnet (``ogpu devnet`` in another terminal)::

    python examples/cancellation.py

Environment: ``OGPU_RPC_URL``, ``OGPU_IPFS_API_URL``, ``CLIENT_PRIVATE_KEY``,
``PROVIDER_PRIVATE_KEY``, ``MASTER_PRIVATE_KEY`` (default: the devnet's test keys).
"""

from __future__ import annotations

import os
import time

from eth_account import Account

from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    Task,
    TaskInfo,
    TaskInput,
    cancel_task,
    publish_source,
    publish_task,
)
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS, connect_devnet
from ogpu.protocol import Provider, vault
from ogpu.provider import prepare_provider
from ogpu.types import TaskNotCancelableError

CLIENT = Account.from_key(os.environ.get("CLIENT_PRIVATE_KEY") or CLIENTS[0].key_hex)
PROVIDER = Account.from_key(os.environ.get("PROVIDER_PRIVATE_KEY") or PROVIDERS[0].key_hex)
MASTER = Account.from_key(os.environ.get("MASTER_PRIVATE_KEY") or MASTERS[0].key_hex)
OGPU = 10**18
PAYMENT = OGPU // 100


def new_task(source: str, text: str) -> Task:
    return publish_task(
        TaskInfo(
            source=source,
            config=TaskInput(function_name="predict", data={"text": text}),
            expiryTime=int(time.time()) + 600,
            payment=PAYMENT,
        ),
        signer=CLIENT,
    )


def main() -> None:
    connect_devnet()
    vault.deposit(CLIENT.address, OGPU // 10, signer=CLIENT)
    source = publish_source(
        SourceInfo(
            name="cancellation-demo",
            description="a source whose tasks get cancelled",
            logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://example.com/docker-compose.yml"),
            minPayment=OGPU // 1000,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.MANUAL_CONFIRMATION,
        ),
        signer=CLIENT,
    )
    print(f"published source {source.address}")

    frozen_before = vault.get_frozen_payment(CLIENT.address)
    task = new_task(source.address, "cancel me")
    escrowed = vault.get_frozen_payment(CLIENT.address) - frozen_before
    print(f"task {task.address} is {task.get_status().name}; escrowed {escrowed} wei")
    receipt = cancel_task(task.address, signer=CLIENT)
    refunded = escrowed - (vault.get_frozen_payment(CLIENT.address) - frozen_before)
    print(f"cancelled in tx {receipt.tx_hash}: {task.get_status().name}, refunded {refunded} wei")
    assert task.get_status().name == "CANCELED" and refunded == PAYMENT

    prepare_provider(PROVIDER, [source.address], master=MASTER)
    attempted = new_task(source.address, "too late to cancel")
    Provider(PROVIDER.address).attempt(attempted.address, PAYMENT, signer=PROVIDER)
    print(f"task {attempted.address} is {attempted.get_status().name}")
    try:
        cancel_task(attempted.address, signer=CLIENT)
    except TaskNotCancelableError as exc:
        print(f"cancel refused: {type(exc).__name__}: {exc}")
    else:
        raise AssertionError("an attempted task must not be cancellable")
    print(f"RESULT cancelled={task.get_status().name} attempted={attempted.get_status().name}")


if __name__ == "__main__":
    main()
