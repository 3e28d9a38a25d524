"""ogpu.types: re-exports of the generated types and the hand-written data types."""

from __future__ import annotations

import dataclasses
from typing import Any

import ogpu_bindings.enums
import ogpu_bindings.errors
import ogpu_bindings.structs
import pytest
from pydantic import BaseModel

import ogpu.errors
import ogpu.types as types
from ogpu.protocol._signer import resolve_signer
from ogpu.types import (
    ConfigError,
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    InvalidInputError,
    InvalidRpcUrlError,
    RawLog,
    Receipt,
    Role,
    SourceInfo,
    SourceMetadata,
    SourceSnapshot,
    SourceStatus,
    TaskInfo,
    TaskInput,
    combine_environments,
    environment_names,
    parse_environments,
)


def test_generated_types_are_reexported_not_redefined() -> None:
    for name in ("TaskStatus", "SourceStatus", "ResponseStatus", "DeliveryMethod", "Environment"):
        assert getattr(types, name) is getattr(ogpu_bindings.enums, name)
    assert types.ResponseParams is ogpu_bindings.structs.ResponseParams
    for name in ("SourceParams", "TaskParams"):  # pydantic models, as in 0.2.3
        model = getattr(types, name)
        assert issubclass(model, BaseModel) and model is not getattr(ogpu_bindings.structs, name)
    for module in (ogpu_bindings.errors, ogpu.errors):
        for name in (n for n in dir(module) if not n.startswith("_")):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, ogpu.errors.OGPUError):
                assert getattr(types, name) is value, name
    assert issubclass(InvalidRpcUrlError, ConfigError)
    assert InvalidRpcUrlError(message="x", url="http://u").url == "http://u"


def test_roles_and_environment_helpers() -> None:
    assert [r.env_var for r in Role] == [
        "CLIENT_PRIVATE_KEY",
        "PROVIDER_PRIVATE_KEY",
        "MASTER_PRIVATE_KEY",
        "AGENT_PRIVATE_KEY",
    ]
    mask = combine_environments(Environment.CPU, Environment.AMD)
    assert mask == 5
    assert parse_environments(mask) == [Environment.CPU, Environment.AMD]
    assert environment_names(7) == ["CPU", "NVIDIA", "AMD"]
    assert ImageEnvironments(nvidia="n").mask is Environment.NVIDIA
    assert ImageEnvironments().mask == 0


def test_source_metadata_round_trip_keeps_extra_keys() -> None:
    data = {
        "cpu": "c",
        "nvidia": "",
        "amd": "",
        "name": "n",
        "description": "d",
        "logoUrl": "l",
        "tags": ["x"],
    }
    meta = SourceMetadata.from_dict(data)
    assert meta.extra == {"tags": ["x"]}
    assert meta.to_dict() == data
    assert SourceMetadata.from_dict({}).name == ""
    with pytest.raises(InvalidInputError):
        SourceMetadata.from_dict({"name": 3})


def test_task_input_serializes_dicts_models_and_extras() -> None:
    class Req(BaseModel):
        text: str
        top_k: int = 1

    plain = TaskInput(function_name="predict", data={"text": "hi"}, priority="high")
    assert plain.to_dict() == {
        "function_name": "predict",
        "data": {"text": "hi"},
        "priority": "high",
    }
    assert plain.extra == {"priority": "high"}
    model = TaskInput(function_name="predict", data=Req(text="hello", top_k=5))
    assert model.to_dict() == {"function_name": "predict", "data": {"text": "hello", "top_k": 5}}
    assert model == TaskInput("predict", {"text": "hello", "top_k": 5})
    assert "predict" in repr(plain)
    for bad in (
        lambda: TaskInput(function_name="", data={}),
        lambda: TaskInput(function_name="f", data=[1]),  # type: ignore[arg-type]
        lambda: TaskInput("f", {}, data=1),
    ):
        with pytest.raises((InvalidInputError, TypeError)):
            bad()


def _info(**overrides: Any) -> SourceInfo:
    fields: dict[str, Any] = {
        "name": "n",
        "description": "d",
        "logoUrl": "l",
        "imageEnvs": ImageEnvironments(cpu="c", amd="a"),
        "minPayment": 1,
        "minAvailableLockup": 2,
        "maxExpiryDuration": 3,
    }
    fields.update(overrides)
    return SourceInfo(**fields)


def test_source_info_builds_params_without_io_when_given_the_url() -> None:
    info = _info(deliveryMethod=DeliveryMethod.FIRST_RESPONSE)
    client = "0x" + "ab" * 20
    params = info.to_source_params(client, image_metadata_url="https://example.invalid/m.json")
    assert params.client == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert params.imageEnvironments == Environment.CPU | Environment.AMD
    assert (params.minPayment, params.minAvailableLockup, params.maxExpiryDuration) == (1, 2, 3)
    assert params.deliveryMethod is DeliveryMethod.FIRST_RESPONSE
    assert params.lastUpdateTime > 0
    assert info.to_metadata().to_dict()["amd"] == "a"
    for bad in (
        {"minPayment": -1},
        {"maxExpiryDuration": 1.5},
        {"imageEnvs": ImageEnvironments()},
        {"deliveryMethod": 9},
        {"name": None},
    ):
        with pytest.raises(InvalidInputError):
            _info(**bad)
    with pytest.raises(InvalidInputError):
        info.to_source_params("0x12", image_metadata_url="u")


def test_source_info_and_task_info_upload_to_the_content_store(ipfs: Any) -> None:
    from ogpu.ipfs import fetch_ipfs_json

    params = _info().to_source_params("0x" + "ab" * 20)
    assert fetch_ipfs_json(params.imageMetadataUrl)["cpu"] == "c"
    task = TaskInfo(
        source="0x" + "cd" * 20,
        config=TaskInput("f", {"a": 1}),
        expiryTime=10,
        payment=5,
    )
    task_params = task.to_task_params()
    assert fetch_ipfs_json(task_params.config) == {"function_name": "f", "data": {"a": 1}}
    assert (task_params.expiryTime, task_params.payment) == (10, 5)
    assert task.to_task_params(config_url="u").config == "u"
    with pytest.raises(InvalidInputError):
        TaskInfo(source="nope", config=TaskInput("f", {}), expiryTime=1, payment=1)
    with pytest.raises(InvalidInputError):
        TaskInfo(source="0x" + "cd" * 20, config=TaskInput("f", {}), expiryTime=1, payment=-1)


def test_receipt_and_snapshots_are_frozen() -> None:
    log = RawLog(
        address="0x" + "11" * 20,
        topics=(),
        data=b"",
        log_index=0,
        block_number=1,
        transaction_hash="0x" + "22" * 32,
    )
    receipt = Receipt(
        tx_hash="0x" + "22" * 32, block_number=1, gas_used=21000, status=1, logs=(log,)
    )
    assert receipt.events(RawLog) == [log] and receipt.event(RawLog) is log
    assert receipt.event(SourceSnapshot) is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.status = 0  # type: ignore[misc]
    assert dataclasses.fields(SourceSnapshot)[-1].name == "block_number"
    assert SourceStatus.INACTIVE == 1


def test_seed_signer_example_runs_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    from eth_account import Account

    acc = resolve_signer("0x" + "11" * 32, role=Role.CLIENT)
    local = Account.from_key("0x" + "11" * 32)
    assert resolve_signer(local, role=Role.CLIENT) is local
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", "0x" + "11" * 32)
    assert resolve_signer(None, role=Role.CLIENT).address == acc.address
    from ogpu.types import MissingSignerError

    with pytest.raises(MissingSignerError):
        resolve_signer(None, role=None)
