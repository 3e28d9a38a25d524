"""Client workflows on tasks: publish, cancel, read and confirm responses."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ogpu_bindings import controller as controller_abi
from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings import vault as vault_abi
from ogpu_bindings.runtime import check_address

from ogpu._compat import ignore_extra
from ogpu.chain.context import carry
from ogpu.client._checks import SourceState, check_task_info, read_sources, require_active
from ogpu.client._common import (
    DEFAULT_IPFS_TIMEOUT,
    DEFAULT_RECEIPT_TIMEOUT,
    Budget,
    chain_now,
    choose_signer,
    positive_seconds,
    require_chain,
    send,
    singleton,
    upload_json,
)
from ogpu.client._manifest import check_against_manifests
from ogpu.client._publish import check_not_expired, ipfs_attempts, total_budget
from ogpu.protocol import Response, Task, controller
from ogpu.protocol._deadline import pre_send_reads
from ogpu.protocol._pipeline import execute_requests, labelled
from ogpu.types import (
    ExpiryTooLongError,
    InsufficientBalanceError,
    InvalidParamsError,
    OGPUError,
    PaymentTooLowError,
    Receipt,
    Role,
    SourceNotFoundError,
    TaskExpiredError,
    TaskInfo,
    TaskNotFoundError,
    TxError,
    TxHash,
)

if TYPE_CHECKING:
    from ogpu.types import Signer

__all__ = [
    "PublishTasksError",
    "cancel_task",
    "confirm_response",
    "get_task_responses",
    "publish_task",
    "publish_tasks",
]

_CONFIG_FILE = "taskConfig.json"
_PUBLISH = ("Controller", "publishTask")


def _published_task(receipt: Receipt, source: str) -> str:
    event_type = nexus_abi.TaskPublishedEvent
    emitter = singleton("NEXUS").lower()
    for log in receipt.logs:
        if (
            isinstance(log, event_type)
            and str(log.address).lower() == emitter
            and str(log.source).lower() == source.lower()
        ):
            return str(log.task)
    raise TaskNotFoundError(
        message=f"transaction {receipt.tx_hash} emitted no TaskPublished event for {source}",
        address="",
    )


def _check_against_source(info: TaskInfo, state: SourceState, now: int) -> None:
    """The contract's publishTask rules, checked before anything is pinned. No I/O."""
    contract, function = _PUBLISH
    require_active(state, _PUBLISH, "publish the task to an active source")
    minimum = int(state.params.minPayment)
    if info.payment < minimum:
        raise PaymentTooLowError(
            message=f"payment {info.payment} wei is below the source's minPayment {minimum} wei; "
            f"raise payment to at least {minimum}",
            contract=contract,
            function=function,
        )
    longest = int(state.params.maxExpiryDuration)
    if info.expiryTime <= now:
        raise TaskExpiredError(
            message=f"expiryTime {info.expiryTime} is not in the future (chain time {now}); "
            f"set it between {now + 1} and {now + longest}",
            contract=contract,
            function=function,
            expiry=info.expiryTime,
        )
    if info.expiryTime - now > longest:
        raise ExpiryTooLongError(
            message=f"expiryTime {info.expiryTime} is {info.expiryTime - now}s away, beyond the "
            f"source's maxExpiryDuration of {longest}s; set it to at most {now + longest}",
            contract=contract,
            function=function,
        )


def _check_escrow(payment: int, balance: int, client: str) -> None:
    """The vault balance must cover the escrow. No I/O."""
    if balance < payment:
        contract, function = _PUBLISH
        raise InsufficientBalanceError(
            message=f"the vault balance of {client} is {balance} wei, below the payment of "
            f"{payment} wei; deposit at least {payment - balance} wei more with vault.deposit",
            contract=contract,
            function=function,
            required=payment,
            available=balance,
        )


