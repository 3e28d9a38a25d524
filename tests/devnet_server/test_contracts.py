"""Calls, reverts with data, logs, filters and devnet time controls, against real contracts."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    Web3RPCError,
)

from ogpu.devnet import ADMIN, CLIENTS, PROVIDERS
from ogpu.devnet.serve import DevnetServices

TOPIC_A = keccak(text="Alpha(uint256)")
TOPIC_B = keccak(text="Beta(uint256)")


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


# -- eth_call and revert data ----------------------------------------------------------------------


def test_call_returns_data(w3: Web3, probe: str) -> None:
    assert bytes(w3.eth.call({"to": probe})) == word(42)
    assert bytes(w3.eth.call({"to": probe, "data": "0x"}, "latest")) == word(42)
    # no "from": the zero address calls, without needing funds
    result = w3.eth.call({"to": probe, "data": b"\x03"})
    assert int.from_bytes(result, "big") >= w3.eth.get_block("latest")["timestamp"]


def test_call_at_a_past_block(w3: Web3, probe: str, h: Any) -> None:
    receipt = h.send_tx(w3, CLIENTS[0].account, {"to": probe, "data": b"\x05" + word(9)})
    before = receipt["blockNumber"] - 1
    deployment_block = w3.eth.get_block(before)
    assert deployment_block["number"] == before
    assert bytes(w3.eth.get_storage_at(probe, 0, before)) == word(0)
    # a contract that did not exist yet answers empty
    assert bytes(w3.eth.call({"to": probe}, 0)) == b""


def test_revert_with_reason_raises_contract_logic_error(w3: Web3, probe: str, h: Any) -> None:
    payload = h.error_string("NotOwner")
    with pytest.raises(ContractLogicError) as caught:
        w3.eth.call({"to": probe, "data": b"\x01" + payload})
    assert caught.value.message == "execution reverted: NotOwner"
    assert caught.value.data == "0x" + payload.hex()
    with pytest.raises(ContractLogicError, match="NotOwner"):
        w3.eth.estimate_gas({"to": probe, "data": b"\x01" + payload, "from": ADMIN.address})


def test_revert_error_object_shape(rpc_url: str, probe: str, h: Any) -> None:
    payload = h.error_string("Expired")
    body = h.rpc_post(
        rpc_url,
        {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "eth_call",
            "params": [{"to": probe, "data": "0x01" + payload.hex()}, "latest"],
        },
    ).json()
    assert body["id"] == 9
    assert body["error"] == {
        "code": 3,
        "message": "execution reverted: Expired",
        "data": "0x" + payload.hex(),
    }
    body = h.rpc_post(
        rpc_url,
        {
            "jsonrpc": "2.0",
            "id": 10,
            "method": "eth_call",
            "params": [{"to": probe, "data": "0x01"}],
        },
    ).json()
    assert body["error"]["code"] == -32000
    assert body["error"]["message"] == "execution reverted"
    assert "data" not in body["error"]


def test_custom_error_and_panic(w3: Web3, probe: str) -> None:
    custom = keccak(text="OwnableUnauthorizedAccount(address)")[:4] + encode(
        ["address"], [ADMIN.address]
    )
    with pytest.raises(ContractCustomError) as caught:
        w3.eth.call({"to": probe, "data": b"\x01" + custom})
    assert caught.value.data == "0x" + custom.hex()
    panic = keccak(text="Panic(uint256)")[:4] + word(0x11)
    with pytest.raises(ContractPanicError, match="underflow or overflow"):
        w3.eth.call({"to": probe, "data": b"\x01" + panic})
    with pytest.raises(ContractLogicError, match="execution reverted"):
        w3.eth.call({"to": probe, "data": b"\x01"})


def test_invalid_opcode_is_a_server_error(w3: Web3, probe: str) -> None:
    with pytest.raises(Web3RPCError, match="invalid opcode"):
        w3.eth.call({"to": probe, "data": b"\x04"})


def test_real_contract_revert_reason_and_custom_error(w3: Web3, services: DevnetServices) -> None:
    vault = w3.eth.contract(address=services.devnet.deployment.vault, abi=_abi("Vault"))
    with pytest.raises(ContractLogicError) as caught:
        vault.functions.withdraw(10**18).call({"from": PROVIDERS[2].address})
    assert caught.value.message == "execution reverted: InsufficientBalance"
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        vault.functions.withdraw(10**18).build_transaction({"from": PROVIDERS[2].address})
    nexus = w3.eth.contract(address=services.devnet.deployment.nexus, abi=_abi("Nexus"))
    with pytest.raises(ContractCustomError) as custom:
        nexus.functions.transferOwnership(CLIENTS[0].address).call({"from": CLIENTS[0].address})
    selector = keccak(text="OwnableUnauthorizedAccount(address)")[:4]
    assert str(custom.value.data).startswith("0x" + selector.hex())


def test_reverted_transaction_is_mined_with_status_zero(w3: Web3, probe: str, h: Any) -> None:
    receipt = h.send_tx(
        w3, CLIENTS[0].account, {"to": probe, "data": b"\x01" + h.error_string("x"), "gas": 100_000}
    )
    assert receipt["status"] == 0
    assert receipt["logs"] == []


def test_estimate_gas_is_enough(w3: Web3, probe: str, h: Any) -> None:
    data = h.log_call(TOPIC_A, word(1), b"payload" * 20)
    estimate = w3.eth.estimate_gas({"from": CLIENTS[0].address, "to": probe, "data": data})
    assert estimate > 21000
    receipt = h.send_tx(w3, CLIENTS[0].account, {"to": probe, "data": data, "gas": estimate})
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= estimate
    with pytest.raises(Web3RPCError, match="gas required exceeds allowance"):
        w3.eth.estimate_gas({"from": CLIENTS[0].address, "to": probe, "data": data, "gas": 21_500})


def _abi(name: str) -> Any:
    from ogpu.devnet import load_artifact

    return load_artifact(name).abi


# -- logs --------------------------------------------------------------------------------


def _emit(w3: Web3, h: Any, probe: str, topic0: bytes, topic1: bytes, data: bytes = b"") -> Any:
    receipt = h.send_tx(
        w3, CLIENTS[0].account, {"to": probe, "data": h.log_call(topic0, topic1, data)}
    )
    assert receipt["status"] == 1
    return receipt


def test_get_logs_filters(w3: Web3, probe: str, h: Any) -> None:
    start = w3.eth.block_number + 1
    r1 = _emit(w3, h, probe, TOPIC_A, word(1), b"one")
    r2 = _emit(w3, h, probe, TOPIC_B, word(2), b"two")
    r3 = _emit(w3, h, probe, TOPIC_A, word(3), b"three")
    end = w3.eth.block_number

    everything = w3.eth.get_logs({"fromBlock": start, "toBlock": end})
    assert [bytes(log["data"]) for log in everything] == [b"one", b"two", b"three"]
    first = everything[0]
    assert first["address"] == probe
    assert first["topics"] == [TOPIC_A, word(1)]
    assert first["blockNumber"] == r1["blockNumber"]
    assert first["transactionHash"] == r1["transactionHash"]
    assert first["logIndex"] == 0
    assert first["removed"] is False
    # the receipt's logs are the same objects
    assert r1["logs"][0]["logIndex"] == 0
    assert r1["logs"][0]["topics"] == first["topics"]

    by_topic = w3.eth.get_logs({"fromBlock": start, "toBlock": end, "topics": [TOPIC_A]})
    assert [bytes(log["data"]) for log in by_topic] == [b"one", b"three"]
    either = w3.eth.get_logs(
        {"fromBlock": start, "toBlock": "latest", "topics": [[TOPIC_A, TOPIC_B], word(2)]}
    )
    assert [bytes(log["data"]) for log in either] == [b"two"]
    second_only = w3.eth.get_logs({"fromBlock": start, "topics": [None, word(3)]})
    assert [bytes(log["data"]) for log in second_only] == [b"three"]
    assert w3.eth.get_logs({"fromBlock": start, "topics": [None, None, None]}) == []
    assert w3.eth.get_logs({"fromBlock": start, "address": ADMIN.address}) == []
    assert len(w3.eth.get_logs({"fromBlock": start, "address": [ADMIN.address, probe]})) == 3
    by_hash = w3.eth.get_logs({"blockHash": r2["blockHash"]})
    assert [bytes(log["data"]) for log in by_hash] == [b"two"]
    assert [bytes(log["data"]) for log in w3.eth.get_logs({"address": probe})] == [b"three"]
    assert r3["blockNumber"] == end


def test_get_logs_bad_ranges(rpc_url: str, w3: Web3, h: Any) -> None:
    head = w3.eth.block_number
    for spec, code in (
        ({"fromBlock": hex(head), "toBlock": hex(head - 1)}, -32602),
        ({"blockHash": "0x" + "11" * 32}, -32000),
        ({"blockHash": w3.eth.get_block(1)["hash"].to_0x_hex(), "fromBlock": "0x1"}, -32602),
        ({"address": "0x1234"}, -32602),
        ({"topics": ["0x12"]}, -32602),
    ):
        body = h.rpc_post(
            rpc_url, {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [spec]}
        ).json()
        assert body["error"]["code"] == code, spec
    future = {"fromBlock": hex(head + 100), "toBlock": hex(head + 200)}
    body = h.rpc_post(
        rpc_url, {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [future]}
    ).json()
    assert body["result"] == []


def test_log_filter_changes_and_all_entries(w3: Web3, probe: str, h: Any) -> None:
    before = _emit(w3, h, probe, TOPIC_A, word(10), b"old")
    log_filter = w3.eth.filter(
        {"address": probe, "topics": [TOPIC_A], "fromBlock": before["blockNumber"]}
    )
    assert log_filter.get_new_entries() == []
    _emit(w3, h, probe, TOPIC_A, word(11), b"new-1")
    _emit(w3, h, probe, TOPIC_B, word(12), b"other")
    _emit(w3, h, probe, TOPIC_A, word(13), b"new-2")
    assert [bytes(e["data"]) for e in log_filter.get_new_entries()] == [b"new-1", b"new-2"]
    assert log_filter.get_new_entries() == []
    assert [bytes(e["data"]) for e in log_filter.get_all_entries()] == [b"old", b"new-1", b"new-2"]
    assert w3.eth.uninstall_filter(log_filter.filter_id) is True
    assert w3.eth.uninstall_filter(log_filter.filter_id) is False
    with pytest.raises(Web3RPCError, match="filter not found"):
        w3.eth.get_filter_changes(log_filter.filter_id)


def test_block_filter(w3: Web3, h: Any) -> None:
    block_filter = w3.eth.filter("latest")
    assert block_filter.get_new_entries() == []
    r1 = h.send_tx(w3, CLIENTS[0].account, {"to": ADMIN.address, "value": 1})
    r2 = h.send_tx(w3, CLIENTS[0].account, {"to": ADMIN.address, "value": 1})
    assert block_filter.get_new_entries() == [r1["blockHash"], r2["blockHash"]]
    pending = w3.eth.filter("pending")
    assert pending.get_new_entries() == []
    with pytest.raises(Web3RPCError, match="not a log filter"):
        w3.eth.get_filter_logs(block_filter.filter_id)


# -- devnet controls ----------------------------------------------------------------------


def test_increase_time_and_mine(w3: Web3, probe: str, rpc_url: str, h: Any) -> None:
    start = w3.eth.get_block("latest")
    offset = w3.provider.make_request("evm_increaseTime", [3600])["result"]
    assert offset >= 3600
    assert w3.provider.make_request("evm_mine", [])["result"] == "0x0"
    mined = w3.eth.get_block("latest")
    assert mined["number"] == start["number"] + 1
    assert mined["timestamp"] >= start["timestamp"] + 3600
    assert int.from_bytes(w3.eth.call({"to": probe, "data": b"\x03"}), "big") >= mined["timestamp"]
    # the offset keeps applying to transactions
    before = int(time.time())
    receipt = h.send_tx(w3, CLIENTS[0].account, {"to": ADMIN.address, "value": 1})
    assert w3.eth.get_block(receipt["blockNumber"])["timestamp"] >= before + 3600
    w3.provider.make_request("evm_mine", [{"blocks": 3}])
    assert w3.eth.block_number == receipt["blockNumber"] + 3
    target = w3.eth.get_block("latest")["timestamp"] + 86400
    w3.provider.make_request("evm_mine", [target])
    assert w3.eth.get_block("latest")["timestamp"] == target
    bad = h.rpc_post(
        rpc_url, {"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": [hex(target - 10)]}
    ).json()
    assert bad["error"]["code"] == -32602


def test_snapshot_and_revert(w3: Web3, h: Any) -> None:
    recipient = "0x" + "77" * 20
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    head = w3.eth.block_number
    receipt = h.send_tx(w3, CLIENTS[0].account, {"to": recipient, "value": 5})
    inner = w3.provider.make_request("evm_snapshot", [])["result"]
    h.send_tx(w3, CLIENTS[0].account, {"to": recipient, "value": 5})
    assert w3.eth.get_balance(recipient) == 10
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    assert w3.eth.block_number == head
    assert w3.eth.get_balance(recipient) == 0
    assert w3.eth.get_transaction_receipt is not None
    assert (
        w3.provider.make_request(
            "eth_getTransactionReceipt", [receipt["transactionHash"].to_0x_hex()]
        )["result"]
        is None
    )
    # reverting consumed the snapshot and every later one
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is False
    assert w3.provider.make_request("evm_revert", [inner])["result"] is False
    # the chain continues normally afterwards
    assert h.send_tx(w3, CLIENTS[0].account, {"to": recipient, "value": 3})["status"] == 1
    assert w3.eth.get_balance(recipient) == 3


def test_deployment_addresses_hold_code(w3: Web3, services: DevnetServices) -> None:
    addresses = json.loads(services.devnet.deployment.to_json())
    for name in ("nexus", "controller", "terminal", "vault", "manager"):
        assert len(w3.eth.get_code(addresses[name])) > 100, name
