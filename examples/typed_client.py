"""Typed task client: a source published with its manifest, tasks checked before paying.

1. The sample source's manifest is read from ``sentiment_source.py`` without
   serving it (``ogpu service manifest examples/sentiment_source.py``).
2. The source is published with it (``manifest=``): its metadata JSON carries it.
3. A misspelt function and wrongly shaped data are refused before anything is
   pinned or paid (the vault balance does not move).
4. The source's typed client is generated (``ogpu source client 0xSOURCE -o
   sentiment_client.py``) and used: ``publish_predict(PredictInput(...))``,
   then ``result_predict(task)`` returns a ``PredictOutput``.

Run against a devnet (``ogpu devnet`` in another terminal)::

    python examples/typed_client.py

Needs the ``service`` and ``codegen`` extras. Environment as in
``client_happy_path.py``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from _provider_side import SERVICE_FILE, provider_side
from eth_account import Account

from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    TaskInfo,
    TaskInput,
    publish_source,
    publish_task,
)
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS, connect_devnet
from ogpu.manifest import TaskDataError, UnknownFunctionError
from ogpu.protocol import vault
from ogpu.provider import prepare_provider
from ogpu.service.manifest import extract_manifest
from ogpu.taskclient import generate_client

CLIENT = Account.from_key(os.environ.get("CLIENT_PRIVATE_KEY") or CLIENTS[0].key_hex)
PROVIDER = Account.from_key(os.environ.get("PROVIDER_PRIVATE_KEY") or PROVIDERS[0].key_hex)
MASTER = Account.from_key(os.environ.get("MASTER_PRIVATE_KEY") or MASTERS[0].key_hex)
OGPU = 10**18


def import_client(path: Path) -> ModuleType:
    """Import the generated module (a project would simply ``import sentiment_client``)."""
    spec = importlib.util.spec_from_file_location("sentiment_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sentiment_client"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    connect_devnet()
    vault.deposit(CLIENT.address, OGPU // 10, signer=CLIENT)

    manifest = extract_manifest(SERVICE_FILE)
    print(f"manifest {manifest.hash[:19]}… functions: {', '.join(sorted(manifest.functions))}")
    source = publish_source(
        SourceInfo(
            name="sentiment-analyzer",
            description="Lexicon-based sentiment analysis, with a manifest",
            logoUrl="https://example.com/logo.png",
            imageEnvs=ImageEnvironments(cpu="https://example.com/docker-compose.yml"),
            minPayment=OGPU // 1000,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
        ),
        signer=CLIENT,
        manifest=manifest,
    )
    published = source.get_manifest()
    print(f"published source {source.address} with manifest {published and published.hash[:19]}…")

    balance = vault.get_balance_of(CLIENT.address)
    expiry = int(time.time()) + 600
    for function, data in (("predcit", {"text": "hi"}), ("predict_batch", {"texts": ["ok", 3]})):
        try:
            publish_task(
                TaskInfo(source.address, TaskInput(function, data), expiry, OGPU // 100),
                signer=CLIENT,
            )
        except (UnknownFunctionError, TaskDataError) as exc:
            print(f"refused: {type(exc).__name__}: {exc}")
    print(f"nothing paid: {vault.get_balance_of(CLIENT.address) == balance}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sentiment_client.py"
        path.write_text(generate_client(manifest, source=source.address))
        client = import_client(path)
        print(f"generated {path.name}: {manifest.hash == client.MANIFEST_HASH}")

        prepare_provider(PROVIDER, [source.address], master=MASTER)
        with provider_side(PROVIDER, [source.address]):
            task = client.publish_predict(
                client.PredictInput(text="I love this, it is great"),
                payment=OGPU // 100,
                expiry=expiry,
                signer=CLIENT,
            )
            print(f"published task {task.address} with publish_predict")
            output = client.result_predict(task, timeout=60)
    print(f"result_predict: {type(output).__name__}(label={output.label!r}, score={output.score})")
    print(f"RESULT {output.label}")


if __name__ == "__main__":
    main()
