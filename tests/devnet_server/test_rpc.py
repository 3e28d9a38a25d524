"""JSON-RPC basics over HTTP: plain web3 reads and writes, and JSON-RPC 2.0 framing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from ogpu.devnet import ADMIN, AGENTS, ALL_ACCOUNTS, CLIENTS, DEFAULT_BALANCE_WEI
from ogpu.devnet.serve import DevnetServices
from ogpu.devnet.server import JsonRpcDispatcher, RpcError, parse_quantity


def call(url: str, method: str, params: list[Any] | None = None, request_id: Any = 1) -> Any:
    payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        payload["params"] = params
    answer = requests.post(url, json=payload, timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["jsonrpc"] == "2.0"
    assert body["id"] == request_id
    return body


# -- identity and reads -----------------------------------------------------------------------


def test_chain_identity(w3: Web3, rpc_url: str) -> None:
    assert w3.eth.chain_id == 1337
    assert w3.net.version == "1337"
    assert w3.client_version.startswith("ogpu-devnet/")
    assert w3.eth.syncing is False
    assert w3.is_connected()
    assert call(rpc_url, "net_listening")["result"] is True
    assert (
        call(rpc_url, "web3_sha3", ["0x68656c6c6f"])["result"] == Web3.keccak(b"hello").to_0x_hex()
    )


def test_accounts_are_the_funded_devnet_accounts(w3: Web3) -> None:
    assert w3.eth.accounts == [account.address for account in ALL_ACCOUNTS]
    assert w3.eth.get_balance(AGENTS[2].address) == DEFAULT_BALANCE_WEI
    assert w3.eth.get_balance("0x" + "00" * 19 + "01") == 0


def test_blocks_by_number_and_hash(w3: Web3, services: DevnetServices) -> None:
    number = w3.eth.block_number
    assert number >= 13  # the suite's deployment
    assert number == services.block_number()
    latest = w3.eth.get_block("latest")
    assert latest["number"] == number
    assert w3.eth.get_block(latest["hash"])["number"] == number
    assert w3.eth.get_block(number - 1)["hash"] == latest["parentHash"]
    assert w3.eth.get_block("earliest")["number"] == 0
    assert w3.eth.get_block("pending")["number"] == number + 1
    assert w3.eth.get_block("finalized")["number"] == number
    full = w3.eth.get_block(5, full_transactions=True)
    (tx,) = full["transactions"]
    assert tx["blockNumber"] == 5
    assert tx["from"] == ADMIN.address
    assert w3.eth.get_transaction_by_block(5, 0)["hash"] == tx["hash"]
    assert w3.eth.get_block_transaction_count(5) == 1
    assert latest["logsBloom"] is not None and len(latest["logsBloom"]) == 256


def test_unknown_block_and_transaction_are_null(rpc_url: str, w3: Web3) -> None:
    assert call(rpc_url, "eth_getBlockByNumber", ["0xffffff", False])["result"] is None
    assert call(rpc_url, "eth_getBlockByHash", ["0x" + "ab" * 32, False])["result"] is None
    assert call(rpc_url, "eth_getTransactionByHash", ["0x" + "cd" * 32])["result"] is None
    assert call(rpc_url, "eth_getTransactionReceipt", ["0x" + "cd" * 32])["result"] is None
    body = call(rpc_url, "eth_getBalance", [ADMIN.address, "0xffffff"])
    assert body["error"]["code"] == -32000
    assert "header not found" in body["error"]["message"]


def test_raw_transaction_roundtrip(w3: Web3, h: Any) -> None:
    sender, recipient = CLIENTS[1].account, Account.create()
    nonce = w3.eth.get_transaction_count(sender.address)
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce
    balance = w3.eth.get_balance(sender.address)
    receipt = h.send_tx(w3, sender, {"to": recipient.address, "value": 12345, "gas": 21000})
    assert receipt["status"] == 1
    assert receipt["gasUsed"] == 21000
    assert receipt["from"] == sender.address
    assert w3.eth.get_balance(recipient.address) == 12345
    assert w3.eth.get_transaction_count(sender.address) == nonce + 1
    spent = balance - w3.eth.get_balance(sender.address)
    assert spent == 12345 + 21000 * receipt["effectiveGasPrice"]
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["nonce"] == nonce
    assert tx["value"] == 12345
    assert tx["to"] == recipient.address
    assert tx["chainId"] == 1337
    # history: the balance before the transfer is still readable at the previous block
    assert w3.eth.get_balance(recipient.address, receipt["blockNumber"] - 1) == 0


def test_legacy_transaction_and_gas_price(w3: Web3, h: Any) -> None:
    price = w3.eth.gas_price
    assert price > w3.eth.get_block("pending")["baseFeePerGas"]
    receipt = h.send_tx(
        w3, CLIENTS[2].account, {"to": ADMIN.address, "value": 1, "gasPrice": price}
    )
    assert receipt["status"] == 1
    assert receipt["type"] == 0
    assert receipt["effectiveGasPrice"] == price


def test_block_timestamps_follow_the_clock(w3: Web3, h: Any) -> None:
    import time

    before = int(time.time())
    receipt = h.send_tx(w3, CLIENTS[1].account, {"to": ADMIN.address, "value": 1})
    block = w3.eth.get_block(receipt["blockNumber"])
    assert block["timestamp"] >= before
    assert block["timestamp"] > w3.eth.get_block(receipt["blockNumber"] - 1)["timestamp"]


def test_send_raw_transaction_errors(w3: Web3) -> None:
    sender = CLIENTS[1].account
    nonce = w3.eth.get_transaction_count(sender.address)
    base = {
        "to": ADMIN.address,
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
        "chainId": 1337,
    }
    with pytest.raises(Web3RPCError, match="nonce too high"):
        w3.eth.send_raw_transaction(
            sender.sign_transaction({**base, "nonce": nonce + 5}).raw_transaction
        )
    with pytest.raises(Web3RPCError, match="invalid chain id"):
        signed = sender.sign_transaction({**base, "nonce": nonce, "chainId": 1})
        w3.eth.send_raw_transaction(signed.raw_transaction)
    poor = Account.create()
    with pytest.raises(Web3RPCError, match="insufficient funds"):
        w3.eth.send_raw_transaction(poor.sign_transaction({**base, "nonce": 0}).raw_transaction)
    w3.eth.send_raw_transaction(sender.sign_transaction({**base, "nonce": nonce}).raw_transaction)
    with pytest.raises(Web3RPCError, match="nonce too low"):
        w3.eth.send_raw_transaction(
            sender.sign_transaction({**base, "nonce": nonce}).raw_transaction
        )
    with pytest.raises(Web3RPCError, match="invalid transaction"):
        w3.eth.send_raw_transaction(b"\x02\xc0garbage")


def test_send_transaction_from_unlocked_account(w3: Web3) -> None:
    recipient = Account.create().address
    tx_hash = w3.eth.send_transaction({"from": CLIENTS[0].address, "to": recipient, "value": 7})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert w3.eth.get_balance(recipient) == 7
    with pytest.raises(Web3RPCError, match="unknown account"):
        w3.eth.send_transaction({"from": Account.create().address, "to": recipient, "value": 0})


def test_sign_with_unlocked_account(w3: Web3) -> None:
    signature = w3.eth.sign(ADMIN.address, text="hello devnet")
    recovered = Account.recover_message(encode_defunct(text="hello devnet"), signature=signature)
    assert recovered == ADMIN.address


def test_fee_market_methods(w3: Web3, h: Any) -> None:
    h.send_tx(w3, CLIENTS[0].account, {"to": ADMIN.address, "value": 1})
    assert w3.eth.max_priority_fee == 10**9
    history = w3.eth.fee_history(4, "latest", [25, 75])
    latest = w3.eth.block_number
    assert history["oldestBlock"] == latest - 3
    assert len(history["baseFeePerGas"]) == 5
    assert len(history["gasUsedRatio"]) == 4
    assert len(history["reward"]) == 4
    assert history["baseFeePerGas"][-2] == w3.eth.get_block(latest)["baseFeePerGas"]
    assert history["reward"][-1] == [10**9, 10**9]
    assert history["gasUsedRatio"][-1] > 0


def test_storage_and_code(w3: Web3, probe: str, h: Any) -> None:
    assert bytes(w3.eth.get_code(probe)) == h.probe_runtime
    assert bytes(w3.eth.get_code(ADMIN.address)) == b""
    assert bytes(w3.eth.get_storage_at(probe, 0)) == b"\0" * 32
    value = (0xBEEF).to_bytes(32, "big")
    receipt = h.send_tx(w3, CLIENTS[0].account, {"to": probe, "data": b"\x05" + value})
    assert receipt["status"] == 1
    assert bytes(w3.eth.get_storage_at(probe, 0)) == value
    assert bytes(w3.eth.get_storage_at(probe, 0, receipt["blockNumber"] - 1)) == b"\0" * 32


# -- JSON-RPC 2.0 framing ----------------------------------------------------------------------


def test_batch_with_web3(w3: Web3) -> None:
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_block(1))
        batch.add(w3.eth.get_balance(ADMIN.address))
        batch.add(w3.eth.get_transaction_count(ADMIN.address))
        batch.add(w3.eth.get_block(2))
        results = batch.execute()
    assert [type(result).__name__ for result in results] == [
        "AttributeDict",
        "int",
        "int",
        "AttributeDict",
    ]
    assert results[0]["number"] == 1
    assert results[3]["number"] == 2
    assert results[1] == w3.eth.get_balance(ADMIN.address)
    assert results[2] == w3.eth.get_transaction_count(ADMIN.address)


def test_raw_batch_keeps_order_ids_and_per_item_errors(rpc_url: str) -> None:
    payload = [
        {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 7, "method": "no_such_method"},
        {"jsonrpc": "2.0", "method": "eth_chainId"},  # notification: no answer
        {"jsonrpc": "2.0", "id": None, "method": "eth_getBalance", "params": ["0x12"]},
        42,
        {"jsonrpc": "2.0", "id": 3.5, "method": "eth_blockNumber", "params": []},
    ]
    answer = requests.post(rpc_url, json=payload, timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert [item.get("id") for item in body] == ["a", 7, None, None, 3.5]
    assert body[0]["result"] == "0x539"
    assert body[1]["error"]["code"] == -32601
    assert body[2]["error"]["code"] == -32602
    assert body[3]["error"]["code"] == -32600
    assert body[4]["result"].startswith("0x")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", -32700),
        (b"\xff\xfe", -32700),
        (b"[]", -32600),
        (b'"just a string"', -32600),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {"a": 1}}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["nope"]}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": []}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": [1, 2, 3]}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": null}', 0),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}', -32601),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{"topics": 5}]}',
            -32602,
        ),
    ],
)
def test_error_objects(rpc_url: str, h: Any, raw: bytes, code: int) -> None:
    answer = h.rpc_post(rpc_url, None, raw=raw)
    assert answer.status_code == 200
    body = answer.json()
    if code == 0:
        assert body["result"].startswith("0x")  # "params": null reads as no params
        return
    assert body["jsonrpc"] == "2.0"
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "result" not in body


def test_notification_only_gets_no_content(rpc_url: str) -> None:
    answer = requests.post(rpc_url, json={"jsonrpc": "2.0", "method": "eth_chainId"}, timeout=30)
    assert answer.status_code == 204
    assert answer.content == b""


def test_http_edges(rpc_url: str) -> None:
    assert requests.get(rpc_url, timeout=30).status_code == 405
    options = requests.options(rpc_url, timeout=30)
    assert options.status_code == 204
    assert options.headers["Access-Control-Allow-Origin"] == "*"
    answer = requests.post(
        rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=30
    )
    assert answer.headers["Content-Type"] == "application/json"


def test_body_size_cap(services: DevnetServices) -> None:
    from ogpu.devnet.server import RpcServer

    small = RpcServer(services.dispatcher, "127.0.0.1", 0, max_body=100)
    with small:
        answer = requests.post(
            small.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": ["x" * 200]},
            timeout=30,
        )
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == -32600


def test_quantity_parsing_rejects_bad_values() -> None:
    assert parse_quantity("0x10", "n") == 16
    assert parse_quantity(5, "n") == 5
    for bad in ("10", "0x", "0xzz", -1, True, None, 1.5):
        with pytest.raises(RpcError) as caught:
            parse_quantity(bad, "n")
        assert caught.value.code == -32602


def test_dispatcher_repr_hides_keys(services: DevnetServices) -> None:
    text = repr(services.dispatcher) + str(vars(services.dispatcher).get("_unlocked", {}).keys())
    for account in ALL_ACCOUNTS:
        assert account.key.hex() not in text
    assert isinstance(services.dispatcher, JsonRpcDispatcher)
    assert "eth_getLogs" in services.dispatcher.methods


def test_plain_web3_on_a_second_connection(services: DevnetServices) -> None:
    other = Web3(HTTPProvider(services.rpc_url))
    assert other.eth.chain_id == 1337
    assert json.loads(services.devnet.deployment.to_json())["chain_id"] == 1337


def test_less_common_methods(rpc_url: str, w3: Web3, h: Any) -> None:
    receipt = h.send_tx(w3, CLIENTS[0].account, {"to": ADMIN.address, "value": 1})
    block_hash = receipt["blockHash"].to_0x_hex()
    tx_hash = receipt["transactionHash"].to_0x_hex()
    receipts = call(rpc_url, "eth_getBlockReceipts", [hex(receipt["blockNumber"])])["result"]
    assert [r["transactionHash"] for r in receipts] == [tx_hash]
    assert call(rpc_url, "eth_getBlockReceipts", [block_hash])["result"][0]["status"] == "0x1"
    assert call(rpc_url, "eth_getBlockReceipts", ["0xffffff"])["result"] is None
    by_index = call(rpc_url, "eth_getTransactionByBlockHashAndIndex", [block_hash, "0x0"])
    assert by_index["result"]["hash"] == tx_hash
    assert (
        call(rpc_url, "eth_getTransactionByBlockHashAndIndex", [block_hash, "0x1"])["result"]
        is None
    )
    assert call(rpc_url, "eth_getBlockTransactionCountByHash", [block_hash])["result"] == "0x1"
    assert call(rpc_url, "eth_getUncleCountByBlockHash", [block_hash])["result"] == "0x0"
    assert call(rpc_url, "eth_mining")["result"] is False
    assert call(rpc_url, "eth_coinbase")["result"] == "0x" + "00" * 20
    signature = call(rpc_url, "personal_sign", ["0x6869", ADMIN.address, ""])["result"]
    message = encode_defunct(primitive=b"hi")
    assert Account.recover_message(message, signature=signature) == ADMIN.address
    block_object = {"blockHash": block_hash}
    balance = call(rpc_url, "eth_getBalance", [ADMIN.address, block_object])["result"]
    assert int(balance, 16) == w3.eth.get_balance(ADMIN.address, receipt["blockNumber"])
    assert call(rpc_url, "eth_getBalance", [ADMIN.address, "bogus"])["error"]["code"] == -32602


@pytest.mark.slow
def test_concurrent_clients(rpc_url: str, h: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from ogpu.devnet import MASTERS, PROVIDERS

    senders = [*MASTERS, *PROVIDERS]
    recipient = Account.create().address

    def work(index: int) -> list[int]:
        client = Web3(HTTPProvider(rpc_url))
        account = senders[index].account
        statuses = []
        for _ in range(4):
            receipt = h.send_tx(client, account, {"to": recipient, "value": 1, "gas": 21000})
            statuses.append(receipt["status"])
            assert client.eth.get_block(receipt["blockNumber"])["transactions"]
        return statuses

    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        results = list(pool.map(work, range(len(senders))))
    assert results == [[1, 1, 1, 1]] * len(senders)
    w3 = Web3(HTTPProvider(rpc_url))
    assert w3.eth.get_balance(recipient) == 4 * len(senders)