def _preflight(
    infos: Sequence[TaskInfo], sources: Sequence[str], client: str
) -> tuple[dict[str, str], int]:
    """Read every source and the client's vault balance in one JSON-RPC batch and apply
    the contract's rules to each task (``task_infos[i]`` in messages when several).
    Returns each source's metadata URL (where its manifest is) and the chain time.

    Raises:
        SourceNotFoundError, SourceInactiveError, PaymentTooLowError, TaskExpiredError,
        ExpiryTooLongError, InsufficientBalanceError; RPCError.
    """
    balance_call = vault_abi.balance_of_call(singleton("VAULT"), client)
    several = len(infos) > 1
    try:
        states = read_sources(sources, balance_call, with_chain_time=True)
    except SourceNotFoundError as exc:
        index = sources.index(exc.address) if exc.address in sources else 0
        raise labelled(exc, f"task_infos[{index}]") if several else exc from None
    # every state comes from the same read: one chain time, one vault balance
    first = next(iter(states.values()))
    now = first.chain_time if first.chain_time is not None else chain_now()
    for i, (info, source) in enumerate(zip(infos, sources, strict=True)):
        try:
            _check_against_source(info, states[source], now)
        except OGPUError as exc:
            raise labelled(exc, f"task_infos[{i}]") if several else exc from None
    (balance,) = first.extra
    _check_escrow(sum(info.payment for info in infos), int(balance), client)
    urls = {source: str(state.params.imageMetadataUrl) for source, state in states.items()}
    return urls, now


def publish_task(
    task_info: TaskInfo,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    ipfs_timeout: float = DEFAULT_IPFS_TIMEOUT,
    ipfs_retries: int | None = None,
    ipfs_backoff: float | None = None,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    total_timeout: float | None = None,
    timeout: float | None = None,
    validate: bool = True,
    **_ignored: Any,
) -> Task:
    """Pin the task config, call ``Controller.publishTask`` and return the new live ``Task``.

    Before anything is pinned or sent: the input is validated, the signer
    resolved (``private_key=`` or ``signer=``, else ``CLIENT_PRIVATE_KEY``) and
    the source checked (a source, active, ``payment >= minPayment``, expiry in
    the future and within ``maxExpiryDuration`` of chain time, vault balance
    covering the payment); then, unless ``validate=False``, the task is checked
    against the source's manifest when it has one (``ogpu.manifest``: a listed
    function, data matching its input schema). The expiry is checked again right
    before the send. ``ipfs_timeout`` bounds the upload (retries included; with
    0.2.3's ``ipfs_retries``/``ipfs_backoff`` it bounds each of ``ipfs_retries``
    attempts, ``ipfs_backoff`` doubling between them), ``receipt_timeout`` the
    wait for the receipt, ``total_timeout`` (or ``timeout``; optional) the whole
    call: every request ends by it and no transaction is broadcast past it. To
    publish many tasks, ``publish_tasks`` pipelines them. Other keyword arguments
    are ignored with an ``IgnoredArgumentsWarning``.

    Cost: one JSON-RPC batch with an aggregated ``eth_call`` and an
    ``eth_getBlockByNumber`` (checks), one HTTP GET of the source's metadata the
    first time a source (and metadata URL) is seen, one upload (HTTP POST), one
    transaction.

    Raises:
        InvalidInputError subclasses: bad ``task_info`` (empty ``function_name``, bad
            address or amount) or timeouts.
        SourceNotFoundError: ``source`` is not a source.
        SourceInactiveError, PaymentTooLowError, TaskExpiredError (expiry not in the
            future, also when it passed during the upload), ExpiryTooLongError,
            InsufficientBalanceError: the contract would refuse.
        UnknownFunctionError (with a "did you mean"), TaskDataError (with the path in
            ``data``): the source's manifest refuses the task (``InvalidParamsError``).
        MissingSignerError / InvalidSignerError: no usable key.
        IPFSUploadError: the config upload failed or ran out of time (nothing sent).
        PublishTimeoutError: the total timeout ran out before the broadcast (a
            ``TxError``; ``stage`` says where; nothing sent).
        TxReceiptTimeoutError: no receipt in time; the transaction was broadcast and may
            still be mined (``tx_hash``; a ``ReceiptTimeoutError``).
        TxRevertError subclasses, TxRpcError (an ``RPCError``): the chain refused or the
            node failed.
    """
    ignore_extra("publish_task", _ignored)
    budget = total_budget(timeout, total_timeout)
    ipfs_seconds = positive_seconds("ipfs_timeout", ipfs_timeout)
    receipt_seconds = positive_seconds("receipt_timeout", receipt_timeout)
    retries, backoff = ipfs_attempts(ipfs_retries, ipfs_backoff)
    source, config = check_task_info(task_info)
    account = choose_signer(private_key, signer, Role.CLIENT)
    with budget.scope():  # every request and wait below ends by the deadline
        with pre_send_reads("checks"):  # a read cut short by the budget: PublishTimeoutError
            metadata_urls, chain_time = _preflight([task_info], [source], account.address)
            since = time.monotonic()
            if validate:
                check_against_manifests([config], [source], metadata_urls, budget)
        url = upload_json(
            config, _CONFIG_FILE, ipfs_seconds, budget, retries=retries, backoff=backoff
        )
        check_not_expired(task_info, chain_time, since)
        params = task_info.to_task_params(url).to_struct()
        request = controller_abi.publish_task(singleton("CONTROLLER"), params)
        receipt = send(request, account, receipt_seconds, budget)
    return Task(_published_task(receipt, source))


