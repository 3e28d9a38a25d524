"""The pure-Python codec against eth-abi (the oracle): byte-identical encodings and equal
decodings, over every function, event and error of every ABI in abis/ and over random types
(every elementary type, fixed and dynamic arrays, nested tuples)."""

from __future__ import annotations

from typing import Any

import eth_abi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogpu import abi as abicodec

from .strategies import abi_entries, type_lists, values_for

ENTRIES = abi_entries()


def _norm(value: Any) -> Any:
    """Lists as tuples (how both codecs decode arrays)."""
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    return value


def _check_same(types: tuple[str, ...], values: tuple[Any, ...]) -> None:
    expected = eth_abi.encode(types, values)
    ours = abicodec.encode(types, values)
    assert ours == expected
    decoded = abicodec.decode(types, expected)
    assert decoded == eth_abi.decode(types, expected)
    assert decoded == _norm(values)


def test_every_abi_is_covered() -> None:
    kinds = {kind for _, kind, _ in ENTRIES}
    assert kinds == {"args", "returns", "data", "topic"}
    used = {t for _, _, types in ENTRIES for t in types}
    # the ABIs use structs, dynamic arrays, strings and fixed bytes: all exercised here
    assert {"address[]", "string", "bytes32", "uint8"} <= used
    assert any(t.startswith("(") for t in used)


@pytest.mark.parametrize(
    ("where", "kind", "types"), ENTRIES, ids=[f"{w}:{k}" for w, k, _ in ENTRIES]
)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_abi_entry_matches_eth_abi(
    where: str, kind: str, types: tuple[str, ...], data: st.DataObject
) -> None:
    values = data.draw(st.tuples(*[values_for(t) for t in types]), label="values")
    _check_same(types, values)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=st.data(), types=type_lists)
def test_random_types_match_eth_abi(types: tuple[str, ...], data: st.DataObject) -> None:
    values = data.draw(st.tuples(*[values_for(t) for t in types]), label="values")
    _check_same(types, values)


def test_codec_is_compiled_once_per_types() -> None:
    types = ("address", "string", "uint256", "uint256")
    assert abicodec.codec(types) is abicodec.codec(list(types))


@pytest.mark.parametrize(
    "bad", ["uint7", "uint264", "int0", "bytes33", "bytes0", "fixed128x18", "(uint256", "x[01]", ""]
)
def test_unsupported_type_is_a_typed_error(bad: str) -> None:
    with pytest.raises(abicodec.AbiTypeError):
        abicodec.codec((bad,))


def test_bytes_subclasses_decode_as_bytes() -> None:
    from hexbytes import HexBytes

    types = ("address", "bytes", "bytes4[]")
    data = eth_abi.encode(types, ("0x" + "ab" * 20, b"xy", [b"abcd"]))
    for raw in (HexBytes(data), bytearray(data), memoryview(data)):
        decoded = abicodec.decode(types, raw)
        assert decoded == eth_abi.decode(types, data)
        assert type(decoded[1]) is bytes and type(decoded[2][0]) is bytes
