"""CIDv1 (raw, sha2-256, base32) against known vectors, plus parsing errors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogpu.ipfs.cid import (
    RAW_CODEC,
    SHA2_256,
    Cid,
    InvalidCidError,
    cid_for_bytes,
    decode_varint,
    encode_varint,
    parse_cid,
)

# Vectors as produced by `ipfs add --cid-version=1 --raw-leaves` / multiformats.
VECTORS = {
    b"hello world": "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    b"": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
}


@pytest.mark.parametrize(("data", "expected"), sorted(VECTORS.items()))
def test_known_vectors(data: bytes, expected: str) -> None:
    assert cid_for_bytes(data) == expected
    parsed = parse_cid(expected)
    assert parsed.version == 1
    assert parsed.codec == RAW_CODEC
    assert parsed.hash_code == SHA2_256
    assert parsed.digest == hashlib.sha256(data).digest()
    assert str(parsed) == expected


def test_cidv0_and_uppercase_parse() -> None:
    v0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"
    parsed = parse_cid(v0)
    assert parsed.version == 0
    assert parsed.codec == 0x70
    assert str(parsed) == v0
    assert len(parsed.to_bytes()) == 34
    upper = "B" + VECTORS[b"hello world"][1:].upper()
    assert str(parse_cid(upper)) == VECTORS[b"hello world"]


@given(st.binary(max_size=2048))
def test_roundtrip(data: bytes) -> None:
    text = cid_for_bytes(data)
    assert text.startswith("bafkrei")
    assert len(text) == 59
    parsed = parse_cid(text)
    assert parsed == Cid(1, RAW_CODEC, SHA2_256, hashlib.sha256(data).digest())
    assert parsed.to_bytes() == b"\x01\x55\x12\x20" + parsed.digest


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_roundtrip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


def test_varint_vectors() -> None:
    assert encode_varint(0x55) == b"\x55"
    assert encode_varint(300) == b"\xac\x02"
    with pytest.raises(ValueError):
        encode_varint(-1)
    with pytest.raises(InvalidCidError):
        decode_varint(b"\x80")
    with pytest.raises(InvalidCidError):
        decode_varint(b"\x80\x00")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x" * 300,
        "zabc",  # base58btc multibase is not supported
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5E",  # mixed case
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5",  # truncated digest
        "bafkrei!!",
        "b" + "a" * 3,
        "bciqa",  # version 2-ish garbage
        "Qm" + "0" * 44,  # '0' is not base58
        "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1",
        "bafyaaaa",
    ],
)
def test_invalid_cids(bad: str) -> None:
    with pytest.raises(InvalidCidError):
        parse_cid(bad)


def test_invalid_cid_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_cid(123)  # type: ignore[arg-type]