class PublishTasksError(TxError):
    """Some tasks of a ``publish_tasks`` call were not published (the others were).

    ``tasks[i]`` is the published ``Task`` or None; ``errors[i]`` the typed error
    that stopped task ``i``; ``tx_hash`` is the first failed transaction's, if any.
    """

    def __init__(
        self, message: str, *, tasks: list[Task | None], errors: dict[int, OGPUError]
    ) -> None:
        first = errors[min(errors)]
        super().__init__(message, tx_hash=getattr(first, "tx_hash", None))
        self.tasks = tasks
        self.errors = errors


def _upload_all(
    configs: Sequence[dict[str, Any]], seconds: float, budget: Budget, workers: int
) -> list[str]:
    """Pin every config (identical ones once), ``workers`` uploads at a time.

    Raises:
        IPFSUploadError (``task_infos[i]`` in the message), TxError (budget spent).
    """
    keys = [json.dumps(config, sort_keys=True, separators=(",", ":")) for config in configs]
    first_of: dict[str, int] = {}
    for i, key in enumerate(keys):
        first_of.setdefault(key, i)
    urls: dict[str, str] = {}
    require_chain()  # once, before the threads
    with ThreadPoolExecutor(max_workers=min(workers, len(first_of))) as pool:
        futures = {
            key: pool.submit(carry(upload_json), configs[i], _CONFIG_FILE, seconds, budget)
            for key, i in first_of.items()
        }
        for key, future in futures.items():
            try:
                urls[key] = future.result()
            except OGPUError as exc:
                for pending in futures.values():
                    pending.cancel()
                label = f"task_infos[{first_of[key]}]"
                raise (labelled(exc, label) if len(configs) > 1 else exc) from None
    return [urls[key] for key in keys]


