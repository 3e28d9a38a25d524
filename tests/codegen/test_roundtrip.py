"""Property tests: structs, events and function outputs through eth-abi, and calldata equal to
web3's Contract.encode_abi for the same arguments."""

from __future__ import annotations

import functools
import importlib
import json
from types import ModuleType
from typing import Any

import ogpu_bindings.enums as real_enums
import ogpu_bindings.structs as real_structs
import pytest
from eth_abi import decode, encode
from hexbytes import HexBytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.abitypes import AbiType
from codegen.model import Contract, Event, Function, Model, Struct

from .conftest import ABIS, import_sub, load_model
from .strategies import addresses, to_abi, value_strategy

SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
REAL = load_model(ABIS)


def _items(model: Model) -> tuple[list[Any], list[Any], list[Any]]:
    fns, events = [], []
    for c in model.contracts:
        fns += [(s, c, f) for f in c.functions for s in f.present_on]
        events += [(s, c, e) for e in c.events for s in e.present_on]
    return list(model.structs), fns, events


REAL_STRUCTS, REAL_FUNCTIONS, REAL_EVENTS = _items(REAL)


def _id(item: Any) -> str:
    if isinstance(item, tuple):
        network, contract, member = item
        return f"{network}-{contract.name}-{member.name}"
    return str(getattr(item, "name", item))


def _module(bindings: ModuleType | None, contract: Contract) -> ModuleType:
    if bindings is None:
        return importlib.import_module(f"ogpu_bindings.{contract.module}")
    return import_sub(bindings, contract.module)


# -- structs --------------------------------------------------------------------------------------


def _check_struct(struct: Struct, enums: ModuleType, structs: ModuleType, data: Any) -> None:
    cls = getattr(structs, struct.name)
    value = data.draw(value_strategy(struct.type, enums, structs))
    abi_value = value.to_abi()
    assert abi_value == to_abi(struct.type, value)
    assert struct.type.canonical == cls.ABI_TYPE
    encoded = encode([cls.ABI_TYPE], [abi_value])
    (decoded,) = decode([cls.ABI_TYPE], encoded)
    assert cls.from_abi(decoded) == value


@pytest.mark.slow
@pytest.mark.parametrize("struct", REAL_STRUCTS, ids=_id)
@SETTINGS
@given(data=st.data())
def test_real_struct_roundtrip(struct: Struct, data: Any) -> None:
    _check_struct(struct, real_enums, real_structs, data)


def test_fixture_structs_roundtrip(fixture_model: Model, fixture_bindings: ModuleType) -> None:
    enums, structs = import_sub(fixture_bindings, "enums"), import_sub(fixture_bindings, "structs")
    assert {s.name for s in fixture_model.structs} == {"Inner", "Item"}

    @SETTINGS
    @given(data=st.data())
    def run(data: Any) -> None:
        for struct in fixture_model.structs:
            _check_struct(struct, enums, structs, data)

    run()


# -- events ---------------------------------------------------------------------------------------


def _check_event(
    network: str, contract: Contract, event: Event, bindings: ModuleType | None, data: Any
) -> None:
    pkg = importlib.import_module("ogpu_bindings") if bindings is None else bindings
    enums = real_enums if bindings is None else import_sub(bindings, "enums")
    structs = real_structs if bindings is None else import_sub(bindings, "structs")
    module = _module(bindings, contract)
    values = [data.draw(value_strategy(p.type, enums, structs)) for p in event.inputs]
    topics: list[bytes] = [] if event.anonymous else [bytes.fromhex(event.topic[2:])]
    expected: dict[str, Any] = {}
    for p, v in zip(event.inputs, values, strict=True):
        if p.indexed and p.type.is_dynamic:
            topic = data.draw(st.binary(min_size=32, max_size=32))
            topics.append(topic)
            expected[p.py_name] = topic
        elif p.indexed:
            topics.append(encode([p.type.canonical], [to_abi(p.type, v)]))
            expected[p.py_name] = v
        else:
            expected[p.py_name] = v
    plain = [p for p in event.inputs if not p.indexed]
    body = encode(
        [p.type.canonical for p in plain],
        [to_abi(p.type, v) for p, v in zip(event.inputs, values, strict=True) if not p.indexed],
    )
    emitter = data.draw(addresses)
    tx_hash = data.draw(st.binary(min_size=32, max_size=32))
    block, index = data.draw(st.integers(0, 2**40)), data.draw(st.integers(0, 5000))
    if data.draw(st.booleans(), label="hex strings"):
        log: dict[str, Any] = {
            "address": emitter.lower(),
            "topics": ["0x" + t.hex() for t in topics],
            "data": "0x" + body.hex(),
            "blockNumber": hex(block),
            "transactionHash": "0x" + tx_hash.hex(),
            "logIndex": hex(index),
        }
    else:
        log = {
            "address": emitter,
            "topics": [HexBytes(t) for t in topics],
            "data": HexBytes(body),
            "blockNumber": block,
            "transactionHash": HexBytes(tx_hash),
            "logIndex": index,
        }
    decoder = getattr(module, event.decoder_name)
    ev = decoder(log)
    assert type(ev).__name__ == event.class_name
    for name, value in expected.items():
        assert getattr(ev, name) == value, name
    assert (ev.address, ev.block_number, ev.log_index) == (emitter, block, index)
    assert ev.transaction_hash == "0x" + tx_hash.hex()
    if not event.anonymous:
        assert pkg.decode_log(log) == ev


