"""Malformed input: the codec fails exactly where eth-abi (the oracle) fails, always with a
typed error (DecodeError / EncodeError), and decodes to the same values where eth-abi
accepts the data. Hostile lengths and pointers cost no memory or time."""

from __future__ import annotations

import time
from typing import Any

import eth_abi
import pytest
from eth_abi.exceptions import DecodingError, EncodingError
from hypothesis import given, settings
from hypothesis import strategies as st

from ogpu import abi as abicodec

from .strategies import abi_entries, type_lists, values_for

WORD = 32
BIG = [2**256 - 1, 2**255, 2**64, 2**32, 1, 0x20, 0x40, 0x60, 0xFFFF]


def _outcome_decode(codec: Any, types: tuple[str, ...], data: bytes) -> tuple[str, Any]:
    try:
        return "ok", codec(types, data)
    except Exception as exc:  # the kind of failure is what is compared
        return "error", exc


def _agree(types: tuple[str, ...], data: bytes) -> None:
    theirs = _outcome_decode(eth_abi.decode, types, data)
    ours = _outcome_decode(abicodec.decode, types, data)
    if ours[0] == "error":
        assert isinstance(ours[1], abicodec.DecodeError), repr(ours[1])
    assert ours[0] == theirs[0], f"eth-abi: {theirs[1]!r}; ours: {ours[1]!r}"
    if ours[0] == "ok":
        assert ours[1] == theirs[1]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[tuple[str, ...], bytes]:
    """A valid encoding of random types, then damaged: words overwritten with hostile
    numbers, bytes flipped, truncated or extended."""
    if draw(st.booleans()):
        types = draw(type_lists)
    else:
        types = draw(st.sampled_from([t for _, _, t in abi_entries() if t]))
    values = draw(st.tuples(*[values_for(t) for t in types]))
    data = bytearray(eth_abi.encode(types, values))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["word", "flip", "truncate", "extend"]))
        if how == "word" and len(data) >= WORD:
            at = WORD * draw(st.integers(0, len(data) // WORD - 1))
            value = draw(st.sampled_from(BIG) | st.integers(0, 2 * len(data)))
            data[at : at + WORD] = value.to_bytes(WORD, "big")
        elif how == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= draw(st.integers(1, 255))
        elif how == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        else:
            data += draw(st.binary(max_size=64))
    return types, bytes(data)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(case=mutated())
def test_damaged_data_fails_where_eth_abi_fails(case: tuple[tuple[str, ...], bytes]) -> None:
    _agree(*case)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(types=type_lists, data=st.binary(max_size=200))
def test_random_bytes_agree_with_eth_abi(types: tuple[str, ...], data: bytes) -> None:
    _agree(types, data)


def _word(n: int) -> bytes:
    return n.to_bytes(WORD, "big")


@pytest.mark.parametrize(
    ("types", "data"),
    [
        (("uint8",), _word(256)),  # dirty padding
        (("int8",), _word(128)),  # not a sign extension
        (("bool",), _word(2)),
        (("address",), b"\x01" + bytes(31)),
        (("bytes1",), b"\x01\x02" + bytes(30)),
        (("string",), _word(WORD) + _word(2) + b"\xff\xfe" + bytes(30)),  # not UTF-8
        (("bytes",), _word(WORD) + _word(2**255)),  # hostile length
        (("uint256[]",), _word(WORD) + _word(2**255)),  # hostile count
        (("string[]",), _word(WORD) + _word(1) + _word(0)),  # pointer into the head
        (("bytes",), _word(2**256 - 1)),  # pointer past the end
        (("bytes",), _word(0x20) + _word(3) + b"abc" + b"\x01" + bytes(28)),  # dirty tail
        (("uint256",), b"\x00" * 31),  # short
        (("uint256",), b""),
    ],
)
def test_known_malformed_inputs_are_typed_errors(types: tuple[str, ...], data: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(abicodec.DecodeError):
        abicodec.decode(types, data)
    assert time.perf_counter() - started < 0.5  # a hostile length is not iterated
    # eth-abi fails too, though not always typed: a hostile length is an OverflowError there
    with pytest.raises((DecodingError, ValueError, OverflowError)):
        eth_abi.decode(types, data)


def test_data_that_is_not_bytes_is_a_typed_error() -> None:
    with pytest.raises(abicodec.DecodeError):
        abicodec.decode(("uint256",), "0x00")  # type: ignore[arg-type]


_BAD_VALUES = st.one_of(
    st.integers(-(2**257), 2**257),
    st.booleans(),
    st.none(),
    st.text(max_size=45),
    st.binary(max_size=40),
    st.lists(st.integers(0, 3), max_size=4),
    st.floats(allow_nan=False),
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(types=type_lists, data=st.data())
def test_bad_values_fail_where_eth_abi_fails(types: tuple[str, ...], data: st.DataObject) -> None:
    values = list(data.draw(st.tuples(*[values_for(t) for t in types])))
    values[data.draw(st.integers(0, len(values) - 1))] = data.draw(_BAD_VALUES)
    try:
        expected = eth_abi.encode(types, values)
    except EncodingError:
        with pytest.raises(abicodec.EncodeError):
            abicodec.encode(types, values)
    else:
        assert abicodec.encode(types, values) == expected


def test_pointer_check_counts_head_words_as_eth_abi_does() -> None:
    # eth-abi counts a static tuple as one head word when it checks pointers, so an offset
    # into the tuple's second word is accepted; the codec agrees byte for byte.
    types = ("(uint256,uint256)", "bytes")
    data = _word(7) + _word(0x40) + _word(0x40) + b"x" * 64
    assert abicodec.decode(types, data) == eth_abi.decode(types, data)
    _agree(types, _word(7) + _word(0x40) + _word(0x20))
