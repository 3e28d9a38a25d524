from __future__ import annotations

import json

import pytest

from ogpu._jsonsafe import MAX_JSON_DEPTH, JSONTooDeepError, loads_bounded, nesting_depth


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 2_000, 200_000])
def test_nesting_depth_counts_deep_arrays_and_objects(depth: int) -> None:
    assert nesting_depth(_nested(depth)) == depth
    mixed = b'{"a":' * depth + b"1" + b"}" * depth
    assert nesting_depth(mixed) == depth


def test_brackets_inside_strings_and_siblings_do_not_count() -> None:
    quoted = json.dumps(["[{" * 2_000, 'x\\"[[[']).encode()
    assert nesting_depth(quoted) <= 1
    flat = b"[" + b",".join([b"[]"] * 2_000) + b"]"
    assert nesting_depth(flat) == 2


def test_loads_bounded_parses_up_to_the_limit_and_refuses_beyond() -> None:
    assert loads_bounded(_nested(MAX_JSON_DEPTH)) is not None
    assert loads_bounded(b'{"text": "[[["}') == {"text": "[[["}
    with pytest.raises(JSONTooDeepError, match=f"nested deeper than {MAX_JSON_DEPTH}"):
        loads_bounded(_nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(JSONTooDeepError, match="nested deeper than 3"):
        loads_bounded(_nested(4), max_depth=3)
    assert loads_bounded(_nested(3), max_depth=3) == [[[]]]


def test_too_deep_is_a_value_error_and_invalid_json_still_raises() -> None:
    assert issubclass(JSONTooDeepError, ValueError)
    with pytest.raises(ValueError):
        loads_bounded(b"[1,")
    with pytest.raises(UnicodeDecodeError):
        loads_bounded(b'"\xff\xfe"')
