"""Every function, event and custom error in abis/*/*.json has its generated counterpart.

The expectations are computed from the ABI JSON itself (no hand-written list) and checked
against the imported ogpu_bindings package.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import ogpu_bindings
import pytest
from eth_utils import keccak

import ogpu.types.errors as errors

from .conftest import ABIS


def _snake(name: str) -> str:
    name = name.strip("_")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _canonical(param: dict[str, Any]) -> str:
    t: str = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param["components"]) + ")" + t[5:]
    return t


def _signature(entry: dict[str, Any]) -> str:
    return entry["name"] + "(" + ",".join(_canonical(p) for p in entry["inputs"]) + ")"


def _entries() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in sorted(ABIS.glob("*/*Abi.json")):
        network, contract = path.parent.name, path.name[: -len("Abi.json")]
        for entry in json.loads(path.read_text()):
            if entry["type"] in ("function", "event", "error"):
                out.append((network, contract, entry))
    return out


ENTRIES = _entries()
ALL_NETWORKS = sorted({p.parent.name for p in Path(ABIS).glob("*/*Abi.json")})


def _each(kind: str) -> pytest.MarkDecorator:
    """Parametrize a test over (network, contract, entry) for every ABI entry of ``kind``."""
    return pytest.mark.parametrize(
        ("network", "contract", "entry"),
        [e for e in ENTRIES if e[2]["type"] == kind],
        ids=lambda v: v if isinstance(v, str) else v.get("name"),
    )


def test_the_abis_are_not_empty() -> None:
    kinds = {e["type"] for _, _, e in ENTRIES}
    assert kinds == {"function", "event", "error"}
    assert len(ENTRIES) > 300


@_each("function")
def test_every_function_is_bound(network: str, contract: str, entry: dict[str, Any]) -> None:
    module = importlib.import_module(f"ogpu_bindings.{_snake(contract)}")
    name = _snake(entry["name"])
    fn = getattr(module, name)
    selector = "0x" + keccak(text=_signature(entry))[:4].hex()
    assert module.FUNCTION_SELECTORS[entry["name"]] == selector
    assert network in module.AVAILABILITY[entry["name"]]
    # a function some ABI set lacks takes `network=` (checked before any RPC)
    partial = len(module.AVAILABILITY[entry["name"]]) < len(ALL_NETWORKS)
    params = [p for p in inspect.signature(fn).parameters if p != "network"]
    n_inputs = len(entry["inputs"])
    assert ("network" in inspect.signature(fn).parameters) == partial
    if entry["stateMutability"] in ("view", "pure"):
        call = getattr(module, f"{name}_call")
        assert next(iter(inspect.signature(call).parameters)) == "address"
        assert len(inspect.signature(call).parameters) == 1 + n_inputs + partial
        assert params[:2] == ["w3", "address"] and params[-1] == "block_identifier"
        assert len(params) == 3 + n_inputs
    else:
        assert params[0] == "address"
        payable = entry["stateMutability"] == "payable"
        assert len(params) == 1 + n_inputs + (1 if payable else 0)
        assert (params[-1] == "value") == payable or not payable


@_each("event")
def test_every_event_is_bound(network: str, contract: str, entry: dict[str, Any]) -> None:
    module = importlib.import_module(f"ogpu_bindings.{_snake(contract)}")
    name = entry["name"]
    assert network in module.AVAILABILITY[name]
    topic = "0x" + keccak(text=_signature(entry)).hex()
    assert getattr(module, f"{_snake(name).upper()}_TOPIC") == topic
    cls = getattr(module, f"{name}Event")
    decoder = getattr(module, f"decode_{_snake(name)}")
    assert topic == cls.TOPIC and name == cls.NAME
    fields = [f.name for f in dataclasses.fields(cls)]
    expected = [_snake(p["name"]) for p in entry["inputs"]]
    expected += ["address", "block_number", "transaction_hash", "log_index"]
    assert fields == expected
    assert ogpu_bindings.EVENT_DECODERS[topic].__name__ == decoder.__name__


@pytest.mark.parametrize(
    "entry",
    list({e["name"]: e for _, _, e in ENTRIES if e["type"] == "error"}.values()),
    ids=lambda e: e["name"],
)
def test_every_custom_error_is_bound(entry: dict[str, Any]) -> None:
    cls = getattr(errors, entry["name"] + "Error")
    selector = "0x" + keccak(text=_signature(entry))[:4].hex()
    assert errors.CUSTOM_ERRORS[selector] is cls
    assert selector == cls.SELECTOR
    assert issubclass(cls, errors.TxRevertError)
    init = inspect.signature(cls.__init__).parameters
    for p in entry["inputs"]:
        assert _snake(p["name"]) in init


def test_every_contract_is_in_contracts_map() -> None:
    names = {p.name[: -len("Abi.json")] for p in ABIS.glob("*/*Abi.json")}
    assert set(ogpu_bindings.CONTRACTS) == names
    assert tuple(ALL_NETWORKS) == ogpu_bindings.ABI_SETS


def test_availability_is_the_abi_sets_that_declare_each_member() -> None:
    where: dict[tuple[str, str], set[str]] = {}
    for network, contract, entry in ENTRIES:
        if entry["type"] != "error":
            where.setdefault((contract, entry["name"]), set()).add(network)
    for (contract, name), networks in where.items():
        module = importlib.import_module(f"ogpu_bindings.{_snake(contract)}")
        assert module.AVAILABILITY[name] == tuple(sorted(networks))
    partial = sorted(k for k, v in where.items() if len(v) < len(ALL_NETWORKS))
    assert len(partial) >= 4  # testnet Vault: 3 functions + 1 event
