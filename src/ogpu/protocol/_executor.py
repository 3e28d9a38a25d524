"""``TxExecutor``: build, preflight, sign, broadcast and confirm one transaction.

Pipeline (RPCs in brackets):

1. build: chain id (once per Web3) [eth_chainId]; gas [eth_estimateGas] and
   fees [eth_getBlockByNumber, eth_maxPriorityFeePerGas; eth_gasPrice on
   chains without a base fee] in one JSON-RPC batch; gas limit = estimate
   times ``GAS_MARGIN``. The estimate is the preflight: a revert surfaces
   here, as a typed error, before anything is signed or sent.
2. under the account's lock: reserve a nonce [eth_getTransactionCount, first
   use only], sign locally, compute the hash locally, broadcast
   [eth_sendRawTransaction]. The lock keeps one account's broadcasts in
   nonce order.
3. wait for the receipt [eth_getTransactionReceipt + eth_getBlockByNumber
   "latest" in one JSON-RPC batch, polled; the first poll rides in the
   broadcast's batch, so a node that mines on arrival costs no poll]; the block time comes from that
   latest block when it is the receipt's block (same hash), else from one more
   [eth_getBlockByNumber]. A status-0 receipt is replayed as an ``eth_call`` at
   its block to recover the revert reason.

Failures before a broadcast (nonce too low/high, underpriced, transient
transport errors) are retried up to ``max_retries`` times. When a broadcast
gets no answer its outcome is unknown: the executor looks the locally
computed hash up and re-sends only the same signed bytes (a node that
already has them answers "already known", which counts as sent); it never
signs a second transaction for the same operation. If the outcome stays
unknown it raises ``TxMayHaveLandedError`` carrying the hash.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from ogpu_bindings.runtime import TxRequest

from ogpu.chain import rpc
from ogpu.chain.config import ChainConfig
from ogpu.chain.nonce import NonceManager
from ogpu.chain.signer import resolve_signer
from ogpu.protocol import _bindings as b
from ogpu.protocol import _deadline
from ogpu.protocol._revert import decode_failure
from ogpu.types.errors import (
    ChainNotSupportedError,
    GasError,
    InvalidInputError,
    InvalidParamsError,
    NonceError,
    OGPUError,
    RPCError,
    TxError,
    TxMayHaveLandedError,
    TxReceiptTimeoutError,
    TxRpcError,
)
from ogpu.types.receipt import RawLog, Receipt

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3
    from web3.contract import Contract

#: Gas limit = estimate * GAS_MARGIN (rounded up).
GAS_MARGIN = 1.2
#: Seconds to wait for a receipt before ``ReceiptTimeoutError``.
DEFAULT_RECEIPT_TIMEOUT = 120.0
#: First and largest pause between receipt polls, in seconds.
POLL_INTERVAL = (0.02, 1.0)
#: Priority fee used when the node has no ``eth_maxPriorityFeePerGas``.
FALLBACK_PRIORITY_FEE = 1_000_000_000
_RETRY_PAUSE = 0.05
# Stage timings for ``ogpu.set_verbose()``; hashes, nonces and blocks only, never keys.
logger = logging.getLogger("ogpu.tx")

_chain_ids: weakref.WeakKeyDictionary[Web3, int] = weakref.WeakKeyDictionary()
_chain_ids_lock = threading.Lock()


@dataclass(frozen=True)
class _Target:
    to: str
    data: bytes
    value: int
    contract: str | None
    function: str | None
    args: tuple[Any, ...]
    context: str


def target_of(request: TxRequest, context: str | None = None) -> _Target:
    """What ``_send`` needs of a generated ``TxRequest``. No RPC."""
    return _Target(
        to=request.to,
        data=bytes(request.data),
        value=request.value,
        contract=request.contract,
        function=request.function,
        args=tuple(request.args),
        context=context or f"{request.contract}.{request.function}",
    )


def _is_transient(exc: rpc.NodeError) -> bool:
    text = exc.message.lower()
    return any(
        marker in text
        for marker in ("rate limit", "too many requests", "timeout", "temporarily", "try again")
    )


def _with_retries(w3: Web3, method: str, params: list[Any], retries: int) -> Any:
    """One request; transient failures are retried (never used for broadcasts)."""
    for attempt in range(retries + 1):
        try:
            return rpc.request(w3, method, params)
        except rpc.TransportError as exc:
            if attempt >= retries:
                raise b.rpc_error(exc) from None
        except rpc.NodeError as exc:
            if attempt >= retries or not _is_transient(exc):
                raise b.rpc_error(exc) from None
        time.sleep(_RETRY_PAUSE * (2**attempt))
    raise AssertionError("unreachable")


def chain_id_of(w3: Web3, retries: int = 3) -> int:
    """The node's chain id, cached per Web3 instance. One RPC the first time.

    Raises:
        ChainNotSupportedError: the node serves another chain than the active one.
        RPCError: the node cannot be reached.
    """
    cached = _chain_ids.get(w3)
    if cached is None:
        cached = rpc.to_int(_with_retries(w3, "eth_chainId", [], retries))
        with _chain_ids_lock:
            _chain_ids[w3] = cached
    expected = int(ChainConfig.get_current_chain())
    if cached != expected:
        raise ChainNotSupportedError(
            message=f"the RPC node serves chain id {cached}, but the active chain is {expected}",
            chain_id=cached,
        )
    return cached


def _fee_fields(w3: Web3, block: Any, tip: Any, retries: int, bump: int) -> dict[str, int]:
    """EIP-1559 fields when the block has a base fee, else a legacy gas price;
    ``bump`` raises them by 25% per step."""
    base = block.get("baseFeePerGas") if isinstance(block, Mapping) else None
    factor_num, factor_den = 5**bump, 4**bump
    if base is not None:
        priority = rpc.to_int(tip) if isinstance(tip, (int, str)) else FALLBACK_PRIORITY_FEE
        priority = priority * factor_num // factor_den
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * rpc.to_int(base) + priority}
    price = rpc.to_int(_with_retries(w3, "eth_gasPrice", [], retries))
    return {"gasPrice": price * factor_num // factor_den}


def _fees(w3: Web3, retries: int, bump: int) -> dict[str, int]:
    block = _with_retries(w3, "eth_getBlockByNumber", ["latest", False], retries)
    try:
        tip: Any = _with_retries(w3, "eth_maxPriorityFeePerGas", [], 0)
    except RPCError:
        tip = None
    return _fee_fields(w3, block, tip, retries, bump)


def _call_object(target: _Target, sender: str) -> dict[str, str]:
    return {
        "from": sender,
        "to": target.to,
        "data": "0x" + target.data.hex(),
        "value": hex(target.value),
    }


def _prepare(
    w3: Web3, target: _Target, account: LocalAccount, retries: int
) -> tuple[int, dict[str, int]]:
    """Gas estimate (the preflight) and fee fields, in one JSON-RPC batch."""
    call = _call_object(target, account.address)
    for attempt in range(retries + 1):
        try:
            estimate, block, tip = rpc.batch(
                w3,
                [
                    ("eth_estimateGas", [call]),
                    ("eth_getBlockByNumber", ["latest", False]),
                    ("eth_maxPriorityFeePerGas", []),
                ],
            )
        except rpc.TransportError as exc:
            if attempt >= retries:
                raise b.rpc_error(exc) from None
            time.sleep(_RETRY_PAUSE * (2**attempt))
            continue
        except rpc.NodeError:
            # a node that refuses batches: the same requests one by one
            estimate = _estimate_once(w3, call)
            return _checked_estimate(estimate, target, account), _fees(w3, retries, 0)
        if isinstance(estimate, rpc.TransportError) or isinstance(block, rpc.TransportError):
            if attempt >= retries:
                failed = estimate if isinstance(estimate, rpc.TransportError) else block
                raise b.rpc_error(failed) from None
            time.sleep(_RETRY_PAUSE * (2**attempt))
            continue
        if isinstance(estimate, rpc.NodeError) and _is_transient(estimate) and attempt < retries:
            time.sleep(_RETRY_PAUSE * (2**attempt))
            continue
        gas = _checked_estimate(estimate, target, account)
        if isinstance(block, Exception):
            block = _with_retries(w3, "eth_getBlockByNumber", ["latest", False], retries)
        return gas, _fee_fields(w3, block, None if isinstance(tip, Exception) else tip, retries, 0)
    raise AssertionError("unreachable")


def _estimate_once(w3: Web3, call: dict[str, str]) -> Any:
    try:
        return rpc.request(w3, "eth_estimateGas", [call])
    except (rpc.ExecutionReverted, rpc.NodeError, rpc.TransportError) as exc:
        return exc


def _checked_estimate(estimate: Any, target: _Target, account: LocalAccount) -> int:
    """The gas estimate, or the typed error its failure means (a revert is decoded)."""
    if isinstance(estimate, rpc.ExecutionReverted):
        raise decode_failure(
            estimate.data, target.contract, target.function, target.args, account.address, None
        )
    if isinstance(estimate, rpc.TransportError):
        raise b.rpc_error(estimate)
    if isinstance(estimate, rpc.NodeError):
        if "insufficient funds" in estimate.message.lower():
            raise GasError(
                message=f"{account.address} cannot pay for gas and value: {estimate.message}"
            )
        raise GasError(message=f"gas estimation failed: {estimate.message}")
    return rpc.to_int(estimate)


def _classify(message: str) -> str:
    text = message.lower()
    if "already known" in text or "known transaction" in text or "already imported" in text:
        return "known"
    if "nonce too low" in text or "nonce too high" in text or "invalid transaction nonce" in text:
        return "nonce"
    if "replacement transaction underpriced" in text or "replacement fee too low" in text:
        return "nonce"
    if "underpriced" in text or "fee cap" in text or "less than block base fee" in text:
        return "fee"
    if "lower than block's base fee" in text or "max fee per gas" in text:
        return "fee"
    if "insufficient funds" in text:
        return "funds"
    return "other"


def _lookup(w3: Web3, tx_hash: str) -> bool | None:
    """Whether the node knows the transaction; None if it cannot tell."""
    try:
        return rpc.request(w3, "eth_getTransactionByHash", [tx_hash]) is not None
    except (rpc.NodeError, rpc.TransportError, rpc.ExecutionReverted):
        return None


class _Broadcast:
    SENT = "sent"
    UNKNOWN = "unknown"


_Peek = tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else None


def _send_and_peek(w3: Web3, payload: str, tx_hash: str) -> _Peek | None:
    """``eth_sendRawTransaction`` with the receipt and the latest header in the same
    JSON-RPC batch: a node that mines on arrival answers the receipt at once, which
    saves the first receipt poll. Returns the peeked (receipt, header), or None when
    the node refuses batches (the send then goes alone).

    Raises:
        the send's own ``rpc`` exception (as ``rpc.request`` would).
    """
    try:
        sent, found, head = rpc.batch(
            w3,
            [
                ("eth_sendRawTransaction", [payload]),
                ("eth_getTransactionReceipt", [tx_hash]),
                ("eth_getBlockByNumber", ["latest", False]),
            ],
        )
    except rpc.NodeError:
        rpc.request(w3, "eth_sendRawTransaction", [payload])
        return None
    if isinstance(sent, Exception):
        raise sent
    return _mapping(found), _mapping(head)


def _broadcast(w3: Web3, raw: bytes, tx_hash: str, retries: int) -> tuple[str, str, _Peek | None]:
    """Send signed bytes; return (SENT | UNKNOWN | a ``_classify`` class, node message,
    the receipt and header peeked with a successful first send)."""
    payload = "0x" + raw.hex()
    uncertain = False
    message = ""
    for attempt in range(retries + 1):
        try:
            if attempt == 0:
                return _Broadcast.SENT, "", _send_and_peek(w3, payload, tx_hash)
            rpc.request(w3, "eth_sendRawTransaction", [payload])
            return _Broadcast.SENT, "", None
        except rpc.NodeError as exc:
            message = exc.message
            kind = _classify(exc.message)
            if kind == "known":
                return _Broadcast.SENT, message, None
            # "nonce too low" may be about these very bytes (a duplicated delivery
            # already mined them): look the hash up before signing another one.
            if (uncertain or kind == "nonce") and _lookup(w3, tx_hash):
                return _Broadcast.SENT, message, None
            if kind == "nonce" and uncertain and _receipt_once(w3, tx_hash) is not None:
                return _Broadcast.SENT, message, None
            if kind == "other" and _is_transient(exc) and not uncertain and attempt < retries:
                time.sleep(_RETRY_PAUSE * (2**attempt))
                continue
            return (kind if not uncertain else _Broadcast.UNKNOWN), message, None
        except rpc.ExecutionReverted:
            # A node that mines on arrival may report the revert at once; the
            # transaction exists, its receipt tells the rest.
            return _Broadcast.SENT, "", None
        except rpc.TransportError as exc:
            message = exc.detail
            uncertain = True
            if _lookup(w3, tx_hash):
                return _Broadcast.SENT, message, None
            time.sleep(_RETRY_PAUSE * (2**attempt))
    return (_Broadcast.UNKNOWN if uncertain else "other"), message, None


def _receipt_once(w3: Web3, tx_hash: str) -> Mapping[str, Any] | None:
    try:
        found = rpc.request(w3, "eth_getTransactionReceipt", [tx_hash])
    except (rpc.NodeError, rpc.TransportError, rpc.ExecutionReverted):
        return None
    return _mapping(found)


def _receipt_and_head(
    w3: Web3, tx_hash: str
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The receipt (or None) and the latest block header (or None), in one batch."""
    try:
        found, head = rpc.batch(
            w3,
            [
                ("eth_getTransactionReceipt", [tx_hash]),
                ("eth_getBlockByNumber", ["latest", False]),
            ],
        )
    except (rpc.NodeError, rpc.TransportError):
        return _receipt_once(w3, tx_hash), None
    return _mapping(found), _mapping(head)


