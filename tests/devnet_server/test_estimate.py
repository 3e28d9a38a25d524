"""eth_estimateGas: protocol transactions succeed with exactly the estimated gas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS
from ogpu.devnet.serve import DevnetServices

pytestmark = pytest.mark.slow


def _send_with_estimate(w3: Web3, account: LocalAccount, call: Any, value: int = 0) -> TxReceipt:
    tx = call.build_transaction(
        {
            "from": account.address,
            "value": value,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "gas": 30_000_000,
        }
    )
    estimate = w3.eth.estimate_gas(
        {"from": account.address, "to": tx["to"], "data": tx["data"], "value": value}
    )
    tx["gas"] = estimate
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction), timeout=30
    )
    assert receipt["status"] == 1, receipt
    assert receipt["gasUsed"] <= estimate
    return receipt


def test_protocol_calls_succeed_with_exactly_the_estimate(
    w3: Web3, services: DevnetServices, h: Any
) -> None:
    addresses = json.loads(services.devnet.deployment.to_json())
    client, master, provider = CLIENTS[1].account, MASTERS[1].account, PROVIDERS[1].account
    nexus = h.contract(w3, "Nexus", addresses["nexus"])
    controller = h.contract(w3, "Controller", addresses["controller"])
    terminal = h.contract(w3, "Terminal", addresses["terminal"])
    vault = h.contract(w3, "Vault", addresses["vault"])
    ether = 10**18
    min_payment = 10**15
    params = (client.address, "https://x.invalid/m.json", 1, min_payment, 0, 3600, False, "", 0, 0)

    receipt = _send_with_estimate(w3, client, nexus.functions.publishSource(params))
    (published,) = nexus.events.SourcePublished().process_receipt(receipt, errors=DISCARD)
    source = published["args"]["source"]

    h.transact(w3, master, terminal.functions.announceProvider(provider.address, ether), ether)
    h.transact(w3, provider, terminal.functions.announceMaster(master.address))
    h.transact(w3, provider, vault.functions.deposit(provider.address), ether)
    h.transact(w3, provider, vault.functions.lock(ether))
    h.transact(w3, provider, nexus.functions.register(source, provider.address, 1))
    h.transact(w3, client, vault.functions.deposit(client.address), 2 * min_payment)

    expiry = w3.eth.get_block("latest")["timestamp"] + 1800
    task_call = controller.functions.publishTask(
        (source, "https://x.invalid/c.json", expiry, 2 * min_payment)
    )
    receipt = _send_with_estimate(w3, client, task_call)
    (task_event,) = nexus.events.TaskPublished().process_receipt(receipt, errors=DISCARD)
    task = task_event["args"]["task"]

    _send_with_estimate(
        w3, provider, nexus.functions.attempt(task, provider.address, 2 * min_payment)
    )
    response_call = nexus.functions.submitResponse(
        (task, provider.address, "https://x.invalid/r.json", 2 * min_payment)
    )
    receipt = _send_with_estimate(w3, provider, response_call)
    (submitted,) = nexus.events.ResponseSubmitted().process_receipt(receipt, errors=DISCARD)
    assert submitted["args"]["task"] == task