@pytest.mark.parametrize("item", REAL_EVENTS, ids=_id)
@SETTINGS
@given(data=st.data())
def test_real_event_roundtrip(item: tuple[str, Contract, Event], data: Any) -> None:
    _check_event(*item, None, data)


def test_fixture_events_roundtrip(fixture_model: Model, fixture_bindings: ModuleType) -> None:
    _, _, events = _items(fixture_model)
    assert any(e.anonymous for _, _, e in events)
    assert any(p.indexed and p.type.is_dynamic for _, _, e in events for p in e.inputs)

    @SETTINGS
    @given(data=st.data())
    def run(data: Any) -> None:
        for network, contract, event in events:
            _check_event(network, contract, event, fixture_bindings, data)

    run()


# -- functions ------------------------------------------------------------------------------------


@functools.cache
def _web3_contract(abi_path: str) -> Any:
    from web3 import Web3

    return Web3().eth.contract(abi=json.loads((ABIS / abi_path).read_text()))


def _check_function(
    network: str,
    contract: Contract,
    fn: Function,
    bindings: ModuleType | None,
    web3_abi: list[dict[str, Any]] | None,
    data: Any,
) -> None:
    enums = real_enums if bindings is None else import_sub(bindings, "enums")
    structs = real_structs if bindings is None else import_sub(bindings, "structs")
    module = _module(bindings, contract)
    target = data.draw(addresses)
    args = [data.draw(value_strategy(p.type, enums, structs)) for p in fn.inputs]
    abi_args = [to_abi(p.type, v) for p, v in zip(fn.inputs, args, strict=True)]
    where = {"network": network} if fn.partial else {}
    if fn.is_read:
        call = getattr(module, fn.call_name)(target, *args, **where)
        calldata, to = call.data, call.to
        assert call.signature == fn.signature
    else:
        kwargs = {"value": data.draw(st.integers(0, 10**30))} if fn.payable else {}
        req = getattr(module, fn.py_name)(target, *args, **kwargs, **where)
        calldata, to = req.data, req.to
        assert (req.contract, req.function) == (contract.name, fn.name)
        assert req.args == tuple(args) and req.value == kwargs.get("value", 0)
    assert to == target
    if web3_abi is None:
        w3c = _web3_contract(f"{network}/{contract.name}Abi.json")
    else:
        from web3 import Web3

        w3c = Web3().eth.contract(abi=web3_abi)
    assert calldata.hex() == w3c.encode_abi(fn.name, args=abi_args)[2:]
    assert calldata[:4].hex() == fn.selector[2:]
    assert encode([p.type.canonical for p in fn.inputs], abi_args) == calldata[4:]
    if fn.is_read and fn.outputs:
        outs = [data.draw(value_strategy(p.type, enums, structs)) for p in fn.outputs]
        answer = encode(
            [p.type.canonical for p in fn.outputs],
            [to_abi(p.type, v) for p, v in zip(fn.outputs, outs, strict=True)],
        )
        result = call.decode(answer)
        if fn.result is None:
            assert result == outs[0]
        else:
            assert [getattr(result, f.py_name) for f in fn.result.fields] == outs


@pytest.mark.parametrize("item", REAL_FUNCTIONS, ids=_id)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_real_function_encoding_matches_web3(
    item: tuple[str, Contract, Function], data: Any
) -> None:
    _check_function(*item, None, None, data)


@pytest.mark.slow
def test_fixture_function_encoding_matches_web3(
    fixture_model: Model, fixture_bindings: ModuleType
) -> None:
    from .conftest import FIXTURE_ABIS

    _, functions, _ = _items(fixture_model)
    kinds = {t.kind for _, _, f in functions for p in f.inputs + f.outputs for t in p.type.walk()}
    assert kinds == {
        "uint",
        "int",
        "address",
        "bool",
        "string",
        "bytes",
        "fixed_bytes",
        "array",
        "tuple",
    }
    assert any(f.payable for _, _, f in functions)
    abis = {
        (n, c): json.loads((FIXTURE_ABIS / n / f"{c}Abi.json").read_text())
        for n, c in {(n, c.name) for n, c, _ in functions}
    }

    @SETTINGS
    @given(data=st.data())
    def run(data: Any) -> None:
        for network, contract, fn in functions:
            _check_function(
                network, contract, fn, fixture_bindings, abis[(network, contract.name)], data
            )

    run()


def test_struct_fields_use_solidity_names_and_enums() -> None:
    params = real_structs.SourceParams(
        client="0x" + "ab" * 20,
        imageMetadataUrl="ipfs://x",
        imageEnvironments=real_enums.Environment.CPU | real_enums.Environment.NVIDIA,
        minPayment=1,
        minAvailableLockup=2,
        maxExpiryDuration=3,
        privacyEnabled=False,
        optionalParamsUrl="",
        deliveryMethod=real_enums.DeliveryMethod.FIRST_RESPONSE,
        lastUpdateTime=4,
    )
    assert params.to_abi()[2] == 3 and params.to_abi()[8] == 1
    assert params.to_abi()[0] == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert isinstance(
        real_structs.SourceParams.from_abi(params.to_abi()).imageEnvironments,
        real_enums.Environment,
    )
    assert AbiType("uint", 8, enum="Environment").annotation() == "Environment"
