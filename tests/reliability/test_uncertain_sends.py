"""A send is "rejected" only when the node proves it (issue 16.1), and a malformed answer
on a write path is a typed error (16.2), on ``publish_task`` (``TxExecutor``) and on
``publish_tasks`` (the pipelined engine) alike.

Every request passes ``FaultProxy`` in front of the devnet. Families:

- uncertain: the node accepted the transaction (or may have) and answered an error,
  a bare string, a malformed result or nothing. The SDK settles by the hash (receipt,
  ``eth_getTransactionByHash``, the account's nonce) and publishes exactly once; when
  the hash cannot be settled it raises ``TxMayHaveLandedError`` carrying the hash,
  checked against the chain.
- rejected: a known pre-acceptance rejection (nonce, fee, funds, intrinsic gas, invalid
  sender, gas limit, "already known" naming another hash). Once: the SDK signs again
  and publishes once. Always: the typed error, nothing on chain.
- malformed: ``eth_chainId`` = ``"banana"``, non-hex quantities, ``null``, receipts with
  a malformed ``blockNumber``, ``logs``, ``status``, ``from``: a typed error (``RPCError``
  before the send; after it, ``TxRpcError``, an ``RPCError`` carrying the hash).
"""

from __future__ import annotations

from typing import Any

import pytest

from ogpu.protocol import Source
from ogpu.types import (
    GasError,
    NonceError,
    ReceiptTimeoutError,
    RPCError,
    TxError,
    TxMayHaveLandedError,
    TxRpcError,
)

from ..helpers.proxy import Fault
from .conftest import Net
from .writes import (
    RAW,
    Publish,
    Scenario,
    Step,
    each_publisher,
    on_send,
)

pytestmark = pytest.mark.slow  # minutes: every case publishes through the proxy

OTHER_HASH = "0x" + "ab" * 32

# (id, JSON-RPC code, message): errors a node or gateway answers after accepting a send
UNCERTAIN_ERRORS = [
    ("request-timed-out", -32002, "request timed out"),
    ("internal-error", -32603, "Internal error"),
    ("header-not-found", -32000, "header not found"),
    ("context-deadline", -32000, "context deadline exceeded"),
    ("execution-aborted", -32000, "execution aborted (timeout = 5s)"),
    ("limit-exceeded", -32005, "limit exceeded"),
    ("eof", -32603, "EOF"),
    ("upstream-reset", -32000, "upstream connect error or disconnect/reset before headers"),
    ("server-busy", -32000, "server is busy, retry later"),
    ("no-message", -32603, ""),
]
BARE_ERRORS = [
    ("bare-bad-gateway", "Bad Gateway"),
    ("bare-internal", "internal server error"),
    ("bare-empty", ""),
]
MALFORMED_SEND_RESULTS: list[tuple[str, Any]] = [
    ("null", None),
    ("banana", "banana"),
    ("number", 12345),
    ("object", {"hash": OTHER_HASH}),
    ("list", [OTHER_HASH]),
    ("true", True),
]


