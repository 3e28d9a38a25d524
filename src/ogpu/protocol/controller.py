"""Controller: publish tasks, confirm responses, cancel tasks.

Writes cost one transaction (see ``TxExecutor.execute``). Invalid arguments
raise ``InvalidInputError`` subclasses before any RPC. The default signer is
``CLIENT_PRIVATE_KEY``.

``confirm_response`` and ``cancel_task`` are generated from ``abis/protocol.json``
(``ogpu_bindings.protocol.controller``); ``publish_task`` takes a receipt budget, so
it is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import controller as controller_abi
from ogpu_bindings.events.nexus import TaskPublishedEvent
from ogpu_bindings.protocol import controller as _generated
from ogpu_bindings.protocol.controller import *  # noqa: F403 (the functions, listed in its __all__)

from ogpu._lazy import lazy_imports
from ogpu.chain.signer import resolve_signer
from ogpu.protocol import _bindings as b
from ogpu.types.enums import Role
from ogpu.types.errors import TaskNotFoundError
from ogpu.types.receipt import Receipt, receipt_arg

if TYPE_CHECKING:
    from ogpu.types import Signer

__all__ = [*_generated.__all__, "extract_task_address", "publish_task"]


# Seconds to wait for a publish's receipt (the executor's default; it is imported lazily).
_RECEIPT_TIMEOUT = 120.0


def _address() -> str:
    return b.singleton("CONTROLLER")


def publish_task(
    params: TaskParams,
    *,
    signer: Signer | None = None,
    receipt_timeout: float = _RECEIPT_TIMEOUT,
    deadline: float | None = None,
    budget: float | None = None,
) -> Receipt:
    """Call ``Controller.publishTask(params)``: deploy a task and escrow its payment.

    The new address is in the receipt's ``TaskPublishedEvent``
    (``extract_task_address(receipt)``). ``receipt_timeout`` caps the receipt wait;
    ``deadline`` (a ``time.monotonic()`` instant, the caller's total budget of
    ``budget`` seconds) bounds every request, and nothing is broadcast past it.

    Raises:
        SourceInactiveError: the source is inactive.
        InsufficientBalanceError: the client's liquid vault balance is below the
            payment (``required``/``available`` filled in).
        PaymentTooLowError, ExpiryTooLongError, TaskExpiredError (expiry in the past).
        TxReceiptTimeoutError: no receipt in time; the transaction was broadcast (``tx_hash``).
        PublishTimeoutError: ``deadline`` passed before the broadcast (nothing sent).
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    from ogpu.protocol._executor import execute_request
    from ogpu.types.params import task_struct

    request = controller_abi.publish_task(_address(), task_struct(params))
    account = resolve_signer(signer, Role.CLIENT)
    return execute_request(
        request, account, receipt_timeout=receipt_timeout, deadline=deadline, budget=budget
    )


def extract_task_address(receipt: Receipt) -> str:
    """Address of the task a ``publish_task`` receipt created. No RPC.

    Raises:
        TaskNotFoundError: the receipt has no ``TaskPublished`` event.
        InvalidReceiptError: ``receipt`` is no Receipt.
    """
    for log in receipt_arg(receipt).logs:
        if isinstance(log, TaskPublishedEvent):
            return log.task
    raise TaskNotFoundError(message=f"transaction {receipt.tx_hash} published no task", address="")


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.types.params import TaskParams as TaskParams
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
