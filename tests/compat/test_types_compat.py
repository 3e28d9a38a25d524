"""ogpu.types as 0.2.3 defines it: pydantic params, snapshot construction, receipts, helpers."""

from __future__ import annotations

import pickle
import time
from typing import Any

import pytest
from ogpu_bindings import structs
from pydantic import BaseModel, ValidationError

import ogpu.types
import ogpu.types.metadata as metadata
from ogpu.client import combine_environments, environment_names, parse_environments
from ogpu.types import (
    DeliveryMethod,
    Environment,
    InvalidEnumValueError,
    InvalidInputError,
    InvalidParamsError,
    InvalidReceiptError,
    MasterSnapshot,
    OGPUError,
    ProviderSnapshot,
    Receipt,
    ResponseParams,
    ResponseSnapshot,
    ResponseStatus,
    SourceSnapshot,
    SourceStatus,
    TaskSnapshot,
    TaskStatus,
    TxHash,
)
from ogpu.types.params import SourceParams, TaskParams, source_struct, task_struct

CLIENT = "0x2b0cC6058313801D5feb184a539e3a0C5A87a6a1"


def _source_params(**changes: Any) -> SourceParams:
    values: dict[str, Any] = {
        "client": CLIENT,
        "imageMetadataUrl": "https://example.com/meta.json",
        "imageEnvironments": 3,
        "minPayment": 10**15,
        "minAvailableLockup": 0,
        "maxExpiryDuration": 3600,
        "privacyEnabled": False,
        "optionalParamsUrl": "",
        "deliveryMethod": 1,
    }
    values.update(changes)
    return SourceParams(**values)


def test_params_are_pydantic_models_with_to_tuple() -> None:
    params = _source_params(lastUpdateTime=7)
    assert isinstance(params, BaseModel)
    assert params.to_tuple() == (
        CLIENT,
        "https://example.com/meta.json",
        3,
        10**15,
        0,
        3600,
        False,
        "",
        1,
        7,
    )
    assert params.imageEnvironments is Environment.CPU | Environment.NVIDIA
    assert params.deliveryMethod is DeliveryMethod.FIRST_RESPONSE
    assert params.model_dump(mode="json")["deliveryMethod"] == 1
    assert SourceParams.model_validate(params.model_dump()) == params
    task = TaskParams(source=CLIENT, config="ipfs://x", expiryTime=5, payment=6)
    assert task.to_tuple() == (CLIENT, "ipfs://x", 5, 6)
    assert task.model_copy(update={"payment": 7}).payment == 7
    for module in (ogpu.types, metadata, ogpu.types.structs):
        assert module.SourceParams is SourceParams and module.TaskParams is TaskParams


def test_last_update_time_defaults_to_construction_time() -> None:
    before = int(time.time())
    first = _source_params()
    assert before <= first.lastUpdateTime <= int(time.time())


def test_params_convert_to_and_from_the_bindings() -> None:
    params = _source_params()
    struct = params.to_struct()
    assert isinstance(struct, structs.SourceParams) and struct.to_abi() == params.to_abi()
    assert SourceParams.from_struct(struct) == params
    assert source_struct(params) == struct and source_struct(struct) is struct
    task = TaskParams(source=CLIENT, config="c", expiryTime=1, payment=2)
    assert (
        task_struct(task) == task.to_struct() and TaskParams.from_struct(task.to_struct()) == task
    )
    with pytest.raises(InvalidParamsError):
        source_struct(task)
    with pytest.raises(InvalidEnumValueError):  # a flag outside the mask fails before sending
        _source_params(imageEnvironments=16).to_abi()


def test_construction_errors_are_typed_and_model_validate_keeps_pydantics() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        _source_params(minPayment="a lot")
    assert isinstance(caught.value, ValueError) and "minPayment" in str(caught.value)
    with pytest.raises(ValidationError):  # the official error type, on request
        SourceParams.model_validate({"client": CLIENT})


def test_snapshots_construct_as_0_2_3_constructs_them() -> None:
    params = _source_params()
    task_params = TaskParams(source=CLIENT, config="c", expiryTime=1, payment=2)
    response_params = ResponseParams(task=CLIENT, provider=CLIENT, data="d", payment=0)
    built = [
        SourceSnapshot(CLIENT, CLIENT, SourceStatus.ACTIVE, params, 1, 2),
        TaskSnapshot(CLIENT, CLIENT, TaskStatus.NEW, task_params, 2, 1, DeliveryMethod(0), 0, None),
        ResponseSnapshot(CLIENT, CLIENT, response_params, "d", ResponseStatus.SUBMITTED, 5, False),
        ProviderSnapshot(CLIENT, CLIENT, "b", "l", True, False, 1, 2, 3, 4, 5, 6, 7, True, True),
        MasterSnapshot(CLIENT, CLIENT, True, 1, 2, 3, 4, 5, True, False),
    ]
    assert all(snapshot.block_number is None for snapshot in built)
    master = built[-1]
    assert (master.total_earnings, master.frozen_payment, master.is_whitelisted) == (4, 5, False)
    assert (master.unbonding_timestamp, master.sanction) == (0, 0)
    for snapshot in built:
        assert getattr(metadata, type(snapshot).__name__) is type(snapshot)
    assert metadata.ResponseStatus is ResponseStatus and metadata.TaskStatus is TaskStatus


