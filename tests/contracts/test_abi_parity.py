"""The devnet artifacts expose exactly the mainnet ABIs, plus a listed set of devnet extras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ogpu.devnet.deploy import CONTRACT_NAMES, SUITE_CONTRACTS, load_artifact

ROOT = Path(__file__).resolve().parents[2]
MAINNET = ROOT / "abis" / "mainnet"

# Everything the devnet adds on top of the mainnet ABIs. Any other difference fails.
DEVNET_EXTRA_CONTRACTS = {"SourceFactory", "TaskFactory", "ResponseFactory"}
DEVNET_EXTRA_ENTRIES: dict[str, set[tuple[str, str]]] = {
    "Nexus": {
        ("function", "setFactories"),
        ("function", "sourceFactory"),
        ("function", "responseFactory"),
    },
    "Controller": {("function", "setTaskFactory"), ("function", "taskFactory")},
    "Vault": {("function", "depositLockup")},
}
EIP170_LIMIT = 24_576

Key = tuple[str, str]


def _index(abi: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    out: dict[Key, dict[str, Any]] = {}
    for entry in abi:
        key = (entry["type"], entry.get("name", ""))
        assert key not in out, f"overloaded {key} is not expected in these ABIs"
        out[key] = entry
    return out


def _params(params: list[dict[str, Any]], with_indexed: bool) -> list[Any]:
    out = []
    for p in params:
        item: dict[str, Any] = {
            "name": p["name"],
            "type": p["type"],
            "internalType": p["internalType"],
        }
        if "components" in p:
            item["components"] = _params(p["components"], with_indexed=False)
        if with_indexed:
            item["indexed"] = p["indexed"]
        out.append(item)
    return out


def _shape(entry: dict[str, Any]) -> dict[str, Any]:
    kind = entry["type"]
    if kind == "function":
        return {
            "inputs": _params(entry["inputs"], False),
            "outputs": _params(entry["outputs"], False),
            "stateMutability": entry["stateMutability"],
        }
    if kind == "event":
        return {
            "inputs": _params(entry["inputs"], True),
            "anonymous": entry["anonymous"],
        }
    if kind == "error":
        return {"inputs": _params(entry["inputs"], False)}
    if kind == "constructor":
        return {"inputs": _params(entry["inputs"], False), "mutability": entry["stateMutability"]}
    return {"entry": entry}  # fallback/receive: compared verbatim


def _mainnet(name: str) -> list[dict[str, Any]]:
    abi: list[dict[str, Any]] = json.loads((MAINNET / f"{name}Abi.json").read_text())
    return abi


def test_artifacts_cover_mainnet_contracts_and_listed_extras_only() -> None:
    mainnet = {p.name.removesuffix("Abi.json") for p in MAINNET.glob("*Abi.json")}
    assert set(SUITE_CONTRACTS) == mainnet
    assert set(CONTRACT_NAMES) == mainnet | DEVNET_EXTRA_CONTRACTS
    shipped = {p.stem for p in (ROOT / "src" / "ogpu" / "devnet" / "artifacts").glob("*.json")}
    assert shipped == set(CONTRACT_NAMES)


@pytest.mark.parametrize("name", SUITE_CONTRACTS)
def test_every_mainnet_entry_is_identical(name: str) -> None:
    expected = _index(_mainnet(name))
    actual = _index(load_artifact(name).abi)
    missing = sorted(set(expected) - set(actual))
    assert not missing, f"{name} lacks {missing}"
    for key, entry in expected.items():
        assert _shape(actual[key]) == _shape(entry), f"{name} {key} differs"


@pytest.mark.parametrize("name", SUITE_CONTRACTS)
def test_no_unlisted_extras(name: str) -> None:
    expected = _index(_mainnet(name))
    actual = _index(load_artifact(name).abi)
    extras = set(actual) - set(expected)
    assert extras == DEVNET_EXTRA_ENTRIES.get(name, set())


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_runtime_code_under_eip170(name: str) -> None:
    artifact = load_artifact(name)
    assert 0 < len(artifact.deployed_bytecode) <= EIP170_LIMIT


def test_shape_comparison_detects_differences() -> None:
    # The comparison itself must notice a changed internalType, indexed flag or mutability.
    entry = _index(_mainnet("Nexus"))[("event", "SourceUpdated")]
    changed = json.loads(json.dumps(entry))
    changed["inputs"][1]["components"][8]["internalType"] = "uint8"
    assert _shape(changed) != _shape(entry)
    changed = json.loads(json.dumps(entry))
    changed["inputs"][0]["indexed"] = True
    assert _shape(changed) != _shape(entry)
    fn = _index(_mainnet("Vault"))[("function", "deposit")]
    changed = dict(fn, stateMutability="nonpayable")
    assert _shape(changed) != _shape(fn)
