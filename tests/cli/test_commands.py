"""Each everyday command against the devnet over HTTP, human and --json output, error paths."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ogpu.chain import ChainConfig
from ogpu.devnet import ADMIN, CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import Response, Source, Task, execute_request, nexus, terminal, vault
from ogpu.provider import deterministic_addresses
from ogpu.types import DeliveryMethod, ResponseParams, TaskStatus

from .conftest import (
    ETHER,
    Devnet,
    amount_of,
    assert_one_line_error,
    fund_client,
    key_file,
    now,
    pair_and_register,
    publish_source_sdk,
    write,
)

SOURCE_TOML = """
name = "sentiment-analyzer"
description = "Lexicon-based sentiment analysis"
logoUrl = "https://example.com/logo.png"
minPayment = "0.001 OGPU"
minAvailableLockup = 0
maxExpiryDuration = 3600
deliveryMethod = "MANUAL_CONFIRMATION"

[imageEnvs]
cpu = "https://example.com/docker-compose.yml"
"""


def task_toml(source: str, payment: str = "0.01 OGPU") -> str:
    return f"""
source = "{source}"
payment = "{payment}"
expiresIn = 600

[config]
function_name = "predict"
priority = "high"
[config.data]
text = "what a great day"
"""


def respond(task: str, data: str = "https://example.com/result.json") -> str:
    """The provider attempts and submits a response through the protocol layer."""
    nexus.attempt(task, PROVIDERS[0].address, 10**16, signer=PROVIDERS[0].account)
    from ogpu_bindings import nexus as generated

    params = ResponseParams(task=task, provider=PROVIDERS[0].address, data=data, payment=0)
    receipt = execute_request(
        generated.submit_response(ChainConfig.get_contract_address("NEXUS"), params),
        PROVIDERS[0].account,
    )
    for log in receipt.logs:
        if isinstance(log, generated.ResponseSubmittedEvent):
            return str(log.response)
    raise AssertionError("no response")


# -- source ---------------------------------------------------------------------------------------


def test_source_publish_toml_then_show(ogpu: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    published = ogpu("source", "publish", write(tmp_path, "s.toml", SOURCE_TOML), "--json")
    assert published.code == 0, published.err
    address = published.json()["address"]
    assert published.json()["client"] == CLIENTS[0].address
    assert CLIENTS[0].key_hex not in published.out + published.err

    shown = ogpu("source", "show", address, "--metadata", "--json")
    data = shown.json()
    assert data["address"] == address
    assert data["client"] == CLIENTS[0].address
    assert data["status"] == "ACTIVE"
    assert data["min_payment"] == {"wei": str(10**15), "human": "0.001 OGPU"}
    assert data["delivery_method"] == "MANUAL_CONFIRMATION"
    assert data["environments"] == ["CPU"]
    assert data["max_expiry_duration_seconds"] == 3600
    assert data["last_update_time"]["iso"].endswith("Z")
    assert data["metadata"]["name"] == "sentiment-analyzer"
    assert data["task_count"] == 0

    human = ogpu("source", "show", address)
    assert human.code == 0
    assert f"Source:       {address}" in human.out
    assert "Min payment:  0.001 OGPU (1000000000000000 wei)" in human.out


def test_source_publish_json_with_key_file(ogpu: Any, tmp_path: Path) -> None:
    doc = {
        "name": "json-source",
        "imageEnvs": {"nvidia": "https://example.com/gpu.yml"},
        "minPayment": 5,
        "maxExpiryDuration": 60,
        "deliveryMethod": "first_response",
    }
    path = write(tmp_path, "s.json", json.dumps(doc))
    result = ogpu("source", "publish", path, "--key-file", key_file(tmp_path, CLIENTS[1]))
    assert result.code == 0, result.err
    assert result.out.startswith("Published source: 0x")
    address = result.out.split()[2]
    source = Source(address)
    assert source.get_client() == CLIENTS[1].address
    assert source.get_params().deliveryMethod == DeliveryMethod.FIRST_RESPONSE
    assert source.get_params().minPayment == 5


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        ('name = "x"\nbogus = 1\n', "s.toml", "unknown keys ['bogus']"),
        ("name = \n", "s.toml", "is not valid TOML"),
        ('{"name": "x"', "s.json", "is not valid JSON"),
        ('name = "x"\nmaxExpiryDuration = 1\n', "s.toml", "missing imageEnvs"),
        (
            'name = "x"\nmaxExpiryDuration = 1\nminPayment = "1.5 wei"\n[imageEnvs]\ncpu = "u"\n',
            "s.toml",
            "not a whole number of wei",
        ),
        (
            'name = "x"\nmaxExpiryDuration = 1\ndeliveryMethod = "FAST"\n[imageEnvs]\ncpu = "u"\n',
            "s.toml",
            "deliveryMethod must be one of",
        ),
        ("[1, 2]", "s.json", "must hold an object"),
        ("name: x", "s.yaml", "expected a .json or .toml file"),
    ],
)
def test_source_publish_bad_file(
    ogpu: Any, tmp_path: Path, content: str, name: str, fragment: str
) -> None:
    path = write(tmp_path, name, content)
    result = ogpu("source", "publish", path, "--key-file", key_file(tmp_path, CLIENTS[0]))
    assert_one_line_error(result, fragment)


def test_publish_without_key_names_the_variable(ogpu: Any, tmp_path: Path) -> None:
    result = ogpu("source", "publish", write(tmp_path, "s.toml", SOURCE_TOML))
    assert_one_line_error(result, "set CLIENT_PRIVATE_KEY", "or pass --key-file FILE")


def test_bad_key_file_is_never_echoed(ogpu: Any, tmp_path: Path) -> None:
    secret = "0x" + "ab" * 31 + "zz"
    path = write(tmp_path, "bad.key", secret)
    Path(path).chmod(0o600)
    result = ogpu("source", "publish", write(tmp_path, "s.toml", SOURCE_TOML), "--key-file", path)
    assert_one_line_error(result, "does not hold a 32-byte hex private key")
    assert "ab" * 31 not in result.err
    missing = ogpu("vault", "show", "--key-file", str(tmp_path / "nope.key"))
    assert_one_line_error(missing, "cannot read key file")


def test_source_show_not_a_source(ogpu: Any) -> None:
    result = ogpu("source", "show", CLIENTS[0].address)
    assert_one_line_error(result, "no Source contract at")


# -- task -----------------------------------------------------------------------------------------


def test_task_publish_show_cancel(
    ogpu: Any, chain: Devnet, tmp_path: Path, monkeypatch: Any
) -> None:
    source = publish_source_sdk()
    fund_client()
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    published = ogpu(
        "task", "publish", write(tmp_path, "t.toml", task_toml(source.address)), "--json"
    )
    assert published.code == 0, published.err
    info = published.json()
    task = info["address"]
    assert info["source"] == source.address
    assert amount_of(info["payment"]) == 10**16
    assert info["payment"]["human"] == "0.01 OGPU"
    latest = int(chain.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert 590 <= info["expiry_time"]["unix"] - max(latest, now()) <= 600
    assert info["expiry_time"]["iso"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(info["expiry_time"]["unix"])
    )

    shown = ogpu("task", "show", task, "--metadata", "--json").json()
    assert shown["status"] == "NEW"
    assert amount_of(shown["payment"]) == 10**16
    assert shown["address"] == task
    assert shown["delivery_method"] == "FIRST_RESPONSE"
    assert shown["responses"] == [] and shown["confirmed_response"] is None
    assert shown["metadata"] == {
        "function_name": "predict",
        "data": {"text": "what a great day"},
        "priority": "high",
    }
    assert vault.get_frozen_payment(CLIENTS[0].address) == 10**16

    canceled = ogpu("task", "cancel", task, "--json")
    assert canceled.code == 0, canceled.err
    assert canceled.json()["address"] == task
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.json()["tx_hash"].startswith("0x")
    assert Task(task).get_status() == TaskStatus.CANCELED
    assert vault.get_frozen_payment(CLIENTS[0].address) == 0

    again = ogpu("task", "cancel", task)
    assert_one_line_error(again)


def test_task_publish_source_flag_and_errors(ogpu: Any, tmp_path: Path, monkeypatch: Any) -> None:
    source = publish_source_sdk()
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    doc = {"payment": "0.01 OGPU", "config": {"function_name": "predict", "data": {"text": "x"}}}
    path = write(tmp_path, "t.json", json.dumps(doc))
    broke = ogpu("task", "publish", path, "--source", source.address)
    assert_one_line_error(broke, "balance", "`ogpu vault deposit`")  # a CLI hint
    assert "vault.deposit" not in broke.err
    fund_client()
    low = write(tmp_path, "low.json", json.dumps({**doc, "payment": 1}))
    assert_one_line_error(ogpu("task", "publish", low, "--source", source.address), "minPayment")
    assert_one_line_error(ogpu("task", "publish", path), "no source")
    ok = ogpu("task", "publish", path, "--source", source.address)
    assert ok.code == 0, ok.err
    assert ok.out.startswith("Published task: 0x")


@pytest.mark.slow
def test_task_confirm_by_task_and_response_show(
    ogpu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    source = publish_source_sdk(DeliveryMethod.MANUAL_CONFIRMATION)
    fund_client()
    pair_and_register(source.address)
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    task = ogpu("task", "publish", write(tmp_path, "t.toml", task_toml(source.address)), "--json")
    task_address = task.json()["address"]
    from ogpu.ipfs import publish_to_ipfs

    url = publish_to_ipfs({"label": "positive"}, filename="response.json")
    response = respond(task_address, url)

    shown = ogpu("response", "show", response, "--data", "--json").json()
    assert shown["task"] == task_address
    assert shown["provider"] == PROVIDERS[0].address
    assert shown["status"] == "SUBMITTED" and shown["confirmed"] is False
    assert shown["data_url"] == url
    assert shown["data"] == {"label": "positive"}
    assert shown["address"] == response
    assert amount_of(shown["payment"]) == 0
    assert shown["timestamp"]["unix"] > 0

    confirmed = ogpu("task", "confirm", task_address, "--json")
    assert confirmed.code == 0, confirmed.err
    assert confirmed.json()["response"] == response
    assert confirmed.json()["address"] == task_address
    assert confirmed.json()["status"] == "FINALIZED"
    assert Response(response).is_confirmed()

    listed = ogpu("task", "show", task_address, "--json").json()
    assert listed["responses"] == [response]
    assert listed["confirmed_response"] == response
    assert listed["winning_provider"] == PROVIDERS[0].address

    twice = ogpu("task", "confirm", response)
    assert_one_line_error(twice)
    none_left = ogpu("task", "confirm", task_address)
    assert_one_line_error(none_left, "0 unconfirmed responses")


@pytest.mark.slow
def test_task_watch_until_final(ogpu: Any, tmp_path: Path, monkeypatch: Any) -> None:
    source = publish_source_sdk()
    fund_client()
    pair_and_register(source.address)
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    task = ogpu("task", "publish", write(tmp_path, "t.toml", task_toml(source.address)), "--json")
    address = task.json()["address"]
    failures: list[BaseException] = []

    def provider_side() -> None:
        time.sleep(0.5)
        try:
            respond(address)
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=provider_side)
    worker.start()
    watched = ogpu("task", "watch", address, "--interval", "0.1", "--timeout", "60", "--json")
    worker.join()
    assert not failures
    assert watched.code == 0, watched.err
    events = watched.lines()
    assert {k: events[0][k] for k in ("event", "task", "status")} == {
        "event": "current",
        "task": address,
        "status": "NEW",
    }
    assert all(set(e["time"]) == {"unix", "iso"} for e in events)
    assert events[-1]["event"] == "final" and events[-1]["status"] == "FINALIZED"
    assert events[-1]["winning_provider"] == PROVIDERS[0].address
    kinds = [e["event"] for e in events[1:-1]]
    assert "attempted" in kinds and "response" in kinds
    attempted = next(e for e in events if e["event"] == "attempted")
    assert attempted["provider"] == PROVIDERS[0].address
    assert attempted["tx_hash"].startswith("0x") and attempted["task"] == address
    statuses = [e["status"] for e in events if e["event"] == "status"]
    assert "ATTEMPTED" in statuses


@pytest.mark.slow
def test_task_watch_human_times_out_and_stops_at_terminal(
    ogpu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    source = publish_source_sdk()
    fund_client()
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    task = ogpu("task", "publish", write(tmp_path, "t.toml", task_toml(source.address)), "--json")
    address = task.json()["address"]
    timed_out = ogpu("task", "watch", address, "--interval", "0.1", "--timeout", "0.5")
    assert timed_out.code == 1
    assert timed_out.out.startswith(f"task {address}: NEW")
    assert timed_out.err.strip() == f"ogpu: error: timed out after 0.5 s; task {address} is NEW"
    assert ogpu("task", "cancel", address).code == 0
    final = ogpu("task", "watch", address, "--interval", "0.1")
    assert final.code == 0
    assert final.out.strip().splitlines()[-1] == f"task {address}: CANCELED"


# -- vault and provider ---------------------------------------------------------------------------


@pytest.mark.slow
def test_vault_lifecycle(ogpu: Any, chain: Devnet, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", PROVIDERS[1].key_hex)
    who = PROVIDERS[1].address
    assert_one_line_error(ogpu("vault", "deposit", "1 OGPU"), "--key-file FILE, or --role ROLE")
    assert_one_line_error(ogpu("vault", "show"), "give an ADDRESS")

    deposited = ogpu("vault", "deposit", "2 OGPU", "--role", "provider", "--json")
    assert deposited.code == 0, deposited.err
    assert deposited.json()["amount"] == {"wei": str(2 * ETHER), "human": "2 OGPU"}
    assert deposited.json()["address"] == who and deposited.json()["signer"] == who
    assert "action" not in deposited.json()
    assert amount_of(deposited.json()["vault"]["balance"]) == 2 * ETHER

    locked = ogpu("vault", "lock", "1.5 ether", "--role", "provider", "--json").json()
    assert amount_of(locked["vault"]["balance"]) == ETHER // 2
    assert amount_of(locked["vault"]["lockup"]) == 3 * ETHER // 2

    too_much = ogpu("vault", "unbond", "5 OGPU", "--role", "provider")
    assert_one_line_error(too_much)
    unbonding = ogpu("vault", "unbond", "1 OGPU", "--role", "provider", "--json").json()
    assert amount_of(unbonding["vault"]["unbonding"]) == ETHER
    period = unbonding["vault"]["unbonding_period_seconds"]
    assert unbonding["vault"]["unbonding_timestamp"]["unix"] > 0

    early = ogpu("vault", "claim", "--role", "provider")
    assert_one_line_error(early)
    chain.increase_time(period + 1)
    claimed = ogpu("vault", "claim", "--key-file", key_file(tmp_path, PROVIDERS[1]), "--json")
    assert claimed.code == 0, claimed.err
    assert amount_of(claimed.json()["vault"]["balance"]) == 3 * ETHER // 2
    assert amount_of(claimed.json()["vault"]["unbonding"]) == 0
    assert claimed.json()["vault"]["unbonding_timestamp"] is None

    shown = ogpu("vault", "show", who, "--json").json()
    assert amount_of(shown["lockup"]) == ETHER // 2 and shown["address"] == who
    own = ogpu("vault", "show", "--role", "provider")
    assert own.code == 0
    assert f"Account:          {who}" in own.out
    assert "Lockup:           0.5 OGPU (500000000000000000 wei)" in own.out

    other = ogpu("vault", "deposit", "1000 gwei", "--to", CLIENTS[2].address, "--role", "provider")
    assert other.code == 0, other.err
    assert vault.get_balance_of(CLIENTS[2].address) == 1000 * 10**9


def test_provider_show(ogpu: Any) -> None:
    source = publish_source_sdk()
    pair_and_register(source.address)
    data = ogpu("provider", "show", PROVIDERS[0].address, "--sources", "--json").json()
    assert data["is_provider"] is True
    assert data["master"] == MASTERS[0].address
    assert amount_of(data["lockup"]) == ETHER
    assert data["sources"] == [source.address]
    human = ogpu("provider", "show", PROVIDERS[1].address)
    assert human.code == 0
    assert "Announced:         False" in human.out
    assert_one_line_error(ogpu("provider", "show", "0x1234"), "is not an address")


# -- network selection and error handling ---------------------------------------------------------


def test_chain_is_detected_from_rpc_and_env(ogpu: Any, chain: Devnet, monkeypatch: Any) -> None:
    source = publish_source_sdk()
    detected = ogpu("source", "show", source.address, "--rpc", chain.rpc_url, "--json", net=False)
    assert detected.code == 0, detected.err
    assert detected.json()["address"] == source.address
    monkeypatch.setenv("OGPU_RPC_URL", chain.rpc_url)
    monkeypatch.setenv("OGPU_CHAIN", "devnet")
    from_env = ogpu("source", "show", source.address, "--json", net=False)
    assert from_env.json()["address"] == source.address


@pytest.mark.slow
def test_wrong_chain_or_unreachable_node(ogpu: Any, chain: Devnet, monkeypatch: Any) -> None:
    wrong = ogpu(
        "vault", "show", CLIENTS[0].address, "--chain", "mainnet", "--rpc", chain.rpc_url, net=False
    )
    assert_one_line_error(wrong, "serves devnet (1337), not mainnet (1071); pass --chain devnet")
    dead = ogpu(
        "vault",
        "show",
        CLIENTS[0].address,
        "--chain",
        "devnet",
        "--rpc",
        "http://127.0.0.1:9",
        net=False,
    )
    assert_one_line_error(dead, "http://127.0.0.1:9")
    monkeypatch.setenv("OGPU_CHAIN", "moonnet")
    assert_one_line_error(ogpu("vault", "show", CLIENTS[0].address, net=False), "moonnet")


def test_devnet_addresses(ogpu: Any, chain: Devnet, tmp_path: Path) -> None:
    deployment = chain.services.devnet.deployment
    expected = {k: getattr(deployment, k) for k in ("nexus", "controller", "terminal", "vault")}
    found = deterministic_addresses()
    assert {k: found[k] for k in expected} == expected
    assert found["manager"] == deployment.manager
    assert deployment.deployer == ADMIN.address

    wrong = dict(expected, nexus=CLIENTS[0].address)
    path = write(tmp_path, "deployment.json", json.dumps({"deployment": wrong}))
    result = ogpu("vault", "show", CLIENTS[0].address, "--deployment", path)
    assert_one_line_error(result, "no OpenGPU contracts at Nexus", "ogpu devnet")
    good = write(tmp_path, "good.json", deployment.to_json())
    assert ogpu("vault", "show", CLIENTS[0].address, "--deployment", good).code == 0
    broken = write(tmp_path, "broken.json", "{}")
    assert_one_line_error(
        ogpu("vault", "show", CLIENTS[0].address, "--deployment", broken), "nexus"
    )


def test_debug_shows_the_traceback(ogpu: Any) -> None:
    result = ogpu("source", "show", CLIENTS[0].address, "--debug")
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert "SourceNotFoundError" in result.err
    assert result.err.strip().splitlines()[-1].startswith("ogpu: error: no Source contract at")


def test_usage_errors(ogpu: Any) -> None:
    missing = ogpu("task", "show", net=False)
    assert missing.code == 2
    assert "the following arguments are required: address" in missing.err
    bare = ogpu("vault", net=False)
    assert bare.code == 2
    assert "deposit" in bare.err
    bad_amount = ogpu("vault", "lock", "ten", "--role", "client")
    assert_one_line_error(bad_amount, "cannot read 'ten' as an amount")


def test_terminal_state_is_untouched_by_reads(ogpu: Any) -> None:
    """Reads never send anything: the provider stays unannounced after `provider show`."""
    assert ogpu("provider", "show", PROVIDERS[2].address, "--json").json()["is_provider"] is False
    assert terminal.is_provider(PROVIDERS[2].address) is False


def test_quiet_prints_only_the_new_address(ogpu: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    source = ogpu("source", "publish", write(tmp_path, "s.toml", SOURCE_TOML), "-q")
    assert source.code == 0 and source.err == ""
    address = source.out.strip()
    assert Source(address).get_client() == CLIENTS[0].address
    fund_client()
    task = ogpu("task", "publish", write(tmp_path, "t.toml", task_toml(address)), "--quiet")
    assert task.code == 0 and task.err == ""
    assert Task(task.out.strip()).get_status() == TaskStatus.NEW
