"""How failures read: connection failures in one short line with a hint (real refused
ports, unresolvable hosts, silent servers, nodes of another chain), the full chain under
--debug, JSON under --json, CLI hints instead of Python calls, typed input files."""

from __future__ import annotations

import inspect
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import ogpu.types.errors as sdk_errors
from ogpu.chain import ChainId
from ogpu.cli._errors import cli_text, connection_failure, where
from ogpu.devnet import CLIENTS

from ..helpers.wait import free_port
from .conftest import ROLE_VARS, SDK_VARS, Devnet, assert_one_line_error, fund_client, write

#: The issue's bound on a connection failure's line, "ogpu: error: " included.
MAX_LINE = 160
ADDRESS = "0x2b0cc6058313801d5feb184a539e3a0c5a87a6a1"


@contextmanager
def silent_node() -> Iterator[str]:
    """A real TCP server that accepts connections and never answers: a hung node."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def bare(ogpu: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``ogpu`` with no --chain/--rpc added and no SDK variables set."""
    for name in ROLE_VARS + SDK_VARS:
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str) -> Any:
        return ogpu(*argv, net=False)

    return run


def assert_connection_error(result: Any, *fragments: str) -> str:
    assert_one_line_error(result, *fragments)
    line = result.err.strip().splitlines()[-1]
    assert len(line) < MAX_LINE, (len(line), line)
    assert "HTTPConnectionPool" not in line and "Max retries" not in line
    return line