def _uncertain() -> list[Scenario]:
    out: list[Scenario] = []
    for name, code, message in UNCERTAIN_ERRORS:
        error = {"code": code, "message": message}
        out += [
            Scenario(
                f"after-{name}",
                f"eth_sendRawTransaction reached the node, answered error {code} "
                f"{message!r} (once)",
                (Step(RAW, Fault.ERROR_AFTER, error),),
                same_bytes=True,
            ),
            on_send(
                f"after-{name}-always",
                f"every eth_sendRawTransaction reached the node and was answered {code} "
                f"{message!r}",
                Fault.ERROR_AFTER,
                {**error, "times": None},
            ),
            Scenario(
                f"before-{name}",
                f"eth_sendRawTransaction answered {code} {message!r} without reaching the "
                "node (once)",
                (Step(RAW, Fault.RPC_ERROR, error),),
                same_bytes=True,
            ),
        ]
    for name, message in BARE_ERRORS:
        out += [
            on_send(
                f"after-{name}",
                f'eth_sendRawTransaction reached the node, answered {{"error": {message!r}}} '
                "(a bare string, once)",
                Fault.ERROR_AFTER,
                {"message": message, "bare": True},
            ),
            on_send(
                f"before-{name}",
                f'eth_sendRawTransaction answered {{"error": {message!r}}} without reaching '
                "the node (once)",
                Fault.RPC_ERROR,
                {"message": message, "bare": True},
            ),
        ]
    for name, result in MALFORMED_SEND_RESULTS:
        out.append(
            on_send(
                f"result-{name}",
                f"eth_sendRawTransaction reached the node, answered result {result!r} (once)",
                Fault.RESULT_AFTER,
                {"result": result},
            )
        )
    out += [
        Scenario(
            "never-reaches-internal-error",
            "every eth_sendRawTransaction answered -32603 'Internal error' without reaching "
            "the node",
            (
                Step(
                    RAW,
                    Fault.RPC_ERROR,
                    {"code": -32603, "message": "Internal error", "times": None},
                ),
            ),
            expect=TxMayHaveLandedError,
            landed=False,
            same_bytes=True,
        ),
        on_send(
            "never-reaches-bare",
            'every eth_sendRawTransaction answered {"error": "Bad Gateway"} without reaching '
            "the node",
            Fault.RPC_ERROR,
            {"message": "Bad Gateway", "bare": True, "times": None},
            expect=TxMayHaveLandedError,
            landed=False,
        ),
        Scenario(
            "landed-lookups-fail",
            "every eth_sendRawTransaction reached the node and was answered -32002 'request "
            "timed out'; every receipt, transaction and nonce lookup answered 'header not "
            "found' (from the first send on)",
            (
                Step(
                    RAW,
                    Fault.ERROR_AFTER,
                    {"code": -32002, "message": "request timed out", "times": None},
                ),
                *(
                    Step(
                        m,
                        Fault.RPC_ERROR,
                        {"message": "header not found", "times": None, "after": RAW},
                    )
                    for m in (
                        "eth_getTransactionReceipt",
                        "eth_getTransactionByHash",
                        "eth_getTransactionCount",
                    )
                ),
            ),
            expect=TxMayHaveLandedError,
            landed=True,
            same_bytes=True,
            receipt_timeout=3.0,  # the window an unsettled send is looked up in
        ),
        Scenario(
            "landed-lookups-lag",
            "eth_sendRawTransaction reached the node and was answered 'context deadline "
            "exceeded'; eth_getTransactionByHash null (always, a lagging replica)",
            (
                Step(RAW, Fault.ERROR_AFTER, {"message": "context deadline exceeded"}),
                Step("eth_getTransactionByHash", Fault.NULL_RESULT, {"times": None}),
            ),
            same_bytes=True,
        ),
        Scenario(
            "after-502-lookups-lag",
            "eth_sendRawTransaction reached the node, answered HTTP 502; the first two "
            "receipt lookups null (a lagging replica)",
            (
                Step(RAW, Fault.HTTP_502_AFTER),
                Step("eth_getTransactionReceipt", Fault.NULL_RESULT, {"times": 2}),
            ),
            same_bytes=True,
        ),
    ]
    return out


# (id, message, error when it lasts, exact class): known pre-acceptance rejections
REJECTIONS: list[tuple[str, str, type[TxError]]] = [
    ("nonce-too-low", "nonce too low: next nonce 9, tx nonce 3", NonceError),
    ("nonce-too-high", "nonce too high", NonceError),
    ("replacement-underpriced", "replacement transaction underpriced", NonceError),
    ("already-known-other", f"already known: {OTHER_HASH}", NonceError),
    ("underpriced", "transaction underpriced", GasError),
    ("below-base-fee", "max fee per gas less than block base fee", GasError),
    ("insufficient-funds", "insufficient funds for gas * price + value", GasError),
    ("intrinsic-gas", "intrinsic gas too low", TxError),
    ("invalid-sender", "invalid sender", TxError),
    ("block-gas-limit", "exceeds block gas limit", TxError),
    ("oversized", "oversized data", TxError),
    ("invalid-chain-id", "invalid chain id for signer", TxError),
]
_FINAL_AT_ONCE = {
    "insufficient-funds",
    "intrinsic-gas",
    "invalid-sender",
    "block-gas-limit",
    "oversized",
    "invalid-chain-id",
}


def _rejected() -> list[Scenario]:
    out: list[Scenario] = []
    for name, message, error in REJECTIONS:
        final = name in _FINAL_AT_ONCE
        out += [
            Scenario(
                f"rejected-{name}",
                f"eth_sendRawTransaction refused {message!r} without reaching the node (once)",
                (Step(RAW, Fault.RPC_ERROR, {"message": message}),),
                expect=error if final else None,
                exact=True,
            ),
            Scenario(
                f"rejected-{name}-always",
                f"every eth_sendRawTransaction refused {message!r}",
                (Step(RAW, Fault.RPC_ERROR, {"message": message, "times": None}),),
                expect=error,
                exact=True,
            ),
        ]
    out.append(
        on_send(
            "already-known-own-hash-never-sent",
            "every eth_sendRawTransaction answered 'already known' (about its own bytes) "
            "without reaching the node; receipt_timeout 1s",
            Fault.RPC_ERROR,
            {"message": "already known", "times": None},
            expect=ReceiptTimeoutError,
            landed=False,
            receipt_timeout=1.0,
        )
    )
    return out