def _mined(found: object) -> TypeGuard[Mapping[str, Any]]:
    """Whether ``found`` (an ``eth_getTransactionReceipt`` answer) is a mined receipt."""
    return isinstance(found, Mapping) and found.get("blockNumber") is not None


def _wait_receipt(
    w3: Web3, tx_hash: str, timeout: float, peek: _Peek | None = None
) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """The mined receipt and the latest block header seen with it (None if unknown).

    ``peek``: what the broadcast's batch already returned; the first poll waits a
    pause when it holds no mined receipt."""
    deadline = time.monotonic() + timeout
    pause, longest = POLL_INTERVAL
    if peek is not None:
        found, head = peek
        if _mined(found):
            return found, head
        time.sleep(min(pause, timeout))
    while True:
        found, head = _receipt_and_head(w3, tx_hash)
        if _mined(found):
            return found, head
        if time.monotonic() >= deadline:
            raise TxReceiptTimeoutError(
                message=f"no receipt for {tx_hash} after {timeout:.0f}s; it may still be mined",
                tx_hash=tx_hash,
                timeout=timeout,
            )
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, longest)


def _hex(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return str(value)


def _web3_log(entry: Mapping[str, Any]) -> dict[str, Any]:
    from hexbytes import HexBytes
    from web3 import Web3

    return {
        "address": Web3.to_checksum_address(str(entry["address"])),
        "topics": [HexBytes(t) for t in entry.get("topics", [])],
        "data": HexBytes(entry.get("data", b"")),
        "blockNumber": rpc.to_int(entry.get("blockNumber", 0)),
        "transactionHash": HexBytes(entry.get("transactionHash", b"")),
        "logIndex": rpc.to_int(entry.get("logIndex", 0)),
        "blockHash": HexBytes(entry.get("blockHash", b"")),
        "transactionIndex": rpc.to_int(entry.get("transactionIndex", 0)),
    }


def decode_logs(entries: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
    """Decode receipt logs with the generated ``EVENT_DECODERS``; unknown ones stay ``RawLog``.

    No RPC.
    """
    decoders = b.event_decoders()
    out: list[Any] = []
    for entry in entries:
        log = _web3_log(entry)
        topics = log["topics"]
        decoder = decoders.get("0x" + bytes(topics[0]).hex()) if topics else None
        decoded: Any = None
        if decoder is not None:
            try:
                decoded = decoder(log)
            except Exception:
                decoded = None
        if decoded is None:
            decoded = RawLog(
                address=log["address"],
                topics=tuple("0x" + bytes(t).hex() for t in topics),
                data=bytes(log["data"]),
                log_index=log["logIndex"],
                block_number=log["blockNumber"],
                transaction_hash="0x" + bytes(log["transactionHash"]).hex(),
            )
        out.append(decoded)
    return tuple(out)


def _build_receipt(
    w3: Web3, found: Mapping[str, Any], head: Mapping[str, Any] | None, retries: int
) -> Receipt:
    """``head`` (a block header fetched with the receipt) supplies the timestamp when it
    is the receipt's block; otherwise one ``eth_getBlockByNumber``."""
    from web3 import Web3

    block_number = rpc.to_int(found["blockNumber"])
    timestamp = 0
    try:
        block: Any = head
        mined_in = _hex(found.get("blockHash") or "")
        if block is None or not mined_in or _hex(block.get("hash") or "") != mined_in:
            block = _with_retries(w3, "eth_getBlockByNumber", [hex(block_number), False], retries)
        if isinstance(block, Mapping):
            timestamp = rpc.to_int(block.get("timestamp", 0))
    except RPCError:
        timestamp = 0
    to = found.get("to")
    return Receipt(
        tx_hash=_hex(found["transactionHash"]),
        block_number=block_number,
        gas_used=rpc.to_int(found["gasUsed"]),
        status=rpc.to_int(found["status"]),
        logs=decode_logs(list(found.get("logs", []))),
        timestamp=timestamp,
        from_address=Web3.to_checksum_address(str(found["from"])) if found.get("from") else "",
        to=Web3.to_checksum_address(str(to)) if to else None,
        effective_gas_price=rpc.to_int(found.get("effectiveGasPrice", 0) or 0),
        block_hash=_hex(found.get("blockHash", "")),
    )


def _failed(
    w3: Web3,
    target: _Target,
    account: LocalAccount,
    found: Mapping[str, Any],
    gas_limit: int,
    tx_hash: str,
) -> OGPUError:
    """Explain a status-0 receipt by replaying the call at its block."""
    block = rpc.to_int(found["blockNumber"])
    call = _call_object(target, account.address)
    call["gas"] = hex(gas_limit)
    try:
        rpc.request(w3, "eth_call", [call, hex(block)])
    except rpc.ExecutionReverted as exc:
        error = decode_failure(
            exc.data, target.contract, target.function, target.args, account.address, block
        )
        if isinstance(error, TxError):
            error.tx_hash = tx_hash
        return error
    except (rpc.NodeError, rpc.TransportError):
        pass
    if rpc.to_int(found.get("gasUsed", 0)) >= gas_limit:
        return GasError(message=f"transaction {tx_hash} ran out of gas", tx_hash=tx_hash)
    return TxError(f"transaction {tx_hash} failed on chain (status 0)", tx_hash=tx_hash)


def sign(
    account: LocalAccount,
    chain_id: int,
    nonce: int,
    target: _Target,
    gas: int,
    fees: dict[str, int],
) -> tuple[bytes, str]:
    """Sign a type-2 (or legacy, by ``fees``) transaction locally; (raw bytes, hash). No RPC.

    Raises:
        InvalidParamsError: the signer refused (the key never appears in the message).
    """
    tx: dict[str, Any] = {
        "chainId": chain_id,
        "nonce": nonce,
        "to": target.to,
        "value": target.value,
        "data": target.data,
        "gas": gas,
        **fees,
    }
    if "maxFeePerGas" in tx:
        tx["type"] = 2
    try:
        signed = account.sign_transaction(tx)
    except Exception as exc:
        raise InvalidParamsError(
            f"the signer could not sign the transaction: {type(exc).__name__}"
        ) from None
    return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()


def _send(
    target: _Target,
    account: LocalAccount,
    *,
    max_retries: int,
    receipt_timeout: float,
) -> Receipt:
    started = time.monotonic()
    logger.debug("[%s] preparing transaction from %s", target.context, account.address)
    w3 = b.web3()
    chain_id = chain_id_of(w3, max_retries)
    estimate, fees = _prepare(w3, target, account, max_retries)
    gas_limit = int(estimate * GAS_MARGIN) + 1
    bump = 0
    lock = NonceManager.account_lock(chain_id, account.address)
    failures = 0
    while True:
        with lock:
            nonce = NonceManager.reserve(w3, chain_id, account.address)
            try:
                raw, tx_hash = sign(account, chain_id, nonce, target, gas_limit, fees)
                _deadline.before_broadcast()  # never send what the budget no longer covers
            except OGPUError:
                NonceManager.release(chain_id, account.address, nonce)
                raise
            outcome, message, peek = _broadcast(w3, raw, tx_hash, max_retries)
            if outcome == _Broadcast.SENT:
                break
            if outcome == _Broadcast.UNKNOWN:
                NonceManager.reset(chain_id, account.address)
                raise TxMayHaveLandedError(
                    f"broadcast of {tx_hash} got no answer and the node does not report it; "
                    "look it up before sending again",
                    tx_hash=tx_hash,
                )
            if outcome == "nonce":
                NonceManager.resync(w3, chain_id, account.address)
            else:
                NonceManager.release(chain_id, account.address, nonce)
        failures += 1
        if outcome == "funds":
            raise GasError(message=f"{account.address} cannot pay for gas and value: {message}")
        if outcome == "other":
            raise TxError(f"the node rejected the transaction to {target.context}: {message}")
        if failures > max_retries:
            if outcome == "nonce":
                raise NonceError(
                    message=f"nonce collisions for {account.address} after {failures} tries"
                )
            raise GasError(message=f"the transaction stayed underpriced after {failures} tries")
        if outcome == "fee":
            bump += 1
            fees = _fees(w3, max_retries, bump)
        logger.warning("[%s] %s rejected (%s); retrying", target.context, tx_hash, outcome)
        time.sleep(_RETRY_PAUSE)
    sent = time.monotonic()
    logger.debug(
        "[%s] tx %s sent in %.3fs (nonce=%d)", target.context, tx_hash, sent - started, nonce
    )
    found, head = _wait_receipt(w3, tx_hash, _deadline.receipt_wait(receipt_timeout), peek)
    logger.info(
        "[%s] tx %s mined in block %d; receipt wait %.3fs, total %.3fs",
        target.context,
        tx_hash,
        rpc.to_int(found["blockNumber"]),
        time.monotonic() - sent,
        time.monotonic() - started,
    )
    if rpc.to_int(found.get("status", 1)) != 1:
        raise _failed(w3, target, account, found, gas_limit, tx_hash)
    return _build_receipt(w3, found, head, max_retries)


def _check_retries(max_retries: object) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidInputError("max_retries must be an int >= 0", param="max_retries")
    return max_retries


def _receipt_seconds(value: object) -> float:
    checked = _deadline.seconds("receipt_timeout", value)
    if checked is None:
        raise InvalidParamsError(
            "receipt_timeout must be a number of seconds", param="receipt_timeout"
        )
    return checked


def _contract_name(contract: Contract) -> str | None:
    """Solidity name of a web3 Contract, found by matching its ABI against the active set."""
    names = {entry.get("name") for entry in contract.abi if entry.get("type") == "function"}
    for candidate in (
        "Nexus",
        "Controller",
        "Terminal",
        "Vault",
        "Manager",
        "Source",
        "Task",
        "Response",
    ):
        try:
            abi = ChainConfig.load_abi(f"{candidate}Abi")
        except FileNotFoundError:
            continue
        if names == {e.get("name") for e in abi if e.get("type") == "function"}:
            return candidate
    return None


def tx_rpc_error(exc: RPCError) -> TxRpcError:
    """An RPC failure met while sending a transaction, as the official ``TxRpcError``
    (still an ``RPCError``). No I/O."""
    if isinstance(exc, TxRpcError):
        return exc
    return TxRpcError(
        message=exc.message, reason=exc.cause or exc.message, method=exc.method, cause=exc.cause
    )


class TxExecutor:
    """Single-shot transaction sender with nonce management, retries and revert decoding.

    Build it from a ``web3`` ``Contract`` and a function name (the reference
    SDK's signature) or from a generated ``TxRequest`` with ``from_request``;
    ``execute()`` runs the pipeline described in this module's docstring.

    Attributes:
        contract: The web3 Contract (None when built from a TxRequest).
        function_name: Solidity function name.
        args: Positional arguments.
        signer: The signing ``LocalAccount``.
        value: Wei attached (payable functions only).
        context: Text naming the operation in error messages.
        max_retries: Retries on recoverable errors before a broadcast.
        receipt_timeout: Seconds to wait for the receipt.
        deadline: Optional ``time.monotonic()`` instant (0.2.3): every request ends by
            it, nothing is broadcast past it (``PublishTimeoutError``) and the receipt
            wait stops at it (``TxReceiptTimeoutError``).
        budget: The total seconds ``deadline`` stands for (messages only).
    """

    def __init__(
        self,
        contract: Contract,
        function_name: str,
        args: tuple[Any, ...] = (),
        *,
        signer: LocalAccount | str,
        value: int = 0,
        context: str | None = None,
        max_retries: int = 3,
        receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
        deadline: float | None = None,
        budget: float | None = None,
    ) -> None:
        from hexbytes import HexBytes
        from web3 import Web3

        self.contract: Contract | None = contract
        self.function_name = function_name
        self.args = tuple(args)
        self.signer = resolve_signer(signer, role=None)
        self.value = b.uint(value, "value")
        self.max_retries = _check_retries(max_retries)
        self.receipt_timeout = _receipt_seconds(receipt_timeout)
        self.deadline, self.budget = _deadline.check(deadline, budget)
        try:
            data = bytes(HexBytes(contract.encode_abi(function_name, args=list(self.args))))
            to = Web3.to_checksum_address(contract.address)
        except Exception as exc:
            raise InvalidParamsError(
                f"cannot encode {function_name}{self.args!r}: {exc}", param="args"
            ) from None
        self.context = context or f"{to}.{function_name}"
        self._target = _Target(
            to=to,
            data=data,
            value=self.value,
            contract=_contract_name(contract),
            function=function_name,
            args=self.args,
            context=self.context,
        )

    @classmethod
    def from_request(
        cls,
        request: TxRequest,
        *,
        signer: LocalAccount | str,
        context: str | None = None,
        max_retries: int = 3,
        receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
        deadline: float | None = None,
        budget: float | None = None,
    ) -> TxExecutor:
        """Wrap a generated ``TxRequest`` (already validated and encoded). No RPC.

        Raises:
            InvalidSignerError / MissingSignerError: bad ``signer``.
            InvalidInputError: bad ``max_retries``, ``deadline`` or ``budget``.
        """
        self = cls.__new__(cls)
        self.contract = None
        self.function_name = request.function
        self.args = tuple(request.args)
        self.signer = resolve_signer(signer, role=None)
        self.value = request.value
        self.max_retries = _check_retries(max_retries)
        self.receipt_timeout = _receipt_seconds(receipt_timeout)
        self.deadline, self.budget = _deadline.check(deadline, budget)
        self._target = target_of(request, context)
        self.context = self._target.context
        return self

    def execute(self) -> Receipt:
        """Build, preflight, sign, broadcast and wait for the transaction.

        Cost over HTTP: a batch (gas estimate + fee data), the broadcast,
        receipt polls and the block time; plus ``eth_chainId`` once per Web3
        and ``eth_getTransactionCount`` on an account's first use.

        Raises:
            TxRevertError and subclasses (PermissionError, StateError,
                VaultError...): the call reverts; raised before any broadcast
                when the preflight catches it, else from the status-0 receipt.
            NonceError: nonce collisions outlasted ``max_retries``.
            GasError: underpriced, unaffordable or out of gas.
            TxMayHaveLandedError: broadcast outcome unknown (carries ``tx_hash``).
            TxReceiptTimeoutError: no receipt within ``receipt_timeout`` (a
                ``ReceiptTimeoutError``; carries ``tx_hash`` and ``timeout``).
            TxRpcError: the node could not be reached or answered nonsense (an ``RPCError``).
            PublishTimeoutError: ``deadline`` (or an enclosing ``Budget.scope()``) ran out
                before the broadcast; nothing was sent.
        """
        try:
            with _deadline.scope(self.deadline, self.budget):
                try:
                    return _send(
                        self._target,
                        self.signer,
                        max_retries=self.max_retries,
                        receipt_timeout=self.receipt_timeout,
                    )
                except (RPCError, NonceError) as exc:  # raised before any broadcast
                    spent = _deadline.timed_out(exc)
                    if spent is None:
                        raise
                    raise spent from exc
        except RPCError as exc:
            raise tx_rpc_error(exc) from exc
        except OGPUError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise TxRpcError(
                message=f"malformed answer from the node while sending {self.context}: {exc!r}",
                reason=f"malformed answer: {exc!r}",
                cause=repr(exc),
            ) from None

    def __repr__(self) -> str:
        return (
            f"TxExecutor({self.context}, signer={self.signer.address}, value={self.value}, "
            f"max_retries={self.max_retries})"
        )


def execute_request(
    request: TxRequest,
    signer: LocalAccount | str,
    *,
    context: str | None = None,
    max_retries: int = 3,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    deadline: float | None = None,
    budget: float | None = None,
) -> Receipt:
    """Send a generated ``TxRequest`` and return its receipt (see ``TxExecutor.execute``)."""
    return TxExecutor.from_request(
        request,
        signer=signer,
        context=context,
        max_retries=max_retries,
        receipt_timeout=receipt_timeout,
        deadline=deadline,
        budget=budget,
    ).execute()
