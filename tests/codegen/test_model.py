"""The intermediate model: naming, type parsing, data-file validation (no generated code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from codegen.abitypes import AbiType, Param, parse_type
from codegen.errors import CodegenError
from codegen.loader import load_model
from codegen.model import Model
from codegen.naming import pascal, snake


@pytest.mark.parametrize(
    ("solidity", "python"),
    [
        ("getIsAgentOf", "get_is_agent_of"),
        ("MIN_LOCKUP_PER_SOURCE", "min_lockup_per_source"),
        ("_sourceParams", "source_params"),
        ("DEFAULT_ADMIN_ROLE", "default_admin_role"),
        ("getIPFSUrl", "get_ipfs_url"),
        ("supportsInterface", "supports_interface"),
        ("balanceOf", "balance_of"),
        ("neededRole", "needed_role"),
        ("v2Address", "v2_address"),
    ],
)
def test_snake(solidity: str, python: str) -> None:
    assert snake(solidity) == python


def test_pascal() -> None:
    assert pascal("sourceParams") == "SourceParams"
    assert pascal("MIN_LOCKUP") == "MinLockup"


def _parse(raw: dict[str, Any]) -> AbiType:
    def make(item: dict[str, Any], index: int, where: str) -> Param:
        return Param(item.get("name", ""), item.get("name", ""), parse_type(item, where, make))

    return parse_type(raw, "test", make)


@pytest.mark.parametrize(
    ("type_str", "canonical", "annotation"),
    [
        ("uint", "uint256", "int"),
        ("uint8", "uint8", "int"),
        ("int128", "int128", "int"),
        ("address", "address", "str"),
        ("bool", "bool", "bool"),
        ("string", "string", "str"),
        ("bytes", "bytes", "bytes"),
        ("bytes4", "bytes4", "bytes"),
        ("address[]", "address[]", "list[str]"),
        ("uint256[3][]", "uint256[3][]", "list[list[int]]"),
    ],
)
def test_parse_scalar_and_array_types(type_str: str, canonical: str, annotation: str) -> None:
    t = _parse({"type": type_str, "internalType": type_str})
    assert t.canonical == canonical
    assert t.annotation() == annotation


def test_parse_struct_and_enum_from_internal_type() -> None:
    t = _parse(
        {
            "type": "tuple[]",
            "internalType": "struct ISource.Params[]",
            "components": [
                {"name": "who", "type": "address", "internalType": "address"},
                {"name": "st", "type": "uint8", "internalType": "enum ISource.Status"},
            ],
        }
    )
    assert t.kind == "array" and t.item is not None
    assert t.item.struct == "Params"
    assert t.item.components[1].type.enum == "Status"
    assert t.canonical == "(address,uint8)[]"
    assert t.annotation() == "list[Params]"


@pytest.mark.parametrize("bad", ["uint7", "uint264", "bytes33", "fixed128x18", "function"])
def test_unsupported_types_raise(bad: str) -> None:
    with pytest.raises(CodegenError, match=bad):
        _parse({"type": bad})


def test_real_model_shape(real_model: Model) -> None:
    assert real_model.set_names == ("mainnet", "testnet")
    assert len(real_model.contracts) == 8  # one per contract, over both sets
    assert [n.name for n in real_model.networks] == ["devnet", "mainnet", "testnet"]
    devnet = next(n for n in real_model.networks if n.name == "devnet")
    assert (devnet.chain_id, devnet.abi_set, devnet.addresses) == (1337, "mainnet", ())
    assert {s.name for s in real_model.structs} == {"ResponseParams", "SourceParams", "TaskParams"}
    source_params = next(s for s in real_model.structs if s.name == "SourceParams")
    types = {f.name: f.type for f in source_params.fields}
    assert types["imageEnvironments"].enum == "Environment"
    assert types["deliveryMethod"].enum == "DeliveryMethod"
    flags = {e.name: e.flag for e in real_model.enums}
    assert flags == {
        "DeliveryMethod": False,
        "Environment": True,
        "ResponseStatus": False,
        "SourceStatus": False,
        "TaskStatus": False,
    }


def test_selectors_and_topics_are_keccak_of_signatures(real_model: Model) -> None:
    for contract in real_model.contracts:
        for f in contract.functions:
            assert f.selector == "0x" + keccak(text=f.signature)[:4].hex()
        for e in contract.events:
            assert e.topic == "0x" + keccak(text=e.signature).hex()
    lock = _find(real_model, "Vault", "lock")
    assert (lock.signature, lock.selector) == ("lock(uint256)", "0xdd467064")


def _find(model: Model, contract: str, fn: str) -> Any:
    c = next(x for x in model.contracts if x.name == contract)
    return next(x for x in c.functions if x.name == fn)


def test_missing_members_detected_across_networks(real_model: Model) -> None:
    vault = next(c for c in real_model.contracts if c.name == "Vault")
    partial = sorted(f.name for f in vault.functions if f.partial)
    assert partial == ["cancelUnbonding", "emergencyExit", "withdrawSanctionOf"]
    assert {f.present_on for f in vault.functions if f.partial} == {("mainnet",)}
    assert [e.name for e in vault.events if e.partial] == ["UnbondingCanceled"]
    others = [c for c in real_model.contracts if c.name != "Vault"]
    assert not any(f.partial for c in others for f in c.functions)
    assert not any(e.partial for c in others for e in c.events)


def test_enum_overrides_type_plain_uint8_fields(real_model: Model) -> None:
    nexus = next(c for c in real_model.contracts if c.name == "Nexus")
    registered = next(e for e in nexus.events if e.name == "Registered")
    env = next(p for p in registered.inputs if p.name == "preferredEnvironment")
    assert env.type.enum == "Environment"
    register = next(f for f in nexus.functions if f.name == "register")
    assert register.inputs[2].type.enum == "Environment"
    source = next(c for c in real_model.contracts if c.name == "Source")
    pref = next(f for f in source.functions if f.name == "preferredEnvironmentOf")
    assert pref.outputs[0].type.enum == "Environment"


def test_revert_tables(real_model: Model) -> None:
    defaults = dict(real_model.revert_defaults())
    assert defaults["NotOwner"] == "NotSourceOwnerError"
    assert ("Controller", "cancelTask", "NotOwner", "NotTaskOwnerError") in (
        real_model.revert_overrides()
    )
    assert ("Task", "*", "NotOwner", "NotTaskOwnerError") in real_model.revert_overrides()


# -- data-file validation -------------------------------------------------------------------------


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("argument", "match"),
    [("nope", "match nothing"), ("who", "only uint")],
    ids=["stale", "non-uint"],
)
def test_bad_enum_override_is_an_error(fixture_abis: Path, argument: str, match: str) -> None:
    override = {"contract": "Widget", "function": "flagsOf", "input": argument, "enum": "Flags"}
    _edit(fixture_abis / "enums.json", lambda d: d["overrides"].append(override))
    with pytest.raises(CodegenError, match=match):
        load_model(fixture_abis)


def test_unknown_enum_in_internal_type_is_an_error(fixture_abis: Path) -> None:
    _edit(fixture_abis / "enums.json", lambda d: d["enums"].pop("Kind"))
    with pytest.raises(CodegenError, match="Kind"):
        load_model(fixture_abis)


def test_conflicting_struct_definitions_are_an_error(fixture_abis: Path) -> None:
    def change(abi: list[dict[str, Any]]) -> None:
        fn = next(e for e in abi if e.get("name") == "getItem")
        fn["outputs"][0]["components"].pop()

    _edit(fixture_abis / "beta" / "WidgetAbi.json", change)
    with pytest.raises(CodegenError, match="struct Item differs"):
        load_model(fixture_abis)


def test_function_differing_between_networks_is_an_error(fixture_abis: Path) -> None:
    def change(abi: list[dict[str, Any]]) -> None:
        fn = next(e for e in abi if e.get("name") == "signedOf")
        fn["inputs"][0]["type"] = fn["inputs"][0]["internalType"] = "int64"

    _edit(fixture_abis / "beta" / "WidgetAbi.json", change)
    with pytest.raises(CodegenError, match="signedOf differs"):
        load_model(fixture_abis)


def test_overloads_are_an_error(fixture_abis: Path) -> None:
    def change(abi: list[dict[str, Any]]) -> None:
        fn = next(e for e in abi if e.get("name") == "signedOf")
        abi.append({**fn, "inputs": []})

    _edit(fixture_abis / "alpha" / "WidgetAbi.json", change)
    with pytest.raises(CodegenError, match="overloaded"):
        load_model(fixture_abis)


def test_bad_network_address_is_an_error(fixture_abis: Path) -> None:
    _edit(
        fixture_abis / "networks.json",
        lambda d: d["networks"]["alpha"]["addresses"].update(
            Gadget="0x000000000000000000000000000000000000DEAD"
        ),
    )
    with pytest.raises(CodegenError, match="checksummed"):
        load_model(fixture_abis)


def test_revert_reason_with_two_default_classes_is_an_error(fixture_abis: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        cls = next(c for c in d["classes"] if c["name"] == "NotMasterError")
        cls["reverts"].append({"reason": "NotOwner"})

    _edit(fixture_abis / "errors.json", change)
    with pytest.raises(CodegenError, match="NotOwner"):
        load_model(fixture_abis)


def test_unknown_error_parent_is_an_error(fixture_abis: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["classes"][-1]["parent"] = "NoSuchError"

    _edit(fixture_abis / "errors.json", change)
    with pytest.raises(CodegenError, match="NoSuchError"):
        load_model(fixture_abis)


def test_python_name_collisions_are_an_error(fixture_abis: Path) -> None:
    def change(abi: list[dict[str, Any]]) -> None:
        fn = next(e for e in abi if e.get("name") == "owners")
        abi.append({**fn, "name": "owners_call"})

    _edit(fixture_abis / "alpha" / "WidgetAbi.json", change)
    with pytest.raises(CodegenError, match="collide"):
        load_model(fixture_abis)


def test_fixture_naming_rules(fixture_model: Model) -> None:
    widget = next(c for c in fixture_model.contracts if c.name == "Widget")
    set_value = next(f for f in widget.functions if f.name == "setValue")
    assert [p.py_name for p in set_value.inputs] == ["value", "from_", "address_"]
    kind_of = next(f for f in widget.functions if f.name == "kindOf")
    assert [p.py_name for p in kind_of.inputs] == ["arg0"]
    fund = next(f for f in widget.functions if f.name == "fund")
    assert fund.payable and fund.write_sig().endswith("*, value: int")
    simple = next(e for e in widget.events if e.name == "Simple")
    assert simple.defined_in == "gadget"
    gadget = next(c for c in fixture_model.contracts if c.name == "Gadget")
    assert all(f.present_on == ("alpha",) for f in gadget.functions)
    assert all(e.present_on == ("alpha",) for e in gadget.events)
    beta_only = next(f for f in widget.functions if f.name == "betaOnly")
    assert beta_only.partial and beta_only.call_sig().endswith("*, network: str")