def publish_tasks(
    task_infos: Sequence[TaskInfo],
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    ipfs_timeout: float = DEFAULT_IPFS_TIMEOUT,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    timeout: float | None = None,
    max_uploads: int = 8,
    validate: bool = True,
) -> list[Task]:
    """Publish many tasks from one signer with pipelined nonces; return them in order.

    The same checks as ``publish_task`` (manifests included unless
    ``validate=False``), for every task and before anything is pinned or sent
    (the vault balance must cover the sum of the payments); then
    the configs are pinned ``max_uploads`` at a time (identical ones once), every
    transaction is estimated (a refusal raises before anything is sent), signed
    with consecutive nonces and broadcast in order, and the receipts are awaited
    together. ``timeout`` (optional) bounds the whole call by wall clock (checks,
    uploads, sends and receipts; a transaction whose receipt did not come in time is
    reported per task with its hash).

    Cost (N tasks): one JSON-RPC batch of checks, N uploads (fewer when configs
    repeat), then per 100 transactions one batch of gas estimates (one per source,
    payment and config-URL length) and fee data, one of broadcasts, and receipt polls:
    4 sequential round trips for up to 100 tasks on a node that mines on arrival
    (checks, estimates, broadcast, one poll), instead of N round trips each.

    Raises:
        InvalidParamsError: ``task_infos`` is not a list/tuple of ``TaskInfo``, or a bad
            ``max_uploads``; any error ``publish_task`` raises for bad input or a
            refusing source (the message starts with ``task_infos[i]``). Nothing sent.
        MissingSignerError / InvalidSignerError: no usable key.
        ChainNotSupportedError: the node serves another chain (nothing pinned).
        IPFSUploadError: an upload failed (nothing sent).
        TxError: ``timeout`` ran out before sending. RPCError: the node failed.
        PublishTasksError: some transactions failed after the broadcast began; it
            carries the published ``tasks`` and the per-task ``errors``.
    """
    if not isinstance(task_infos, (list, tuple)):
        raise InvalidParamsError(
            f"task_infos must be a list of TaskInfo, got {type(task_infos).__name__}",
            param="task_infos",
        )
    if isinstance(max_uploads, bool) or not isinstance(max_uploads, int) or max_uploads < 1:
        raise InvalidParamsError("max_uploads must be an int >= 1", param="max_uploads")
    budget = Budget.of(timeout)
    ipfs_seconds = positive_seconds("ipfs_timeout", ipfs_timeout)
    receipt_seconds = positive_seconds("receipt_timeout", receipt_timeout)
    checked: list[tuple[str, dict[str, Any]]] = []
    for i, info in enumerate(task_infos):
        try:
            checked.append(check_task_info(info))
        except OGPUError as exc:
            raise labelled(exc, f"task_infos[{i}]") from None
    account = choose_signer(private_key, signer, Role.CLIENT)
    if not checked:
        return []
    infos = list(task_infos)
    sources = [source for source, _ in checked]
    with budget.scope():  # every request and wait below ends by the deadline
        metadata_urls, _ = _preflight(infos, sources, account.address)
        if validate:
            check_against_manifests([c for _, c in checked], sources, metadata_urls, budget)
        urls = _upload_all([config for _, config in checked], ipfs_seconds, budget, max_uploads)
        publish = controller_abi.publish_task
        requests = [
            publish(singleton("CONTROLLER"), info.to_task_params(url).to_struct())
            for info, url in zip(infos, urls, strict=True)
        ]
        seconds = budget.cap(receipt_seconds, "sending the transactions", "pre-transaction")
        outcomes = execute_requests(
            requests,
            account,
            labels=[f"task_infos[{i}]" for i in range(len(requests))],
            receipt_timeout=seconds,
            # publishTask does the same work for the same source, payment and config URL
            # length (later tasks of a batch write slots the first made non-zero: never
            # more gas), so one estimate per such group sets every member's gas limit
            gas_groups=[
                (source, info.payment, len(url))
                for source, info, url in zip(sources, infos, urls, strict=True)
            ],
            timestamps=False,  # only the logs are read
        )
    tasks: list[Task | None] = []
    errors: dict[int, OGPUError] = {}
    for i, (outcome, source) in enumerate(zip(outcomes, sources, strict=True)):
        if isinstance(outcome, OGPUError):
            tasks.append(None)
            errors[i] = outcome
            continue
        try:
            tasks.append(Task(_published_task(outcome, source)))
        except OGPUError as exc:
            tasks.append(None)
            errors[i] = labelled(exc, f"task_infos[{i}]")
    if errors:
        first = errors[min(errors)]
        raise PublishTasksError(
            f"{len(errors)} of {len(tasks)} tasks were not published; first: {first}",
            tasks=tasks,
            errors=errors,
        )
    return [task for task in tasks if task is not None]


def cancel_task(
    task: str | Task,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> Receipt:
    """Cancel a task (an address or a ``Task``) that no provider attempted yet; its escrow
    returns to the client. Extra keyword arguments are ignored with an
    ``IgnoredArgumentsWarning``.

    Cost: one transaction (its gas estimate catches every refusal before sending).

    Raises:
        InvalidAddressError: malformed address.
        NotTaskOwnerError: the signer is not the task's client.
        TaskNotCancelableError: the task was already attempted.
        TaskAlreadyFinalizedError, TaskNotFoundError.
        MissingSignerError / InvalidSignerError (``CLIENT_PRIVATE_KEY``), RPCError.
    """
    ignore_extra("cancel_task", _ignored)
    address = check_address(str(task), "task")
    account = choose_signer(private_key, signer, Role.CLIENT)
    return controller.cancel_task(address, signer=account)


def confirm_response(
    response_address: str,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> TxHash:
    """Accept a response (MANUAL_CONFIRMATION): the task finalizes and its provider is paid.

    The signer is the task's client or an agent the client authorized. Returns
    the transaction hash (a ``str``, as the official SDK), carrying the
    ``Receipt`` as ``.receipt``. Extra keyword arguments are ignored with an
    ``IgnoredArgumentsWarning``.

    Cost: one transaction (its gas estimate catches every refusal before sending).

    Raises:
        InvalidAddressError: malformed address.
        NotTaskOwnerError: the signer is neither the client nor its agent.
        ResponseAlreadyConfirmedError, TaskAlreadyFinalizedError, ResponseNotFoundError.
        MissingSignerError / InvalidSignerError (``CLIENT_PRIVATE_KEY``), RPCError.
    """
    ignore_extra("confirm_response", _ignored)
    address = check_address(response_address, "response_address")
    account = choose_signer(private_key, signer, Role.CLIENT)
    return TxHash(controller.confirm_response(address, signer=account))


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