@pytest.mark.slow
def test_refused(bare: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = bare("vault", "show", ADDRESS, "--chain", "devnet", "--rpc", url)
    line = assert_connection_error(result, url, "connection refused", "is `ogpu devnet` running?")
    assert line.startswith("ogpu: error: cannot reach the devnet RPC")


def test_refused_on_the_default_devnet_url_from_the_environment(
    bare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OGPU_CHAIN", "devnet")
    monkeypatch.setenv("OGPU_RPC_URL", f"http://127.0.0.1:{free_port()}/secret-key-path")
    result = bare("task", "show", ADDRESS)
    line = assert_connection_error(result, "connection refused", "ogpu devnet")
    assert "secret-key-path" not in line


@pytest.mark.slow
def test_dns_failure_of_the_default_chain_suggests_the_devnet(
    bare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The public mainnet RPC must not be contacted by a test: its default URL points at a
    # host that cannot resolve (.invalid, RFC 2606), as the real one does offline.
    from ogpu.chain import config

    monkeypatch.setitem(
        config.DEFAULT_RPC_URLS, ChainId.OGPU_MAINNET, "https://mainnet-rpc.ogpu.invalid"
    )
    result = bare("vault", "show", ADDRESS)
    line = assert_connection_error(result, "host not found", "add --chain devnet")
    assert "mainnet RPC https://mainnet-rpc.ogpu.invalid" in line
    assert "mainnet is the default;" in line


@pytest.mark.slow
def test_dns_failure_of_an_explicit_rpc(bare: Any) -> None:
    url = "http://" + "n" * 40 + "." + "m" * 40 + ".invalid:8545"
    result = bare("vault", "show", ADDRESS, "--chain", "devnet", "--rpc", url)
    assert_connection_error(result, "host not found", "…")
    detected = bare("vault", "show", ADDRESS, "--rpc", "http://no-such-node.invalid:8545")
    assert_connection_error(detected, "host not found", "check the host in --rpc")


@pytest.mark.slow
def test_timeout(bare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The probe's bound, not its 10 s default, is what this test is about.
    monkeypatch.setattr("ogpu.chain.web3.PROBE_TIMEOUT", 1.0)
    monkeypatch.setattr("ogpu.chain.web3.DEFAULT_HTTP_TIMEOUT", 1.0)
    with silent_node() as url:
        result = bare("vault", "show", ADDRESS, "--chain", "devnet", "--rpc", url)
    assert_connection_error(result, url, "no answer in time")


def test_wrong_chain_id(bare: Any, chain: Devnet) -> None:
    result = bare("vault", "show", ADDRESS, "--chain", "testnet", "--rpc", chain.rpc_url)
    line = assert_connection_error(result, "serves devnet (1337), not testnet", "--chain devnet")
    assert len(line) < MAX_LINE


@pytest.mark.slow
def test_debug_keeps_the_whole_chain_of_causes(bare: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = bare("vault", "show", ADDRESS, "--chain", "devnet", "--rpc", url, "--debug")
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert "ConnectionRefusedError" in result.err  # the root cause, under suppressed contexts
    assert result.err.strip().splitlines()[-1].startswith("ogpu: error: cannot reach")


def test_connection_failure_classes() -> None:
    assert connection_failure(ConnectionRefusedError(111, "refused")) == "refused"
    assert connection_failure(socket.gaierror(-2, "Name or service not known")) == "dns"
    assert connection_failure(TimeoutError("timed out")) == "timeout"
    assert connection_failure(ValueError("nope")) is None
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert connection_failure(outer) == "refused"
    assert where("https://user:pw@node.example:8545/v3/APIKEY?x=1") == "https://node.example:8545"


# -- --json errors for every kind of failure ------------------------------------------------------


@pytest.mark.slow
def test_errors_are_json_under_json(bare: Any, chain: Devnet, tmp_path: Path) -> None:
    net = ("--chain", "devnet", "--rpc", chain.rpc_url)
    cases = [
        (
            (
                "vault",
                "show",
                ADDRESS,
                "--json",
                "--chain",
                "devnet",
                "--rpc",
                "http://127.0.0.1:9",
            ),
            "connection",
        ),
        (("source", "show", CLIENTS[0].address, "--json", *net), "sdk"),
        (("source", "publish", str(tmp_path / "none.toml"), "--json", *net), "input"),
        (("vault", "lock", "ten", "--role", "client", "--json", *net), "input"),
        (
            ("task", "show", ADDRESS, "--json", "--chain", "mainnet", "--rpc", chain.rpc_url),
            "chain",
        ),
    ]
    for argv, kind in cases:
        result = bare(*argv)
        assert result.code == 1 and result.out == "", result
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, result.err
        error = json.loads(lines[0])["error"]
        assert error["kind"] == kind, (argv, error)
        assert error["exit_code"] == 1 and error["message"]


# -- hints name CLI commands ---------------------------------------------------------------------

_PYTHON_CALL = re.compile(
    r"\b(vault|nexus|terminal|controller|client|agent)\.[a-z_]+\b|signer=|LocalAccount|"
    r"\bNexus\.register\b|\bannounce(Provider|Master)\b"
)


def test_no_sdk_error_message_names_a_python_call_once_shown() -> None:
    classes = [
        c
        for c in vars(sdk_errors).values()
        if inspect.isclass(c) and isinstance(getattr(c, "default_message", None), str)
    ]
    assert len(classes) > 40
    for cls in classes:
        shown = cli_text(cls.default_message)
        assert not _PYTHON_CALL.search(shown), (cls.__name__, shown)


def test_a_missing_role_key_names_the_variable_and_the_env_file() -> None:
    shown = cli_text("no signer given and MASTER_PRIVATE_KEY is not set")
    assert shown.startswith("no key: set MASTER_PRIVATE_KEY (`ogpu devnet --env-file .env`")


def test_vault_hints_name_vault_commands(ogpu: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    locked = ogpu("vault", "lock", "5 OGPU", "--role", "client")
    assert_one_line_error(locked, "`ogpu vault deposit`")
    fund_client()
    claim = ogpu("vault", "claim", "--role", "client")
    assert_one_line_error(claim, "run `ogpu vault unbond` first")


# -- input files: every field typed; a bad --source is the option's fault --------------------------

TASK = {
    "payment": "0.01 OGPU",
    "expiresIn": 600,
    "config": {"function_name": "predict", "data": {"text": "x"}},
}
SOURCE = {
    "name": "s",
    "description": "d",
    "logoUrl": "https://example.com/l.png",
    "minPayment": "0.001 OGPU",
    "maxExpiryDuration": 3600,
    "deliveryMethod": "FIRST_RESPONSE",
    "privacyEnabled": False,
    "optionalParamsUrl": "",
    "imageEnvs": {"cpu": "https://example.com/c.yml"},
}
WRONG = ["soon", 1.5, True, [1], {"a": 1}, 7]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _toml(doc: dict[str, Any]) -> str:
    return "\n".join(f"{key} = {_toml_value(value)}" for key, value in doc.items()) + "\n"


def _variants(
    doc: dict[str, Any], skip: set[tuple[str, str]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for key, good in doc.items():
        for bad in WRONG:
            if type(bad) is type(good) or (key, type(bad).__name__) in skip:
                continue
            yield key, {**doc, key: bad}


# Values that are legitimately accepted: amounts as whole wei, enum values as ints.
_ACCEPTED = {
    ("payment", "int"),
    ("minPayment", "int"),
    ("deliveryMethod", "int"),
    ("expiresIn", "int"),
}


@pytest.mark.parametrize("kind", ["task", "source"])
@pytest.mark.slow
def test_a_value_of_the_wrong_type_is_named(ogpu: Any, tmp_path: Path, kind: str) -> None:
    from .conftest import key_file

    key = key_file(tmp_path, CLIENTS[0])
    base = TASK if kind == "task" else SOURCE
    checked = 0
    for i, (key_name, doc) in enumerate(_variants(base, _ACCEPTED)):
        path = write(tmp_path, f"{kind}{i}.toml", _toml(doc))
        extra = ["--source", ADDRESS] if kind == "task" else []
        result = ogpu(kind, "publish", path, *extra, "--key-file", key)
        assert_one_line_error(result, f"{path}: ", key_name)
        assert "unexpected" not in result.err and "TypeError" not in result.err, result.err
        checked += 1
    assert checked >= 10


def test_expires_in_soon(ogpu: Any, tmp_path: Path) -> None:
    from .conftest import key_file

    path = write(
        tmp_path,
        "t.toml",
        'payment = "0.01 OGPU"\nexpiresIn = "soon"\n[config]\nfunction_name = "f"\n',
    )
    result = ogpu(
        "task", "publish", path, "--source", ADDRESS, "--key-file", key_file(tmp_path, CLIENTS[0])
    )
    assert_one_line_error(result, f"{path}: expiresIn must be a whole number of seconds", "'soon'")


def test_a_bad_source_option_is_blamed_on_the_option(ogpu: Any, tmp_path: Path) -> None:
    from .conftest import key_file

    path = write(tmp_path, "t.toml", _toml(TASK))
    key = key_file(tmp_path, CLIENTS[0])
    flag = ogpu("task", "publish", path, "--source", "0x1234", "--key-file", key)
    assert_one_line_error(flag, "'--source' is not an address")
    assert path not in flag.err
    in_file = write(tmp_path, "t2.toml", _toml({"source": "0x1234", **TASK}))
    blamed = ogpu("task", "publish", in_file, "--key-file", key)
    assert_one_line_error(blamed, f"{in_file}: ", "'source' is not an address")
