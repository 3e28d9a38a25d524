"""Private keys never appear in a log record, an exception or a repr.

Two layers:

- ``secrets_guard.py`` watches every test of this folder (and of the whole suite
  once ``tests/conftest.py`` imports it): logs at DEBUG and up, every SDK
  exception constructed, the exception ending a test, warnings. The self-test
  below runs it on planted leaks in a separate pytest process and checks it
  reports each one without printing the key.
- Targeted checks of the objects and errors that handle keys.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ogpu.chain import ChainConfig, ChainId, resolve_signer
from ogpu.client import publish_task
from ogpu.devnet import ALL_ACCOUNTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import TxExecutor, load_contract, vault
from ogpu.provider import ProviderRuntime, RuntimeSettings
from ogpu.types import InvalidSignerError, MissingSignerError, TaskInfo, TaskInput

from .conftest import Net
from .secrets_guard import GUARD, SecretsGuard

GUARD_FILE = Path(__file__).with_name("secrets_guard.py")

PLANTED_CONFTEST = f"""
import importlib.util
import sys

_spec = importlib.util.spec_from_file_location("planted_guard", {str(GUARD_FILE)!r})
_guard = importlib.util.module_from_spec(_spec)
sys.modules["planted_guard"] = _guard
_spec.loader.exec_module(_guard)

ogpu_secrets_guard = _guard.ogpu_secrets_guard
pytest_runtest_makereport = _guard.pytest_runtest_makereport
pytest_sessionfinish = _guard.pytest_sessionfinish
pytest_terminal_summary = _guard.pytest_terminal_summary
pytest_unconfigure = _guard.pytest_unconfigure
pytest_warning_recorded = _guard.pytest_warning_recorded
"""

PLANTED_TESTS = """
import logging
import warnings

import pytest
from eth_account import Account

from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.service.errors import ServiceConfigError
from ogpu.types import InvalidSignerError, OGPUError

log = logging.getLogger("planted")


def test_debug_log_of_a_key():
    log.debug("signing with %s", CLIENTS[0].key_hex)


def test_bytes_repr_of_a_key_in_a_warning_log():
    log.warning("raw key %r", PROVIDERS[1].key)


def test_key_in_log_extra():
    log.info("signed", extra={"signer_key": AGENTS[2].key_hex})


def test_key_in_a_logged_traceback():
    try:
        raise ValueError("bad " + MASTERS[2].key_hex)
    except ValueError:
        log.exception("failed")


def test_caught_sdk_error_with_a_key_in_its_message():
    with pytest.raises(OGPUError):
        raise OGPUError("cannot use " + MASTERS[0].key_hex[2:].upper())


def test_sdk_error_with_a_key_in_an_attribute():
    error = InvalidSignerError("invalid signer")
    error.role = PROVIDERS[0].key_hex


def test_service_error_with_a_key():
    with pytest.raises(ServiceConfigError):
        raise ServiceConfigError("PROVIDER_KEY=" + PROVIDERS[2].key_hex)


class Boom(Exception):
    pass


def test_env_key_in_an_uncaught_exception(monkeypatch):
    key = Account.create().key.hex()
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", key)
    error = Boom("boom")
    error.detail = "key " + key
    raise error


def test_registered_key_in_a_log(ogpu_secrets_guard):
    key = Account.create().key
    ogpu_secrets_guard.register(key, "a generated key")
    log.error("generated %s", key.hex())


def test_key_in_a_warning():
    warnings.warn("leaky " + AGENTS[0].key_hex, UserWarning)


def test_clean():
    log.debug("signing as %s", CLIENTS[0].address)
    with pytest.raises(InvalidSignerError):
        raise InvalidSignerError("CLIENT_PRIVATE_KEY is not a 32-byte hex private key")
