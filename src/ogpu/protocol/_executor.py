"""``TxExecutor``: build, preflight, sign, broadcast and confirm one transaction.

A driver over the engine in ``ogpu.protocol._tx`` (``prepare.prepare``,
``send.send_until_held``, ``receipts.wait_receipt``); RPCs in brackets:

1. build: chain id (once per Web3) [eth_chainId]; gas [eth_estimateGas] and
   fees [eth_getBlockByNumber, eth_maxPriorityFeePerGas; eth_gasPrice on
   chains without a base fee] in one JSON-RPC batch; gas limit = estimate
   times ``GAS_MARGIN``. The estimate is the preflight: a revert surfaces
   here, as a typed error, before anything is signed or sent.
2. under the account's lock: reserve a nonce [eth_getTransactionCount, first
   use only], sign locally, compute the hash locally, broadcast
   [eth_sendRawTransaction, with the first receipt poll in its batch]. The lock
   keeps one account's broadcasts in nonce order.
3. wait for the receipt [eth_getTransactionReceipt + eth_getBlockByNumber
   "latest" in one JSON-RPC batch, polled]; the block time comes from that
   latest block when it is the receipt's block, else from one more
   [eth_getBlockByNumber]. A status-0 receipt is replayed as an ``eth_call`` at
   its block to recover the revert reason.

A broadcast is "not sent" only when the node proves it (a known pre-acceptance
rejection: nonce, fee, funds, invalid; see ``_tx.outcome``). Nonce and fee
rejections are retried up to ``max_retries`` times with a new signature. Any other
answer after the bytes left is uncertain and is settled by the hash (receipt,
``eth_getTransactionByHash``, the account's nonce; the same signed bytes may be sent
again, never a second transaction); if it stays unknown, ``TxMayHaveLandedError``
carries the hash. Every wait is capped by the ambient ``ogpu.net.Budget``
(``with budget.scope():``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, TypedDict

from ogpu_bindings.runtime import TxRequest

from ogpu.chain import rpc
from ogpu.chain.config import ChainConfig
from ogpu.chain.networks import PROTOCOL_CONTRACTS
from ogpu.chain.signer import resolve_signer
from ogpu.protocol import _bindings as b
from ogpu.protocol import _deadline
from ogpu.protocol._tx.prepare import GAS_MARGIN, Target, chain_id_of, prepare, target_of
from ogpu.protocol._tx.receipts import (
    DEFAULT_RECEIPT_TIMEOUT,
    POLL_INTERVAL,
    build_receipt,
    decode_logs,
    failed,
    malformed,
    wait_receipt,
)
from ogpu.protocol._tx.send import send_until_held
from ogpu.types.errors import (
    InvalidInputError,
    InvalidParamsError,
    OGPUError,
    RPCError,
    TxRpcError,
)
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11
    from web3.contract import Contract

__all__ = [
    "DEFAULT_RECEIPT_TIMEOUT",
    "GAS_MARGIN",
    "POLL_INTERVAL",
    "SendOptions",
    "TxExecutor",
    "chain_id_of",
    "decode_logs",
    "execute_request",
    "target_of",
]


class SendOptions(TypedDict, total=False):
    """The keyword options of ``TxExecutor.from_request`` (defaults there), which
    ``execute_request`` passes on."""

    context: str | None
    max_retries: int
    receipt_timeout: float
    deadline: float | None
    budget: float | None


# Stage timings for ``ogpu.set_verbose()``; hashes, nonces and blocks only, never keys.
logger = logging.getLogger("ogpu.tx")


def _send(
    target: Target,
    account: LocalAccount,
    *,
    max_retries: int,
    receipt_timeout: float,
) -> Receipt:
    started = time.monotonic()
    logger.debug("[%s] preparing transaction from %s", target.context, account.address)
    w3 = b.web3()
    chain_id = chain_id_of(w3, max_retries)
    gas, fee_fields = prepare(w3, target, account.address, max_retries)
    tx, outcome = send_until_held(
        w3, target, account, chain_id, gas, max_retries, fee_fields, receipt_timeout
    )
    sent = time.monotonic()
    logger.debug(
        "[%s] tx %s sent in %.3fs (nonce=%d)", target.context, tx.tx_hash, sent - started, tx.nonce
    )
    try:
        found, head = wait_receipt(w3, tx.tx_hash, receipt_timeout, outcome.peek)
        if rpc.to_int(found.get("status", 1)) != 1:
            raise failed(w3, target, account.address, found, gas, tx.tx_hash)
        receipt = build_receipt(w3, found, head, max_retries)
    except (KeyError, TypeError, ValueError) as exc:  # rpc.MalformedAnswer is a ValueError
        raise malformed(tx.tx_hash, "receipt", exc) from None
    logger.info(
        "[%s] tx %s mined in block %d; receipt wait %.3fs, total %.3fs",
        target.context,
        tx.tx_hash,
        receipt.block_number,
        time.monotonic() - sent,
        time.monotonic() - started,
    )
    return receipt


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
    for candidate in PROTOCOL_CONTRACTS:
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
        self.value = b.uint(value, "value")
        self._settle(signer, max_retries, receipt_timeout, deadline, budget)
        try:
            data = bytes(HexBytes(contract.encode_abi(function_name, args=list(self.args))))
            to = Web3.to_checksum_address(contract.address)
        except Exception as exc:
            raise InvalidParamsError(
                f"cannot encode {function_name}{self.args!r}: {exc}", param="args"
            ) from None
        self.context = context or f"{to}.{function_name}"
        self._target = Target(
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
        self.value = request.value
        self._settle(signer, max_retries, receipt_timeout, deadline, budget)
        self._target = target_of(request, context)
        self.context = self._target.context
        return self

    def _settle(
        self,
        signer: LocalAccount | str,
        max_retries: object,
        receipt_timeout: object,
        deadline: float | None,
        budget: float | None,
    ) -> None:
        """Check and set what every constructor takes alike: signer, retries, waits.

        Raises:
            InvalidSignerError / MissingSignerError: bad ``signer``.
            InvalidInputError / InvalidParamsError: bad retries, timeout, deadline or budget.
        """
        self.signer = resolve_signer(signer, role=None)
        self.max_retries = _check_retries(max_retries)
        self.receipt_timeout = _receipt_seconds(receipt_timeout)
        self.deadline, self.budget = _deadline.check(deadline, budget)

    def execute(self) -> Receipt:
        """Build, preflight, sign, broadcast and wait for the transaction.

        Cost over HTTP: ``eth_chainId`` once per Web3; a batch (gas estimate + fee
        data); ``eth_getTransactionCount`` on an account's first use;
        the broadcast with the first receipt poll, more polls unless mined on
        arrival, and the block time unless the poll's latest block is the receipt's.

        Raises:
            TxRevertError and subclasses (PermissionError, StateError,
                VaultError...): the call reverts; raised before any broadcast
                when the preflight catches it, else from the status-0 receipt.
            NonceError: nonce collisions outlasted ``max_retries``.
            GasError: underpriced, unaffordable or out of gas.
            TxMayHaveLandedError: broadcast outcome unknown (carries ``tx_hash``).
            TxReceiptTimeoutError: no receipt within ``receipt_timeout`` (a
                ``ReceiptTimeoutError``; carries ``tx_hash`` and ``timeout``).
            TxRpcError: the node could not be reached or answered nonsense (an
                ``RPCError``; carries ``tx_hash`` when the transaction was sent).
            PublishTimeoutError: ``deadline`` (or an enclosing ``Budget.scope()``) ran out
                before the broadcast; nothing was sent.
        """
        try:
            with _deadline.scope(self.deadline, self.budget), _deadline.pre_send_reads():
                return _send(
                    self._target,
                    self.signer,
                    max_retries=self.max_retries,
                    receipt_timeout=self.receipt_timeout,
                )
        except RPCError as exc:
            raise tx_rpc_error(exc) from exc
        except OGPUError:
            raise
        except (rpc.NodeError, rpc.TransportError, KeyError, TypeError, ValueError) as exc:
            # before the broadcast (after it, the engine raises with the hash)
            raise TxRpcError(
                message=f"malformed answer from the node while sending {self.context}: {exc}",
                reason=f"malformed answer: {exc}",
                method=getattr(exc, "method", None),
                cause=repr(exc),
            ) from None

    def __repr__(self) -> str:
        return (
            f"TxExecutor({self.context}, signer={self.signer.address}, value={self.value}, "
            f"max_retries={self.max_retries})"
        )


def execute_request(
    request: TxRequest, signer: LocalAccount | str, **options: Unpack[SendOptions]
) -> Receipt:
    """Send a generated ``TxRequest`` and return its receipt: ``TxExecutor.from_request``
    with the same keyword ``options`` (defaults there), then ``execute`` (its cost and
    errors)."""
    return TxExecutor.from_request(request, signer=signer, **options).execute()
