"""Every deliberate difference from ogpu 0.2.3 (docs/COMPATIBILITY.md), on a real node:
our behaviour, and the documented way to get the official one. (The service's
differences are in tests/service/test_official_compat.py, the params' construction
errors in tests/compat/test_types_compat.py.)"""

from __future__ import annotations

import json
import warnings
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

import pytest

from ogpu.client import (
    Source,
    TaskInfo,
    TaskInput,
    publish_task,
)
from ogpu.devnet.httpbase import BackgroundHTTPServer
from ogpu.devnet.store import parse_multipart
from ogpu.ipfs import default_backend, fetch_ipfs_bytes, fetch_ipfs_json, publish_to_ipfs
from ogpu.ipfs.backends import OGPUPinningBackend
from ogpu.protocol import controller
from ogpu.types import (
    InvalidAddressError,
    IPFSFetchError,
    PaymentTooLowError,
    RawLog,
    TaskExpiredError,
)

if TYPE_CHECKING:
    from conftest import Net

MIN_PAYMENT = 10**15


def test_refusals_come_before_pinning_or_the_protocol_path_sends_them(
    net: Net, source: Source
) -> None:
    # ours: the contract's rules are checked first; nothing is pinned, nothing sent
    with net.nothing_sent(), pytest.raises(PaymentTooLowError) as ours:
        publish_task(net.task_info(source, payment=MIN_PAYMENT - 1), signer=net.client.account)
    assert "raise payment to at least" in str(ours.value)
    late = net.task_info(source, payment=MIN_PAYMENT)
    late.expiryTime = net.now() - 1  # judged by chain time, not the local clock
    with net.nothing_sent(), pytest.raises(TaskExpiredError):
        publish_task(late, signer=net.client.account)
    # the official flow: pin, then let the chain judge (protocol layer, no client checks);
    # the refusal is the node's, decoded from the revert, still before any broadcast
    url = publish_to_ipfs({"function_name": "predict", "data": {}}, "taskConfig.json")
    params = net.task_params(source, config=url, payment=1)
    net.store.reset_counts()
    net.rpc.reset_counts()
    with pytest.raises(PaymentTooLowError) as official:
        controller.publish_task(params, signer=net.client.account)
    assert official.value.reason == "PaymentTooLow"
    assert net.rpc.count("eth_estimateGas") >= 1 and net.rpc.count("eth_sendRawTransaction") == 0


def test_bad_input_is_a_typed_error_that_is_still_a_value_error(net: Net) -> None:
    info = TaskInfo(
        source="0x" + "11" * 20,
        config=TaskInput(function_name="predict", data={}),
        expiryTime=1,
        payment=1,
    )
    info.source = "0x1234"  # what the official SDK hands to web3, which raises a ValueError
    with net.nothing_sent(), pytest.raises(ValueError) as caught:
        publish_task(info, signer=net.client.account)
    assert isinstance(caught.value, InvalidAddressError) and caught.value.param == "source"


def test_receipt_logs_are_decoded_and_the_raw_logs_are_one_call_away(
    net: Net, source: Source
) -> None:
    receipt = controller.publish_task(
        net.task_params(
            source,
            config=publish_to_ipfs({"function_name": "f", "data": {}}),
            payment=MIN_PAYMENT,
        ),
        signer=net.client.account,
    )
    names = [type(log).__name__ for log in receipt.logs]
    assert "TaskPublishedEvent" in names and not any(isinstance(x, RawLog) for x in receipt.logs)
    # official: the raw web3 logs
    from ogpu.chain import Web3Manager

    raw = Web3Manager.get_web3_instance().eth.get_transaction_receipt(receipt.tx_hash)  # type: ignore[arg-type]
    assert len(raw["logs"]) == len(receipt.logs) and "topics" in raw["logs"][0]


class _PinningService(BackgroundHTTPServer):
    """A loopback stand-in for OGPU's ``POST /file/create``, recording each upload's label."""

    def __init__(self) -> None:
        self.labels: list[str | None] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = parse_multipart(body, self.headers["Content-Type"])
                service.labels.append(parts[0].content_type)
                answer = json.dumps({"link": "http://127.0.0.1:1/ipfs/bafy"}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return

        super().__init__("127.0.0.1", 0, Handler, name="pinning-service")


@pytest.mark.slow
def test_a_string_is_labelled_text_unless_told_otherwise() -> None:
    with _PinningService() as server:
        pinning = OGPUPinningBackend(server.url, server.url)
        publish_to_ipfs('{"raw": true}', "note.json", backend=pinning)
        publish_to_ipfs('{"raw": true}', "note.json", "application/json", backend=pinning)
        publish_to_ipfs({"a": 1}, backend=pinning)
    # ours, the official label when asked for, and a dict (JSON either way)
    assert server.labels == ["text/plain; charset=utf-8", "application/json", "application/json"]


def test_the_upload_backend_follows_the_chain_unless_named(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OGPU_IPFS_BACKEND")
    monkeypatch.delenv("OGPU_IPFS_API_URL")
    assert type(default_backend()).__name__ == "DevnetStoreBackend"  # on the devnet chain
    official = default_backend("ogpu")  # OGPU's pinning service, as 0.2.3 always uses
    assert isinstance(official, OGPUPinningBackend)
    assert official.gateway_url == "https://cipfs.ogpuscan.io"
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "ogpu")
    assert isinstance(default_backend(), OGPUPinningBackend)


def test_fetch_json_wants_an_object_within_bounds(net: Net) -> None:
    url = publish_to_ipfs("[1, 2]", "list.json", "application/json")
    with pytest.raises(IPFSFetchError, match="expected an object"):
        fetch_ipfs_json(url)
    assert json.loads(fetch_ipfs_bytes(url)) == [1, 2]  # any JSON value, as 0.2.3 returns
    big = publish_to_ipfs({"blob": "x" * 5000})
    with pytest.raises(IPFSFetchError):
        fetch_ipfs_json(big, max_bytes=1000)
    assert len(fetch_ipfs_json(big, max_bytes=10_000)["blob"]) == 5000


def test_extra_keyword_arguments_warn_unless_silenced(net: Net, source: Source) -> None:
    with pytest.warns(UserWarning, match="nonce"):
        publish_task(net.task_info(source, payment=MIN_PAYMENT), net.client.key_hex, nonce=1)
    from ogpu import IgnoredArgumentsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=IgnoredArgumentsWarning)  # 0.2.3's silence
        task = publish_task(net.task_info(source, payment=MIN_PAYMENT), net.client.key_hex, nonce=2)
    assert task.get_payment() == MIN_PAYMENT