def test_receipt_from_a_json_rpc_receipt() -> None:
    raw = {
        "transactionHash": bytes.fromhex("ab" * 32),
        "blockNumber": "0x10",
        "gasUsed": 21000,
        "status": "0x1",
        "logs": [],
        "from": CLIENT,
        "to": None,
        "blockHash": "cd" * 32,
    }
    receipt = Receipt.from_web3_receipt(raw, timestamp=99)
    assert receipt.tx_hash == "0x" + "ab" * 32 and receipt.block_hash == "0x" + "cd" * 32
    assert (receipt.block_number, receipt.gas_used, receipt.status) == (16, 21000, 1)
    assert (receipt.timestamp, receipt.to, receipt.logs) == (99, None, ())
    with pytest.raises(KeyError):  # as 0.2.3 raised; typed since
        Receipt.from_web3_receipt({"blockNumber": 1})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transactionHash", None),
        ("blockNumber", None),
        ("gasUsed", "0xzz"),
        ("status", [1]),
        ("from", "banana"),
        ("to", 5),
        ("logs", [{"topics": []}]),
        ("logs", ["not a log"]),
        ("logs", 7),
    ],
)
def test_a_malformed_receipt_is_a_typed_error(field: str, value: object) -> None:
    raw = {
        "transactionHash": "0x" + "ab" * 32,
        "blockNumber": 16,
        "gasUsed": 21000,
        "status": 1,
        "logs": [],
        "from": CLIENT,
    }
    assert Receipt.from_web3_receipt(raw, timestamp=1).block_number == 16  # well formed
    if value is None:
        del raw[field]
    else:
        raw[field] = value
    with pytest.raises(InvalidReceiptError, match="not a mined receipt") as caught:
        Receipt.from_web3_receipt(raw, timestamp=1)
    assert isinstance(caught.value, OGPUError) and caught.value.param == "receipt"
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)


def test_a_receipt_timestamp_is_seconds() -> None:
    raw = {"transactionHash": "0x" + "ab" * 32, "blockNumber": 1, "gasUsed": 1, "status": 1}
    assert Receipt.from_web3_receipt(raw, timestamp=12.7).timestamp == 12  # time.time() works
    with pytest.raises(InvalidInputError, match="timestamp") as caught:
        Receipt.from_web3_receipt(raw, timestamp="soon")  # type: ignore[arg-type]
    assert caught.value.param == "timestamp"


def test_tx_hash_is_the_string_and_carries_the_receipt() -> None:
    receipt = Receipt(tx_hash="0x" + "12" * 32, block_number=5, gas_used=1, status=1)
    value = TxHash(receipt)
    assert value == "0x" + "12" * 32 and isinstance(value, str)
    assert {value: 1}["0x" + "12" * 32] == 1 and repr(value) == repr("0x" + "12" * 32)
    assert value.receipt is receipt and value.block_number == 5 and value.events(int) == []
    with pytest.raises(AttributeError):
        value.no_such_field  # noqa: B018
    copy = pickle.loads(pickle.dumps(value))
    assert copy == value and copy.receipt == receipt


def test_environment_helpers() -> None:
    assert combine_environments(Environment.CPU, Environment.NVIDIA) == 3
    assert combine_environments(Environment.CPU, Environment.NVIDIA, Environment.AMD) == 7
    assert combine_environments() == 0
    assert parse_environments(5) == [Environment.CPU, Environment.AMD]
    assert parse_environments(0) == []
    assert environment_names(7) == ["CPU", "NVIDIA", "AMD"]
    assert environment_names(2) == ["NVIDIA"]
    assert ogpu.types.combine_environments is combine_environments


def test_last_update_time_official_way_is_explicit() -> None:
    # 0.2.3 defaults to the time its module was imported; pass the value to pin one
    assert _source_params(lastUpdateTime=1_700_000_000).lastUpdateTime == 1_700_000_000


def test_builders_validate_at_construction_and_stay_mutable() -> None:
    from ogpu.types import ImageEnvironments, InvalidInputError, SourceInfo, TaskInfo, TaskInput

    with pytest.raises(InvalidInputError):  # 0.2.3 accepts it and fails later, or never
        TaskInput("", {"text": "hi"})
    with pytest.raises(InvalidInputError):
        TaskInfo(source="0xSOURCE", config=TaskInput("f", {}), expiryTime=1, payment=1)
    info = TaskInfo(source=CLIENT, config=TaskInput("f", {}), expiryTime=1, payment=1)
    info.payment = 5  # the official style of editing a builder still works
    envs = ImageEnvironments(cpu="https://e.com/c.yml")
    envs.amd = "https://e.com/a.yml"
    assert envs.mask == Environment.CPU | Environment.AMD
    source = SourceInfo("n", "d", "https://e.com/l.png", envs, 1, 0, 60)
    source.minPayment = 2
    assert (info.payment, source.minPayment) == (5, 2)


def test_params_also_take_their_fields_positionally() -> None:
    task = TaskParams(CLIENT, "ipfs://c", 5, 6)  # the order of the bindings' dataclass
    assert task == TaskParams(source=CLIENT, config="ipfs://c", expiryTime=5, payment=6)
    with pytest.raises(InvalidParamsError, match="at most 4"):
        TaskParams(CLIENT, "c", 1, 2, 3)
    with pytest.raises(InvalidParamsError, match="twice"):
        TaskParams(CLIENT, source=CLIENT, config="c", expiryTime=1, payment=2)
