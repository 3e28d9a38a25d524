"""Every public no-I/O callable fed hostile values, one parameter at a time: only a typed
error (an OGPUError) or a result may come out, never a raw TypeError, ValueError, KeyError,
AttributeError, OverflowError, RecursionError or the caller's object's own exception.

The surface is found by introspection (hostile_surface.py): a new public callable fails
test_every_public_callable_is_classified until it gets baseline arguments or a reason to
skip it. Table-driven and exhaustive (no randomness): ~2 s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import ogpu.chain
import ogpu.service
from ogpu.errors import OGPUError
from ogpu.events import get_poller_settings, set_poller_settings
from ogpu.manifest import clear_manifest_cache

from .hostile_surface import (
    BASELINES,
    HOSTILE,
    KNOWN,
    SKIP,
    UPLOADS,
    call,
    enter,
    parameters,
    surface,
)

SURFACE = surface()


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    """The chain setters, the manifest cache, the poller settings and the default service
    are process state: put them back."""
    settings = get_poller_settings()
    yield
    ogpu.chain.reset()
    clear_manifest_cache()
    set_poller_settings(settings)
    ogpu.service.reset()


def test_every_public_callable_is_classified() -> None:
    unclassified = sorted(set(SURFACE) - set(BASELINES) - set(SKIP))
    assert not unclassified, f"give these BASELINES or a SKIP reason: {unclassified}"
    assert not sorted(set(BASELINES) - set(SURFACE)), "stale BASELINES entries"


@pytest.mark.parametrize("key", sorted(BASELINES))
def test_baseline_is_valid(key: str) -> None:
    """The baseline arguments work, so a hostile value is the only fault in each call."""
    fn = SURFACE[key]
    try:
        result = fn(**BASELINES[key]())
    except OGPUError as exc:  # set_rpc's URL is invalid on purpose (no probe is sent)
        assert key.endswith("set_rpc"), f"{key}: baseline raised {exc!r}"
    else:
        enter(result)


def _escapes(key: str) -> list[str]:
    fn = SURFACE[key]
    found = []
    for slot in (p for p in parameters(fn) if p.name not in UPLOADS.get(key, ())):
        for label, build in HOSTILE.items():
            try:
                call(fn, BASELINES[key](), slot, build())
            except OGPUError:
                pass
            except Exception as exc:  # what the test looks for
                found.append(f"{slot.name}={label}: {type(exc).__name__}: {str(exc)[:60]!r}")
            finally:
                ogpu.chain.reset()
    return found


@pytest.mark.parametrize("key", sorted(BASELINES))
def test_only_typed_errors_escape(key: str) -> None:
    escapes = _escapes(key)
    left = KNOWN.get(key, ("", ""))[0].split(",")  # "param" or "param=hostile label"
    unexpected = [e for e in escapes if e.split("=")[0] not in left and e.split(":")[0] not in left]
    assert not unexpected, f"{key} let raw exceptions escape:\n" + "\n".join(unexpected)
    if left != [""]:
        assert escapes, f"{key}: {left} no longer lets raw exceptions escape; drop it from KNOWN"


# 0.2.3 raised a builtin for these inputs; the typed error is that builtin too.
COMPAT: list[tuple[str, dict[str, Any], type[Exception]]] = [
    ("ogpu.types.enums.parse_environments", {"mask": None}, TypeError),
    ("ogpu.types.enums.environment_names", {"mask": 1.5}, TypeError),
    ("ogpu.types.enums.combine_environments", {"*": None}, AttributeError),
    ("ogpu.chain.web3.get_web3_for_chain", {"chain_id": 7}, ValueError),
    ("ogpu.chain.config.ChainConfig.load_abi", {"abi_name": "NoSuchAbi"}, FileNotFoundError),
    ("ogpu.chain.config.ChainConfig.load_abi", {"abi_name": None}, FileNotFoundError),
]


@pytest.mark.parametrize(("key", "kwargs", "builtin"), COMPAT)
def test_typed_error_keeps_the_0_2_3_builtin(
    key: str, kwargs: dict[str, Any], builtin: type[Exception]
) -> None:
    fn = SURFACE[key]
    with pytest.raises(OGPUError) as caught:
        fn(kwargs["*"]) if "*" in kwargs else fn(**kwargs)
    assert isinstance(caught.value, builtin)
    assert str(caught.value)  # a message saying what to do


@pytest.mark.parametrize("reason", ["\ud800", "execution reverted: bad \udfff"])
def test_a_revert_reason_with_a_lone_surrogate_is_still_decoded(reason: str) -> None:
    """A node's JSON error may carry a lone surrogate escape; decoding it gave a raw
    EncodeError (the reason's ABI form is rebuilt for ``data``)."""
    from ogpu.protocol._revert import decode_revert
    from ogpu.types.errors import TxRevertError

    error = decode_revert(reason)
    assert isinstance(error, TxRevertError)
    assert error.reason == reason and error.data


@pytest.mark.parametrize("value", [None, "0x" + "ab" * 32, {"logs": []}])
def test_extract_address_from_no_receipt(value: object) -> None:
    """0.2.3 raised AttributeError (``receipt.logs``); the typed error is one too."""
    from ogpu.protocol.controller import extract_task_address
    from ogpu.protocol.nexus import extract_source_address
    from ogpu.types.errors import InvalidReceiptError

    for extract in (extract_task_address, extract_source_address):
        with pytest.raises(InvalidReceiptError, match="expected the Receipt") as caught:
            extract(value)  # type: ignore[arg-type]
        assert isinstance(caught.value, AttributeError)
