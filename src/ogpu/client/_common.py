"""Plumbing shared by ``ogpu.client`` and ``ogpu.agent``.

Signer choice (``private_key=`` or ``signer=``, else the role's env var), time
budgets, aggregated chain reads, uploads and sends. Nothing here logs or
formats a private key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import ContractCall, TxRequest

from ogpu import net
from ogpu.chain import Web3Manager, multicall, rpc
from ogpu.chain.signer import resolve_signer
from ogpu.ipfs import RetryPolicy, Timeout, publish_to_ipfs
from ogpu.protocol import execute_request
from ogpu.protocol._bindings import aggregate, singleton
from ogpu.protocol._executor import chain_id_of
from ogpu.types import (
    InvalidParamsError,
    InvalidSignerError,
    PublishTimeoutError,
    Receipt,
    Role,
    RPCError,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ogpu.types import Signer

__all__ = [
    "DEFAULT_IPFS_TIMEOUT",
    "DEFAULT_RECEIPT_TIMEOUT",
    "Budget",
    "chain_now",
    "choose_signer",
    "read_calls",
    "read_calls_and_now",
    "require_chain",
    "send",
    "singleton",
    "upload_json",
]

#: Seconds allowed for one metadata upload (all retries included).
DEFAULT_IPFS_TIMEOUT = 30.0
#: Seconds to wait for a transaction's receipt.
DEFAULT_RECEIPT_TIMEOUT = 120.0
_CONNECT_TIMEOUT = 5.0


def choose_signer(private_key: Signer | None, signer: Signer | None, role: Role) -> LocalAccount:
    """The account to sign with: ``private_key`` or ``signer``, else ``<ROLE>_PRIVATE_KEY``. No RPC.

    Raises:
        InvalidParamsError: both ``private_key`` and ``signer`` were given.
        InvalidSignerError: the key is malformed (the message never shows it).
        MissingSignerError: neither was given and the role's env var is unset.
    """
    if private_key is not None and signer is not None:
        raise InvalidParamsError(
            "pass either private_key= or signer=, not both", param="private_key"
        )
    if private_key is None:
        return resolve_signer(signer, role)
    try:
        return resolve_signer(private_key, role)
    except InvalidSignerError:
        raise InvalidSignerError(
            message="private_key must be a 32-byte hex private key or a LocalAccount"
        ) from None


def positive_seconds(name: str, value: object) -> float:
    """Validate a timeout in seconds. No I/O.

    Raises:
        InvalidParamsError: not a positive finite number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParamsError(
            f"{name} must be a number of seconds, got {type(value).__name__}", param=name
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidParamsError(f"{name} must be positive and finite, got {value!r}", param=name)
    return float(value)


class Budget(net.Budget):
    """The total time limit of one workflow call (:class:`ogpu.net.Budget`), refusing in
    the client's terms: a bad ``timeout`` is ``InvalidParamsError``, a spent budget
    ``PublishTimeoutError`` (a ``TxError``; nothing was sent)."""

    @classmethod
    def of(cls, timeout: object) -> Budget:
        """Budget for ``timeout`` seconds (``None``: unlimited). No I/O.

        Raises:
            InvalidParamsError: ``timeout`` is not a positive finite number.
        """
        return cls(None if timeout is None else positive_seconds("timeout", timeout))

    def cap(self, seconds: float, before: str = "the next step", stage: str | None = None) -> float:
        """``seconds`` shortened to what is left of the total. No I/O.

        Raises:
            PublishTimeoutError: the total ran out before ``before`` (nothing was sent);
                its ``stage`` is ``stage`` (0.2.3's names: ``ipfs``, ``pre-transaction``),
                else ``before``.
        """
        try:
            return super().cap(seconds, before)
        except net.BudgetExhausted as exc:
            raise PublishTimeoutError(
                message=f"{exc}; no transaction was sent",
                budget=self.total,
                stage=stage or before,
            ) from None


def _rpc_error(exc: Exception, method: str) -> RPCError:
    return RPCError(f"RPC {method} failed: {exc}", method=method, cause=str(exc))


def chain_now() -> int:
    """Best estimate of the next block's timestamp: max(latest block time, wall clock).

    One ``eth_getBlockByNumber``.

    Raises:
        RPCError: the node failed or answered without a timestamp.
    """
    try:
        block = rpc.request(Web3Manager.get_web3_instance(), _LATEST_BLOCK, ["latest", False])
    except (rpc.NodeError, rpc.TransportError, rpc.ExecutionReverted) as exc:
        raise _rpc_error(exc, _LATEST_BLOCK) from exc
    return _now_from_block(block)


_LATEST_BLOCK = "eth_getBlockByNumber"


def _now_from_block(block: Any) -> int:
    try:
        latest = rpc.to_int(block["timestamp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RPCError(f"malformed {_LATEST_BLOCK} answer: {exc}", method=_LATEST_BLOCK) from None
    return max(latest, int(time.time()))


def read_calls_and_now(
    calls: Sequence[ContractCall[Any]],
) -> tuple[list[multicall.CallResult], int]:
    """``read_calls`` and ``chain_now`` together: the aggregated ``eth_call`` and the
    ``eth_getBlockByNumber`` go in one JSON-RPC batch (one HTTP request). Calls too
    large for one aggregate, a node refusing batches or a failed aggregate fall back
    to the two separate requests.

    Raises:
        RPCError: the node failed or returned malformed output.
    """
    fits = len(calls) * (32 + multicall.DEFAULT_OUTPUT_SIZE) + 32 <= multicall.MAX_OUTPUT
    try:
        payload = multicall.encode_payload(calls)
    except ValueError:
        fits = False
    if not fits:
        return read_calls(calls), chain_now()
    w3 = Web3Manager.get_web3_instance()
    try:
        raw, block = rpc.batch(
            w3,
            [
                ("eth_call", [{"data": "0x" + payload.hex()}, "latest"]),
                (_LATEST_BLOCK, ["latest", False]),
            ],
        )
    except rpc.TransportError as exc:
        raise _rpc_error(exc, "eth_call") from exc
    except rpc.NodeError:
        return read_calls(calls), chain_now()
    if isinstance(raw, Exception):
        results = read_calls(calls)
    else:
        try:
            results = list(multicall.decode_output(rpc.to_bytes(raw), len(calls)).results)
        except (TypeError, ValueError) as exc:
            raise RPCError(f"malformed aggregated read: {exc}", method="eth_call") from None
    if isinstance(block, Exception):
        return results, chain_now()  # a lagging replica's "block not found": ask once more
    return results, _now_from_block(block)


def read_calls(calls: Sequence[ContractCall[Any]]) -> list[multicall.CallResult]:
    """Run view calls against one block. One ``eth_call`` (an aggregated, deployless call).

    Raises:
        RPCError: the node failed or returned malformed output.
    """
    return list(aggregate(calls).results)


def require_chain() -> None:
    """Check that the node serves the active chain: one ``eth_chainId`` on a Web3's first
    use, then cached.

    Raises:
        ChainNotSupportedError: the node serves another chain. RPCError: unreachable.
    """
    chain_id_of(Web3Manager.get_web3_instance())


def _official_retry(ipfs_timeout: float, retries: int | None, backoff: float | None) -> RetryPolicy:
    """0.2.3's IPFS bounds: ``ipfs_timeout`` per attempt, ``retries`` attempts in all
    (default 2), pauses from ``backoff`` (default 0.5 s) doubling. No I/O."""
    attempts = 2 if retries is None else retries
    first = 0.5 if backoff is None else backoff
    pauses = sum(first * 2**i for i in range(attempts - 1))
    return RetryPolicy(
        max_attempts=attempts,
        backoff_initial=max(first, 0.001),  # RetryPolicy wants a positive pause
        total_timeout=ipfs_timeout * attempts + pauses,
    )


def upload_json(
    data: Mapping[str, Any],
    filename: str,
    ipfs_timeout: float,
    budget: Budget,
    *,
    retries: int | None = None,
    backoff: float | None = None,
) -> str:
    """Pin a JSON object and return its URL. One HTTP POST per attempt, after the node's
    chain id is checked (``eth_chainId`` on a Web3's first use, then cached): nothing is
    pinned for a chain the transaction will not be sent to.

    Retries on transient failures within ``ipfs_timeout`` (shortened to the budget).
    With ``retries`` or ``backoff`` (0.2.3's ``ipfs_retries``/``ipfs_backoff``,
    validated by the caller), ``ipfs_timeout`` bounds each attempt instead.

    Raises:
        ChainNotSupportedError: the node serves another chain than the active one.
        IPFSUploadError: the upload failed or timed out.
        PublishTimeoutError: the budget was already spent (a TxError).
    """
    require_chain()
    retry = RetryPolicy(total_timeout=ipfs_timeout)
    if retries is not None or backoff is not None:
        retry = _official_retry(ipfs_timeout, retries, backoff)
    seconds = budget.cap(ipfs_timeout, "the upload", "ipfs")
    total = budget.cap(retry.total_timeout, "the upload", "ipfs")
    return publish_to_ipfs(
        data,
        filename=filename,
        content_type="application/json",
        timeout=Timeout(connect=min(_CONNECT_TIMEOUT, seconds), read=seconds, total=total),
        retry=replace(retry, total_timeout=total),
    )


def send(
    request: TxRequest,
    account: LocalAccount,
    receipt_timeout: float,
    budget: Budget,
) -> Receipt:
    """Send one transaction and wait for its receipt (see ``TxExecutor.execute`` for the RPCs).

    Raises:
        PublishTimeoutError: the budget ran out before sending (a TxError).
        ReceiptTimeoutError: no receipt within ``receipt_timeout`` or the budget (has tx_hash).
        TxRevertError subclasses, NonceError, GasError, RPCError: as ``TxExecutor.execute``.
    """
    seconds = budget.cap(receipt_timeout, "sending the transaction", "pre-transaction")
    return execute_request(request, account, receipt_timeout=seconds)