"""

EXPECTED = {
    "test_debug_log_of_a_key": "devnet client[0] private key leaked in a log record "
    "(logger 'planted', level DEBUG)",
    "test_bytes_repr_of_a_key_in_a_warning_log": "devnet provider[1] private key leaked in a "
    "log record (logger 'planted', level WARNING)",
    "test_key_in_log_extra": "devnet agent[2] private key leaked in a log record",
    "test_key_in_a_logged_traceback": "devnet master[2] private key leaked in a log record "
    "(logger 'planted', level ERROR)",
    "test_caught_sdk_error_with_a_key_in_its_message": "devnet master[0] private key leaked in "
    "a OGPUError (message, repr or attributes)",
    "test_sdk_error_with_a_key_in_an_attribute": "devnet provider[0] private key leaked in a "
    "InvalidSignerError (message, repr or attributes)",
    "test_service_error_with_a_key": "devnet provider[2] private key leaked in a "
    "ServiceConfigError (message, repr or attributes)",
    "test_env_key_in_an_uncaught_exception": "$CLIENT_PRIVATE_KEY in the exception ending call",
    "test_registered_key_in_a_log": "a generated key leaked in a log record",
}


@pytest.mark.slow
def test_guard_reports_every_planted_leak_without_printing_keys(tmp_path: Path, row: Any) -> None:
    (tmp_path / "conftest.py").write_text(PLANTED_CONFTEST)
    (tmp_path / "test_planted.py").write_text(PLANTED_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PRIVATE_KEY")}
    env["COLUMNS"] = "1000"  # untruncated short summary
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--tb=no",
            "--disable-warnings",  # pytest's own summary would print the planted warning
            "-rA",
            "-o",
            "addopts=",
            "--import-mode=importlib",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output

    statuses: dict[str, set[str]] = {}
    for line in run.stdout.splitlines():
        match = re.match(r"^(PASSED|FAILED|ERROR) test_planted\.py::(\w+)", line)
        if match:
            statuses.setdefault(match.group(2), set()).add(match.group(1))
    for test, message in EXPECTED.items():
        assert statuses.get(test, set()) & {"FAILED", "ERROR"}, (test, output)
        assert message in output, (test, message, output)
    assert statuses["test_clean"] == {"PASSED"}, output
    assert "secret leak: devnet agent[0] private key in a warning" in output

    lowered = output.lower()
    for account in ALL_ACCOUNTS:
        assert account.key.hex() not in lowered, f"the report printed {account}'s key"
    row(
        area="secrets",
        case="guard self-test",
        injected=f"{len(EXPECTED) + 1} planted leaks (DEBUG/WARNING/ERROR logs, log extra, "
        "logged traceback, caught and uncaught exceptions, error attributes, env-var key, "
        "generated key, warning) and a clean test",
        outcome="each planted leak fails its test naming whose key and where; the clean test "
        "passes; no key is printed",
    )


def test_reprs_and_strings_never_show_keys(net: Net, row: Any) -> None:
    key = CLIENTS[0].key_hex
    contract = load_contract("VaultAbi")
    objects = [
        CLIENTS[0],
        TxExecutor(contract, "deposit", (CLIENTS[0].address,), signer=key, value=1),
        ProviderRuntime(
            PROVIDERS[0].key_hex,
            RuntimeSettings(service_url="http://127.0.0.1:5555"),
            scheduler=MASTERS[0].key_hex,
        ),
        resolve_signer(key),
    ]
    texts = [render(o) for o in objects for render in (repr, str)]
    for text in texts:
        assert not GUARD.leaks(text), text
    row(
        area="secrets",
        case="reprs",
        injected="repr/str of DevnetAccount, TxExecutor, ProviderRuntime, a resolved signer",
        outcome="addresses only, no key",
    )


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("one character not hex", CLIENTS[0].key_hex[:-1] + "z"),
        ("one character short", CLIENTS[0].key_hex[:-1]),
        ("trailing junk", CLIENTS[0].key_hex + "00"),
    ],
)
def test_malformed_keys_are_never_echoed(
    net: Net, monkeypatch: pytest.MonkeyPatch, label: str, value: str, row: Any
) -> None:
    visible = CLIENTS[0].key_hex[2:40]
    info = TaskInfo(CLIENTS[0].address, TaskInput("predict", {}), 2**40, 1)
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", value)
    with pytest.raises(InvalidSignerError) as from_env:
        publish_task(info)
    with pytest.raises(InvalidSignerError) as from_argument:
        publish_task(info, private_key=value)
    with pytest.raises(InvalidSignerError) as from_signer:
        vault.deposit(CLIENTS[0].address, 1, signer=value)
    for caught in (from_env, from_argument, from_signer):
        assert visible not in SecretsGuard.describe(caught.value).lower()
    assert "CLIENT_PRIVATE_KEY" in str(from_env.value)
    assert net.rpc.total_received() == 0
    row(
        area="secrets",
        case="malformed key",
        injected=f"{label}, via CLIENT_PRIVATE_KEY, private_key= and signer=",
        outcome="InvalidSignerError naming the variable or argument, no key material; 0 requests",
    )


def test_vault_writes_never_fall_back_to_env_keys(
    net: Net, monkeypatch: pytest.MonkeyPatch, row: Any
) -> None:
    for account, name in zip(
        (CLIENTS[0], PROVIDERS[0], MASTERS[0]),
        ("CLIENT_PRIVATE_KEY", "PROVIDER_PRIVATE_KEY", "MASTER_PRIVATE_KEY"),
        strict=True,
    ):
        monkeypatch.setenv(name, account.key_hex)
    with pytest.raises(MissingSignerError):
        vault.deposit(CLIENTS[0].address, 1, signer=None)  # type: ignore[arg-type]
    assert net.rpc.total_received() == 0
    assert ChainConfig.get_current_chain() == ChainId.OGPU_DEVNET
    fresh = Account.create()
    GUARD.register(fresh.key, "a key created by this test")
    row(
        area="secrets",
        case="no env fallback for vault",
        injected="role keys set in the environment, vault.deposit without signer=",
        outcome="MissingSignerError; 0 requests",
    )
