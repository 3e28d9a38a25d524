"""The ``publish`` op: N tasks from one key, by the SDK's publish_task loop, its publish_tasks
pipeline, or the hand-written web3.py floor."""

from __future__ import annotations

import json
import time
from typing import Any

from worker_base import State, load_abi, need, norm_hash

# -- publish_task ---------------------------------------------------------------------------


def _publish_floor(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """Hand-written pipeline: uploads in parallel, one batch of sends, one batch of receipts."""
    from concurrent.futures import ThreadPoolExecutor

    from eth_account import Account

    w3 = state.w3
    account = Account.from_key(cmd["key"])
    count, tag = int(cmd["count"]), str(cmd["tag"])
    controller = w3.eth.contract(
        w3.to_checksum_address(state.contracts["controller"]), abi=load_abi(state, "Controller")
    )
    nexus = w3.eth.contract(
        w3.to_checksum_address(state.contracts["nexus"]), abi=load_abi(state, "Nexus")
    )
    source = w3.to_checksum_address(cmd["source"])
    expiry = int(time.time()) + 3600
    url = state.store.rstrip("/") + "/file/create"

    def upload(i: int) -> str:
        body = json.dumps({"function_name": "bench", "data": {"i": i, "tag": tag}})
        answer = state.session.post(url, files={"file": ("taskConfig.json", body)}, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["link"])

    started = time.perf_counter()
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_transaction_count(account.address, "pending"))
        batch.add(w3.eth.gas_price)
        nonce, gas_price = batch.execute()
    with ThreadPoolExecutor(8) as pool:
        links = list(pool.map(upload, range(count)))
    payment = int(cmd["payment"])
    calls = [controller.functions.publishTask((source, link, expiry, payment)) for link in links]
    gas = int(calls[0].estimate_gas({"from": account.address}) * 1.2)
    raws = []
    for i, call in enumerate(calls):
        tx = call.build_transaction(
            {
                "from": account.address,
                "nonce": nonce + i,
                "gas": gas,
                "gasPrice": gas_price,
                "chainId": state.chain_id,
            }
        )
        raws.append("0x" + bytes(account.sign_transaction(tx).raw_transaction).hex())
    sent = w3.provider.make_batch_request([("eth_sendRawTransaction", [raw]) for raw in raws])
    hashes = [r["result"] for r in sent if "result" in r]
    errors = [str(r["error"]) for r in sent if "error" in r]
    receipts = w3.provider.make_batch_request([("eth_getTransactionReceipt", [h]) for h in hashes])
    topic = "0x" + norm_hash(w3.keccak(text="TaskPublished(address,address)"))
    addresses = []
    for answer in receipts:
        receipt = answer.get("result") or {}
        if int(receipt.get("status", "0x0"), 16) != 1:
            errors.append("receipt missing or failed")
            continue
        for log in receipt["logs"]:
            if (
                log["topics"]
                and log["topics"][0].lower() == topic
                and (log["address"].lower() == nexus.address.lower())
            ):
                addresses.append("0x" + log["data"][26:66])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "published": len(addresses),
        "unique": len(set(addresses)),
        "errors": errors[:5],
        "n_errors": len(errors),
    }


def op_publish(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    if state.side == "web3":
        return _publish_floor(state, cmd)
    client = need("ogpu.client", "publish_task", "TaskInfo", "TaskInput")
    count, tag, key = int(cmd["count"]), str(cmd["tag"]), str(cmd["key"])
    concurrency = int(cmd.get("concurrency", 1))
    expiry = int(time.time()) + 3600

    def info(i: int) -> Any:
        return client.TaskInfo(
            source=cmd["source"],
            config=client.TaskInput(function_name="bench", data={"i": i, "tag": tag}),
            expiryTime=expiry,
            payment=int(cmd["payment"]),
        )

    def one(i: int) -> str:
        return str(client.publish_task(info(i), private_key=key).address)

    addresses: list[str] = []
    errors: list[str] = []
    if cmd.get("mode") == "many" and state.side == "ours":
        # the pipelined path: every check first, then batched estimates, sends and receipts
        publish_tasks = need("ogpu.client", "publish_tasks").publish_tasks
        infos = [info(i) for i in range(count)]
        started = time.perf_counter()
        try:
            addresses = [str(t.address) for t in publish_tasks(infos, private_key=key)]
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        return _published(time.perf_counter() - started, addresses, errors)

    def guarded(i: int) -> None:
        try:
            addresses.append(one(i))
        except Exception as exc:  # recorded, the run continues
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    started = time.perf_counter()
    if concurrency <= 1:
        for i in range(count):
            guarded(i)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(guarded, range(count)))
    return _published(time.perf_counter() - started, addresses, errors)


def _published(seconds: float, addresses: list[str], errors: list[str]) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "published": len(addresses),
        "unique": len({a.lower() for a in addresses}),
        "errors": errors[:5],
        "n_errors": len(errors),
    }
