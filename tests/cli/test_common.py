"""Pure helpers of the everyday commands: amounts, input files, JSON conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogpu.cli._common import format_amount, jsonable, parse_amount, read_document
from ogpu.cli.base import CommandError
from ogpu.types import DeliveryMethod, Environment, TaskParams, TaskStatus


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        (0, 0),
        (12345, 12345),
        ("12345", 12345),
        ("1 OGPU", 10**18),
        ("0.5 ether", 5 * 10**17),
        ("0.01ogpu", 10**16),
        ("10 gwei", 10**10),
        ("7 wei", 7),
        ("1e3 gwei", 10**12),
        ("2.5 eth", 25 * 10**17),
    ],
)
def test_parse_amount(text: object, wei: int) -> None:
    assert parse_amount(text, "amount") == wei


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.5 wei", "not a whole number of wei"),
        ("0.0000000000000000001 OGPU", "not a whole number of wei"),
        ("-1", "cannot read"),
        ("ten", "cannot read"),
        ("1 btc", "cannot read"),
        (True, "must be an amount"),
        (1.5, "must be an amount"),
        (-3, "between 0 and 2**256-1"),
        (2**256, "between 0 and 2**256-1"),
    ],
)
def test_parse_amount_rejects(value: object, message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("*", r"\*")):
        parse_amount(value, "amount")


def test_format_amount() -> None:
    assert format_amount(0) == "0 OGPU (0 wei)"
    assert format_amount(10**18) == "1 OGPU (1000000000000000000 wei)"
    assert format_amount(1) == "0.000000000000000001 OGPU (1 wei)"
    assert format_amount(15 * 10**17) == "1.5 OGPU (1500000000000000000 wei)"


def test_read_document(tmp_path: Path) -> None:
    toml = tmp_path / "a.toml"
    toml.write_text('a = 1\n[b]\nc = "d"\n')
    assert read_document(str(toml)) == {"a": 1, "b": {"c": "d"}}
    js = tmp_path / "a.JSON"
    js.write_text('{"a": [1, 2]}')
    assert read_document(str(js)) == {"a": [1, 2]}
    with pytest.raises(CommandError, match=r"cannot read .*missing\.json"):
        read_document(str(tmp_path / "missing.json"))
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(CommandError, match="cannot read"):
        read_document(str(binary))


def test_jsonable() -> None:
    params = TaskParams(source="0x" + "00" * 19 + "01", config="u", expiryTime=5, payment=7)
    assert jsonable(params) == {
        "source": "0x" + "00" * 19 + "01",
        "config": "u",
        "expiryTime": 5,
        "payment": 7,
    }
    assert jsonable(TaskStatus.FINALIZED) == "FINALIZED"
    assert jsonable(DeliveryMethod(1)) == "FIRST_RESPONSE"
    assert jsonable(Environment.CPU | Environment.AMD) == ["CPU", "AMD"]
    assert jsonable(Environment(0)) == []
    assert jsonable({"k": (b"\x01", None, True)}) == {"k": ["0x01", None, True]}
