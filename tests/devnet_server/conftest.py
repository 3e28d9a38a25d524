"""Fixtures for the devnet server tests: one served devnet per session, per-test snapshots.

Everything talks to the chain over real HTTP with plain ``Web3(HTTPProvider(url))``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from ogpu.devnet import ADMIN, CLIENTS, MASTERS, PROVIDERS, load_artifact
from ogpu.devnet.serve import DevnetServices, start_services

# -- a tiny hand-assembled probe contract ---------------------------------------------------
#
# calldata[0] selects the behaviour:
#   (empty) -> return uint256 42
#   0x01    -> revert with calldata[1:] as the revert data
#   0x02    -> LOG2(topic0=calldata[1:33], topic1=calldata[33:65], data=calldata[65:])
#   0x03    -> return block.timestamp
#   0x04    -> INVALID opcode
#   0x05    -> sstore(0, calldata[1:33])

_OPCODES = {
    "STOP": 0x00,
    "SUB": 0x03,
    "EQ": 0x14,
    "ISZERO": 0x15,
    "SHR": 0x1C,
    "CALLDATALOAD": 0x35,
    "CALLDATASIZE": 0x36,
    "CALLDATACOPY": 0x37,
    "CODECOPY": 0x39,
    "TIMESTAMP": 0x42,
    "MSTORE": 0x52,
    "SSTORE": 0x55,
    "JUMPI": 0x57,
    "JUMPDEST": 0x5B,
    "DUP1": 0x80,
    "DUP3": 0x82,
    "LOG2": 0xA2,
    "RETURN": 0xF3,
    "REVERT": 0xFD,
    "INVALID": 0xFE,
}

Instruction = str | tuple[str, int | str]


def assemble(program: list[Instruction]) -> bytes:
    """Two-pass assembler: opcode names, ("PUSH1", int), ("PUSH2", label), ("LABEL", name)."""
    labels: dict[str, int] = {}
    offset = 0
    for item in program:
        if isinstance(item, tuple):
            kind, arg = item
            if kind == "LABEL":
                labels[str(arg)] = offset
                continue
            offset += 1 + int(kind[4:])
        else:
            offset += 1
    out = bytearray()
    for item in program:
        if isinstance(item, tuple):
            kind, arg = item
            if kind == "LABEL":
                continue
            size = int(kind[4:])
            value = labels[arg] if isinstance(arg, str) else arg
            out.append(0x5F + size)
            out += value.to_bytes(size, "big")
        else:
            out.append(_OPCODES[item])
    return bytes(out)


def _dispatch(code: int, label: str) -> list[Instruction]:
    return ["DUP1", ("PUSH1", code), "EQ", ("PUSH2", label), "JUMPI"]


PROBE_RUNTIME = assemble(
    [
        "CALLDATASIZE",
        "ISZERO",
        ("PUSH2", "default"),
        "JUMPI",
        ("PUSH1", 0),
        "CALLDATALOAD",
        ("PUSH1", 0xF8),
        "SHR",
        *_dispatch(1, "revert"),
        *_dispatch(2, "log"),
        *_dispatch(3, "time"),
        *_dispatch(4, "invalid"),
        *_dispatch(5, "store"),
        ("LABEL", "default"),
        "JUMPDEST",
        ("PUSH1", 42),
        ("PUSH1", 0),
        "MSTORE",
        ("PUSH1", 32),
        ("PUSH1", 0),
        "RETURN",
        ("LABEL", "revert"),
        "JUMPDEST",
        ("PUSH1", 1),
        "CALLDATASIZE",
        "SUB",
        "DUP1",
        ("PUSH1", 1),
        ("PUSH1", 0),
        "CALLDATACOPY",
        ("PUSH1", 0),
        "REVERT",
        ("LABEL", "log"),
        "JUMPDEST",
        ("PUSH1", 65),
        "CALLDATASIZE",
        "SUB",
        "DUP1",
        ("PUSH1", 65),
        ("PUSH1", 0),
        "CALLDATACOPY",
        ("PUSH1", 33),
        "CALLDATALOAD",
        ("PUSH1", 1),
        "CALLDATALOAD",
        "DUP3",
        ("PUSH1", 0),
        "LOG2",
        "STOP",
        ("LABEL", "time"),
        "JUMPDEST",
        "TIMESTAMP",
        ("PUSH1", 0),
        "MSTORE",
        ("PUSH1", 32),
        ("PUSH1", 0),
        "RETURN",
        ("LABEL", "invalid"),
        "JUMPDEST",
        "INVALID",
        ("LABEL", "store"),
        "JUMPDEST",
        ("PUSH1", 1),
        "CALLDATALOAD",
        ("PUSH1", 0),
        "SSTORE",
        "STOP",
    ]
)
PROBE_INITCODE = (
    assemble(
        [
            ("PUSH2", len(PROBE_RUNTIME)),
            ("PUSH2", 15),
            ("PUSH1", 0),
            "CODECOPY",
            ("PUSH2", len(PROBE_RUNTIME)),
            ("PUSH1", 0),
            "RETURN",
        ]
    )
    + PROBE_RUNTIME
)
assert len(PROBE_INITCODE) == 15 + len(PROBE_RUNTIME)


def error_string(reason: str) -> bytes:
    """ABI encoding of Solidity's ``Error(string)`` revert."""
    return keccak(text="Error(string)")[:4] + encode(["string"], [reason])


