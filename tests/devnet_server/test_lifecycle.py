"""The whole protocol lifecycle over HTTP with plain web3 and the artifacts' ABIs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3

from ogpu.devnet.serve import DevnetServices

pytestmark = pytest.mark.slow


def test_full_lifecycle_over_http(w3: Web3, services: DevnetServices, h: Any) -> None:
    addresses = json.loads(services.devnet.deployment.to_json())
    result = h.run_lifecycle(w3, addresses, services.store_url)
    assert result.provider_earnings > 0
    first, last = result.blocks
    assert last - first >= 10
    # Everything is reachable through getLogs as well: the three created contracts show up.
    nexus_logs = w3.eth.get_logs(
        {"fromBlock": first, "toBlock": last, "address": addresses["nexus"]}
    )
    data_blob = b"".join(bytes(log["data"]) for log in nexus_logs)
    for created in (result.source, result.task, result.response):
        assert bytes.fromhex(created[2:]) in data_blob
