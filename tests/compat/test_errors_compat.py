"""The error classes as code written for ogpu 0.2.3 builds and catches them."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import ogpu.types.errors as errors
from ogpu.types import Role

CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("TaskNotFoundError", ("0xT",), {"address": "0xT"}),
    ("SourceNotFoundError", ("0xS",), {"address": "0xS"}),
    ("ResponseNotFoundError", ("0xR",), {"address": "0xR"}),
    ("ProviderNotFoundError", ("0xP",), {"address": "0xP"}),
    ("MasterNotFoundError", ("0xM",), {"address": "0xM"}),
    ("TaskExpiredError", ("0xT", 17), {"task": "0xT", "expiry": 17}),
    ("TaskAlreadyFinalizedError", ("0xT",), {"task": "0xT"}),
    ("ResponseAlreadyConfirmedError", ("0xR",), {"response": "0xR"}),
    ("SourceInactiveError", ("0xS",), {"source": "0xS"}),
    ("NotTaskOwnerError", ("0xT", "0xC"), {"task": "0xT", "caller": "0xC"}),
    ("NotSourceOwnerError", ("0xS", "0xC"), {"source": "0xS", "caller": "0xC"}),
    ("NotMasterError", ("0xA",), {"account": "0xA"}),
    ("NotProviderError", ("0xA",), {"account": "0xA"}),
    (
        "InsufficientBalanceError",
        ("0xA", 10, 3),
        {"account": "0xA", "required": 10, "available": 3},
    ),
    (
        "InsufficientLockupError",
        ("0xA", 10, 3),
        {"account": "0xA", "required": 10, "available": 3},
    ),
    (
        "UnbondingPeriodNotElapsedError",
        ("0xA", 60),
        {"account": "0xA", "remaining_seconds": 60},
    ),
    ("NotEligibleError", ("0xA",), {"account": "0xA"}),
    ("TxRevertError", ("NotOwner",), {"reason": "NotOwner"}),
    ("NonceError", ("0xA", 4, 5), {"address": "0xA", "tried": 4, "suggested": 5}),
    ("GasError", ("underpriced",), {"reason": "underpriced"}),
    ("InvalidRpcUrlError", ("http://x",), {"url": "http://x"}),
    ("MissingSignerError", (Role.CLIENT,), {"role": Role.CLIENT}),
    ("InvalidSignerError", ("not hex",), {"reason": "not hex"}),
    ("ChainNotSupportedError", (5,), {"chain_id": 5}),
    ("IPFSFetchError", ("http://g/x", "timeout"), {"url": "http://g/x", "reason": "timeout"}),
    ("IPFSGatewayError", ("http://g", 502), {"gateway": "http://g", "status_code": 502}),
]


@pytest.mark.parametrize(("name", "args", "attrs"), CASES, ids=[c[0] for c in CASES])
def test_official_constructor(name: str, args: tuple[Any, ...], attrs: dict[str, Any]) -> None:
    cls = getattr(errors, name)
    error = cls(*args)
    for attr, value in attrs.items():
        assert getattr(error, attr) == value
    assert str(error) != cls.default_message  # the message names what it is about
    assert all(str(v) in str(error) for v in attrs.values() if not isinstance(v, Role))
    assert cls(**attrs).message == error.message  # the same by keyword
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is cls and str(clone) == str(error)
    assert all(getattr(clone, attr) == value for attr, value in attrs.items())
    # our own form: message by keyword, the default message when nothing is given
    assert str(cls(message="custom")) == "custom" and str(cls()) == cls.default_message


def test_error_tree_holds_the_official_places() -> None:
    assert issubclass(errors.InvalidSignerError, errors.ConfigError)
    assert issubclass(errors.MissingSignerError, errors.ConfigError)
    assert issubclass(errors.NotEligibleError, errors.VaultError)
    assert issubclass(errors.InvalidRpcUrlError, errors.TxError)
    assert issubclass(errors.InvalidRpcUrlError, errors.ConfigError)  # ours, kept
    # 0.2.3's publish_to_ipfs raises IPFSFetchError for upload failures
    assert issubclass(errors.IPFSUploadError, errors.IPFSFetchError)
    assert errors.Role is Role
    error = errors.InvalidRpcUrlError("http://x", tx_hash=None)
    assert error.tx_hash is None and error.url == "http://x"


@pytest.mark.slow
def test_upload_failures_are_caught_as_0_2_3_catches_them() -> None:
    from http.server import BaseHTTPRequestHandler

    from ogpu.devnet.httpbase import BackgroundHTTPServer
    from ogpu.ipfs import OGPUPinningBackend, RetryPolicy, publish_to_ipfs

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(413)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    with BackgroundHTTPServer("127.0.0.1", 0, Refuse, name="refuse") as server:
        url = server.url
        with pytest.raises(errors.IPFSGatewayError) as refused:  # 0.2.3: a non-2xx answer
            publish_to_ipfs({"a": 1}, backend=OGPUPinningBackend(url, url))
        assert refused.value.status_code == 413
        assert isinstance(refused.value, errors.IPFSUploadError)
    with pytest.raises(errors.IPFSFetchError):  # 0.2.3: a network failure
        publish_to_ipfs(
            {"a": 1},
            backend=OGPUPinningBackend(url, url),
            retry=RetryPolicy(max_attempts=1),
            timeout=2,
        )