def log_call(topic0: bytes, topic1: bytes, data: bytes = b"") -> bytes:
    """Probe calldata emitting one LOG2."""
    return b"\x02" + topic0 + topic1 + data


# -- web3 helpers ---------------------------------------------------------------------------


def send_tx(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> TxReceipt:
    """Fill, sign locally, send raw, wait for the receipt (plain web3 over HTTP)."""
    full: dict[str, Any] = {"from": account.address, "chainId": w3.eth.chain_id, **tx}
    full.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    full.setdefault("value", 0)
    if "gas" not in full:
        full["gas"] = w3.eth.estimate_gas(full)  # type: ignore[arg-type]
    if "gasPrice" not in full:
        full.setdefault("maxPriorityFeePerGas", w3.eth.max_priority_fee)
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        full.setdefault("maxFeePerGas", 2 * base_fee + full["maxPriorityFeePerGas"])
    signed = account.sign_transaction(full)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def transact(w3: Web3, account: LocalAccount, call: Any, value: int = 0) -> TxReceipt:
    """Build a contract function call into a signed raw transaction; require success."""
    tx = call.build_transaction(
        {
            "from": account.address,
            "value": value,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        }
    )
    signed = account.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30
    )
    assert receipt["status"] == 1, receipt
    return receipt


def rpc_post(url: str, payload: Any, *, raw: bytes | None = None) -> requests.Response:
    """POST a JSON-RPC payload (or raw bytes) and return the HTTP response."""
    body = raw if raw is not None else json.dumps(payload).encode()
    return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def services() -> Iterator[DevnetServices]:
    with start_services(port=0, store_port=0) as running:
        yield running


@pytest.fixture(scope="session")
def probe(services: DevnetServices) -> str:
    """Address of the probe contract (deployed once, before any per-test snapshot)."""
    w3 = Web3(HTTPProvider(services.rpc_url))
    receipt = send_tx(w3, ADMIN.account, {"data": PROBE_INITCODE})
    address = receipt["contractAddress"]
    assert address is not None
    assert bytes(w3.eth.get_code(address)) == PROBE_RUNTIME
    return str(address)


@pytest.fixture
def rpc_url(services: DevnetServices, probe: str) -> Iterator[str]:
    """The served RPC URL; the chain is reverted to its state before the test afterwards."""
    url = services.rpc_url
    snapshot = rpc_post(url, {"jsonrpc": "2.0", "id": 1, "method": "evm_snapshot"}).json()
    yield url
    reverted = rpc_post(
        url,
        {"jsonrpc": "2.0", "id": 2, "method": "evm_revert", "params": [snapshot["result"]]},
    ).json()
    assert reverted["result"] is True


@pytest.fixture
def w3(rpc_url: str) -> Web3:
    return Web3(HTTPProvider(rpc_url))


def contract(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name).abi)


@dataclass(frozen=True)
class LifecycleResult:
    source: str
    task: str
    response: str
    provider_earnings: int
    blocks: tuple[int, int]


def _upload(store_url: str, name: str, document: dict[str, Any]) -> str:
    answer = requests.post(
        f"{store_url}/file/create",
        files={"file": (name, json.dumps(document).encode(), "application/json")},
        timeout=30,
    )
    answer.raise_for_status()
    link = answer.json()["link"]
    fetched = requests.get(link, timeout=30)
    assert fetched.status_code == 200
    assert fetched.json() == document
    return str(link)


