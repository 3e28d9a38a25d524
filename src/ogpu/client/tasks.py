"""Client workflows on tasks: publish, cancel, read and confirm responses."""

from __future__ import annotations

from ogpu_bindings._runtime import check_address

from ogpu.client._checks import check_task_info, read_source, require_active
from ogpu.client._common import (
    DEFAULT_IPFS_TIMEOUT,
    DEFAULT_RECEIPT_TIMEOUT,
    Budget,
    bindings,
    chain_now,
    choose_signer,
    positive_seconds,
    send,
    singleton,
    upload_json,
)
from ogpu.protocol import Response, Task, controller
from ogpu.types import (
    ExpiryTooLongError,
    InsufficientBalanceError,
    PaymentTooLowError,
    Receipt,
    Role,
    Signer,
    TaskExpiredError,
    TaskInfo,
    TaskNotFoundError,
)

__all__ = ["cancel_task", "confirm_response", "get_task_responses", "publish_task"]

_CONFIG_FILE = "taskConfig.json"
_PUBLISH = ("Controller", "publishTask")


def _published_task(receipt: Receipt, source: str) -> str:
    event_type = bindings("nexus").TaskPublishedEvent
    emitter = singleton("NEXUS").lower()
    for log in receipt.logs:
        if (
            isinstance(log, event_type)
            and str(log.address).lower() == emitter
            and str(log.source).lower() == source.lower()
        ):
            return str(log.task)
    raise TaskNotFoundError(
        f"transaction {receipt.tx_hash} emitted no TaskPublished event for {source}", address=""
    )


def _check_against_source(info: TaskInfo, source: str, client: str) -> None:
    """The contract's publishTask rules plus the escrow, checked before anything is pinned."""
    vault = bindings("vault")
    state = read_source(
        source, vault.balance_of_call(singleton("VAULT"), client), with_chain_time=True
    )
    contract, function = _PUBLISH
    require_active(state, _PUBLISH, "publish the task to an active source")
    minimum = int(state.params.minPayment)
    if info.payment < minimum:
        raise PaymentTooLowError(
            f"payment {info.payment} wei is below the source's minPayment {minimum} wei; "
            f"raise payment to at least {minimum}",
            contract=contract,
            function=function,
        )
    now = state.chain_time if state.chain_time is not None else chain_now()
    longest = int(state.params.maxExpiryDuration)
    if info.expiryTime <= now:
        raise TaskExpiredError(
            f"expiryTime {info.expiryTime} is not in the future (chain time {now}); "
            f"set it between {now + 1} and {now + longest}",
            contract=contract,
            function=function,
            expiry=info.expiryTime,
        )
    if info.expiryTime - now > longest:
        raise ExpiryTooLongError(
            f"expiryTime {info.expiryTime} is {info.expiryTime - now}s away, beyond the "
            f"source's maxExpiryDuration of {longest}s; set it to at most {now + longest}",
            contract=contract,
            function=function,
        )
    (balance,) = state.extra
    if int(balance) < info.payment:
        raise InsufficientBalanceError(
            f"the vault balance of {client} is {balance} wei, below the payment of "
            f"{info.payment} wei; deposit at least {info.payment - int(balance)} wei more "
            "with vault.deposit",
            contract=contract,
            function=function,
            required=info.payment,
            available=int(balance),
        )


def publish_task(
    task_info: TaskInfo,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    ipfs_timeout: float = DEFAULT_IPFS_TIMEOUT,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    timeout: float | None = None,
) -> Task:
    """Pin the task config, call ``Controller.publishTask`` and return the new live ``Task``.

    Before anything is pinned or sent: the input is validated, the signer
    resolved (``private_key=`` or ``signer=``, else ``CLIENT_PRIVATE_KEY``) and
    the source checked (a source, active, ``payment >= minPayment``, expiry in
    the future and within ``maxExpiryDuration`` of chain time, vault balance
    covering the payment). ``ipfs_timeout`` bounds the upload (retries
    included), ``receipt_timeout`` the wait for the receipt, ``timeout``
    (optional) the whole call.

    Cost: one JSON-RPC batch with an aggregated ``eth_call`` and an
    ``eth_getBlockByNumber`` (checks), one upload (HTTP POST), one transaction.

    Raises:
        InvalidInputError subclasses: bad ``task_info`` (empty ``function_name``, bad
            address or amount) or timeouts.
        SourceNotFoundError: ``source`` is not a source.
        SourceInactiveError, PaymentTooLowError, TaskExpiredError (expiry not in the
            future), ExpiryTooLongError, InsufficientBalanceError: the contract would refuse.
        MissingSignerError / InvalidSignerError: no usable key.
        IPFSUploadError: the config upload failed (nothing sent).
        TxError: ``timeout`` ran out before sending.
        ReceiptTimeoutError: no receipt in time (carries ``tx_hash``).
        TxRevertError subclasses, RPCError: the chain refused or the node failed.
    """
    budget = Budget.of(timeout)
    ipfs_seconds = positive_seconds("ipfs_timeout", ipfs_timeout)
    receipt_seconds = positive_seconds("receipt_timeout", receipt_timeout)
    source, config = check_task_info(task_info)
    account = choose_signer(private_key, signer, Role.CLIENT)
    _check_against_source(task_info, source, account.address)
    url = upload_json(config, _CONFIG_FILE, ipfs_seconds, budget)
    params = task_info.to_task_params(url)
    request = bindings("controller").publish_task(singleton("CONTROLLER"), params)
    receipt = send(request, account, receipt_seconds, budget)
    return Task(_published_task(receipt, source))


def cancel_task(
    task_address: str, private_key: Signer | None = None, *, signer: Signer | None = None
) -> Receipt:
    """Cancel a task that no provider attempted yet; its escrow returns to the client.

    Cost: one transaction (its gas estimate catches every refusal before sending).

    Raises:
        InvalidAddressError: malformed address.
        NotTaskOwnerError: the signer is not the task's client.
        TaskNotCancelableError: the task was already attempted.
        TaskAlreadyFinalizedError, TaskNotFoundError.
        MissingSignerError / InvalidSignerError (``CLIENT_PRIVATE_KEY``), RPCError.
    """
    address = check_address(task_address, "task_address")
    account = choose_signer(private_key, signer, Role.CLIENT)
    return controller.cancel_task(address, signer=account)


def confirm_response(
    response_address: str, private_key: Signer | None = None, *, signer: Signer | None = None
) -> Receipt:
    """Accept a response (MANUAL_CONFIRMATION): the task finalizes and its provider is paid.

    The signer is the task's client or an agent the client authorized.

    Cost: one transaction (its gas estimate catches every refusal before sending).

    Raises:
        InvalidAddressError: malformed address.
        NotTaskOwnerError: the signer is neither the client nor its agent.
        ResponseAlreadyConfirmedError, TaskAlreadyFinalizedError, ResponseNotFoundError.
        MissingSignerError / InvalidSignerError (``CLIENT_PRIVATE_KEY``), RPCError.
    """
    address = check_address(response_address, "response_address")
    account = choose_signer(private_key, signer, Role.CLIENT)
    return controller.confirm_response(address, signer=account)


def get_task_responses(
    task_address: str, lower: int = 0, upper: int | None = None
) -> list[Response]:
    """Responses submitted for a task, in submission order, as live ``Response`` proxies.

    Read each payload with ``response.fetch_data()``. Cost: one request per
    100 responses.

    Raises:
        InvalidAddressError / InvalidAmountError: bad address or bounds.
        TaskNotFoundError: the address is not a task. RPCError: the node failed.
    """
    return Task(check_address(task_address, "task_address")).get_responses(lower, upper)