MALFORMED_BEFORE: list[tuple[str, str, dict[str, Any]]] = [
    ("chain-id-banana", "eth_chainId", {"result": "banana"}),
    ("chain-id-null", "eth_chainId", {"result": None}),
    ("chain-id-list", "eth_chainId", {"result": ["0x539"]}),
    ("chain-id-negative", "eth_chainId", {"result": -1}),
    ("estimate-banana", "eth_estimateGas", {"result": "banana"}),
    ("estimate-null", "eth_estimateGas", {"result": None}),
    ("estimate-object", "eth_estimateGas", {"result": {"gas": 1}}),
    ("block-banana", "eth_getBlockByNumber", {"result": "banana"}),
    ("block-timestamp-banana", "eth_getBlockByNumber", {"patch": {"timestamp": "banana"}}),
    ("block-base-fee-null", "eth_getBlockByNumber", {"patch": {"baseFeePerGas": None}}),
]
MALFORMED_RECEIPTS: list[tuple[str, dict[str, Any]]] = [
    ("block-number-banana", {"patch": {"blockNumber": "banana"}}),
    ("block-number-list", {"patch": {"blockNumber": [1]}}),
    ("logs-banana", {"patch": {"logs": "banana"}}),
    ("logs-null", {"patch": {"logs": None}}),
    ("log-without-topics", {"patch": {"logs": [{"address": "0x" + "11" * 20, "data": "0x"}]}}),
    ("log-short-address", {"patch": {"logs": [{"address": "0x1234", "topics": [], "data": "0x"}]}}),
    (
        "log-topic-banana",
        {"patch": {"logs": [{"address": "0x" + "11" * 20, "topics": ["banana"], "data": "0x"}]}},
    ),
    ("status-banana", {"patch": {"status": "banana"}}),
    ("gas-used-null", {"patch": {"gasUsed": None}}),
    ("from-banana", {"patch": {"from": "banana"}}),
    ("tx-hash-number", {"patch": {"transactionHash": 5}}),
    ("receipt-banana", {"result": "banana"}),
    ("receipt-list", {"result": [1, 2]}),
]


def _malformed() -> list[Scenario]:
    out = [
        Scenario(
            f"malformed-{name}",
            f"{method} answered {options!r} (always)",
            (Step(method, Fault.RESULT_AFTER, {**options, "times": None}),),
            expect=RPCError,
        )
        for name, method, options in MALFORMED_BEFORE
    ]
    out += [
        Scenario(
            f"malformed-receipt-{name}",
            f"eth_getTransactionReceipt answered {options!r} (always)",
            (Step("eth_getTransactionReceipt", Fault.RESULT_AFTER, {**options, "times": None}),),
            expect=TxRpcError,
            landed=True,
            same_bytes=True,
            receipt_timeout=5.0,
        )
        for name, options in MALFORMED_RECEIPTS
    ]
    out += [
        Scenario(
            "malformed-receipt-once",
            "eth_getTransactionReceipt answered a receipt whose blockNumber is 'banana' "
            "(twice, then the node recovers)",
            (
                Step(
                    "eth_getTransactionReceipt",
                    Fault.RESULT_AFTER,
                    {"patch": {"blockNumber": "banana"}, "times": 2},
                ),
            ),
        ),
        Scenario(
            "malformed-priority-fee",
            "eth_maxPriorityFeePerGas answered 'banana' (always; the fallback fee is used)",
            (
                Step(
                    "eth_maxPriorityFeePerGas",
                    Fault.RESULT_AFTER,
                    {"result": "banana", "times": None},
                ),
            ),
        ),
        Scenario(
            "malformed-lookup-after-drop",
            "the eth_sendRawTransaction answer was lost after it reached the node; "
            "eth_getTransactionByHash answered 'banana' (always)",
            (
                Step(RAW, Fault.DROP_AFTER),
                Step(
                    "eth_getTransactionByHash",
                    Fault.RESULT_AFTER,
                    {"result": "banana", "times": None},
                ),
            ),
            same_bytes=True,
        ),
        Scenario(
            "malformed-nonce-in-lookup",
            "eth_sendRawTransaction answered 'Internal error' after reaching the node; "
            "eth_getTransactionCount answered 'banana' in the lookups",
            (
                Step(RAW, Fault.ERROR_AFTER, {"code": -32603, "message": "Internal error"}),
                Step(
                    "eth_getTransactionCount",
                    Fault.RESULT_AFTER,
                    {"result": "banana", "times": None, "after": RAW},
                ),
            ),
            same_bytes=True,
        ),
    ]
    return out


#: (scenario, the area its row is recorded under): uncertain, rejected, malformed
CASES = [
    *((s, "uncertain") for s in _uncertain() + _rejected()),
    *((s, "malformed writes") for s in _malformed()),
]


@each_publisher
@pytest.mark.parametrize(("scenario", "area"), CASES, ids=[s.id for s, _ in CASES])
def test_a_write_ends_as_its_scenario_says(
    net: Net,
    source: Source,
    short_timeout: None,
    scenario: Scenario,
    area: str,
    row: Any,
    publish: Publish,
) -> None:
    """Uncertain: settled by the hash, published once or TxMayHaveLandedError with it.
    Rejected: signed again and published once, or the typed error and nothing on chain.
    Malformed: a typed error. (``scenario.expect``; checks in ``writes.py``.)"""
    publish(net, source, scenario, row, area=area)