def run_lifecycle(w3: Web3, addresses: dict[str, str], store_url: str | None) -> LifecycleResult:
    """publish source -> pair master/provider -> lock -> register -> publish task -> attempt
    -> submit response -> confirm, all as signed raw transactions over HTTP."""
    client, master, provider = CLIENTS[0].account, MASTERS[0].account, PROVIDERS[0].account
    nexus = contract(w3, "Nexus", addresses["nexus"])
    controller = contract(w3, "Controller", addresses["controller"])
    terminal = contract(w3, "Terminal", addresses["terminal"])
    vault = contract(w3, "Vault", addresses["vault"])
    first_block = w3.eth.block_number
    ether = 10**18

    if store_url is not None:
        metadata_url = _upload(
            store_url,
            "metadata.json",
            {
                "cpu": "x",
                "nvidia": "",
                "amd": "",
                "name": "probe",
                "description": "d",
                "logoUrl": "",
            },
        )
        config_url = _upload(store_url, "config.json", {"function_name": "run", "data": {"n": 1}})
        result_url = _upload(store_url, "result.json", {"ok": True})
    else:
        metadata_url = "https://example.invalid/metadata.json"
        config_url = "https://example.invalid/config.json"
        result_url = "https://example.invalid/result.json"

    min_payment = 10**15
    source_params = (
        client.address,
        metadata_url,
        1,  # CPU
        min_payment,
        0,
        3600,
        False,
        "",
        0,  # MANUAL_CONFIRMATION
        0,
    )
    receipt = transact(w3, client, nexus.functions.publishSource(source_params))
    (published,) = nexus.events.SourcePublished().process_receipt(receipt, errors=DISCARD)
    source_address = published["args"]["source"]
    source = contract(w3, "Source", source_address)
    assert source.functions.getStatus().call() == 0
    assert source.functions.getClient().call() == client.address

    announce = 2 * ether
    transact(w3, master, terminal.functions.announceProvider(provider.address, announce), announce)
    transact(w3, provider, terminal.functions.announceMaster(master.address))
    assert terminal.functions.isProvider(provider.address).call() is True
    assert terminal.functions.masterOf(provider.address).call() == master.address

    transact(w3, provider, vault.functions.deposit(provider.address), ether)
    lockup_before = vault.functions.lockupOf(provider.address).call()
    transact(w3, provider, vault.functions.lock(ether))
    assert vault.functions.lockupOf(provider.address).call() == lockup_before + ether

    receipt = transact(w3, provider, nexus.functions.register(source_address, provider.address, 1))
    assert len(nexus.events.Registered().process_receipt(receipt, errors=DISCARD)) == 1
    assert source.functions.getRegistrantId(provider.address).call() >= 1

    payment = 2 * min_payment
    transact(w3, client, vault.functions.deposit(client.address), payment)
    expiry = w3.eth.get_block("latest")["timestamp"] + 1800
    receipt = transact(
        w3, client, controller.functions.publishTask((source_address, config_url, expiry, payment))
    )
    (task_event,) = nexus.events.TaskPublished().process_receipt(receipt, errors=DISCARD)
    assert task_event["args"]["source"] == source_address
    task_address = task_event["args"]["task"]
    task = contract(w3, "Task", task_address)
    assert task.functions.getStatus().call() == 0
    assert vault.functions.frozenPayment(client.address).call() >= payment

    transact(w3, provider, nexus.functions.attempt(task_address, provider.address, payment))
    assert task.functions.getStatus().call() == 1

    receipt = transact(
        w3,
        provider,
        nexus.functions.submitResponse((task_address, provider.address, result_url, payment)),
    )
    (submitted,) = nexus.events.ResponseSubmitted().process_receipt(receipt, errors=DISCARD)
    assert submitted["args"]["task"] == task_address
    response_address = submitted["args"]["response"]
    response = contract(w3, "Response", response_address)
    assert response.functions.getStatus().call() == 0
    assert task.functions.getStatus().call() == 2

    earnings_before = vault.functions.totalEarningsOf(provider.address).call()
    receipt = transact(w3, client, controller.functions.confirmResponse(response_address))
    assert response.functions.getStatus().call() == 1
    assert task.functions.getStatus().call() == 5
    assert task.functions.winningProvider().call() == provider.address
    earnings = vault.functions.totalEarningsOf(provider.address).call() - earnings_before
    assert earnings > 0

    statuses = nexus.events.TaskStatusChanged().get_logs(
        from_block=first_block, to_block=receipt["blockNumber"]
    )
    task_statuses = [
        event["args"]["status"] for event in statuses if event["args"]["task"] == task_address
    ]
    assert task_statuses[-1] == 5
    return LifecycleResult(
        source=source_address,
        task=task_address,
        response=response_address,
        provider_earnings=earnings,
        blocks=(first_block, receipt["blockNumber"]),
    )


class Helpers:
    """The helpers above, handed to tests through the ``h`` fixture."""

    probe_runtime = PROBE_RUNTIME
    probe_initcode = PROBE_INITCODE
    assemble = staticmethod(assemble)
    error_string = staticmethod(error_string)
    log_call = staticmethod(log_call)
    send_tx = staticmethod(send_tx)
    transact = staticmethod(transact)
    rpc_post = staticmethod(rpc_post)
    contract = staticmethod(contract)
    run_lifecycle = staticmethod(run_lifecycle)


@pytest.fixture(scope="session")
def h() -> Helpers:
    return Helpers()
