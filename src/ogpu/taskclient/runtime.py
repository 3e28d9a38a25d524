"""What generated task clients call: publish a typed input, read a typed output.

Small and hand-written, like abigen's runtime: the generated module holds the
types and one line per function; the behaviour lives here (and in
``ogpu.client``), so it is tested once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from ogpu.manifest.model import first_problem
from ogpu.taskclient.errors import ResultNotReadyError, TaskResultError
from ogpu.types import InvalidParamsError

if TYPE_CHECKING:
    from ogpu.protocol import Response, Task
    from ogpu.types import Signer

__all__ = ["fetch_result", "publish", "result"]

M = TypeVar("M", bound=BaseModel)
_POLL_SECONDS = 1.0


def publish(
    function: str,
    data: BaseModel,
    *,
    source: str,
    payment: int,
    expiry: int,
    signer: Signer | None = None,
    timeout: float | None = None,
    validate: bool = True,
) -> Task:
    """Publish ``function(data)`` to ``source``: ``ogpu.client.publish_task`` with the
    fields the caller set (JSON keys as the service names them; unset fields are left to
    the service's defaults).

    Cost and errors: those of ``publish_task``; ``InvalidParamsError`` when ``data`` is
    not a pydantic model.
    """
    from ogpu.client import TaskInfo, TaskInput, publish_task

    if not isinstance(data, BaseModel):
        raise InvalidParamsError(
            f"data must be the function's input model, got {type(data).__name__}", param="data"
        )
    payload = data.model_dump(mode="json", by_alias=True, exclude_unset=True)
    info = TaskInfo(
        source=source,
        config=TaskInput(function, payload),
        expiryTime=expiry,
        payment=payment,
    )
    return publish_task(info, signer=signer, timeout=timeout, validate=validate)


def _answer(task: Task) -> Response | None:
    confirmed = task.get_confirmed_response()
    if confirmed is not None:
        return confirmed
    responses = task.get_responses(0, 1)
    return responses[0] if responses else None


def fetch_result(task: Task | str, *, timeout: float | None = None) -> object:
    """The JSON a provider answered for ``task``: its confirmed response, else its first.

    ``timeout`` (seconds): wait up to that long for a response (polling every second);
    None: do not wait. Cost: two or three ``eth_call`` per poll, one HTTP GET.

    Raises:
        ResultNotReadyError: no response (within ``timeout``).
        InvalidAddressError, TaskNotFoundError, RPCError, IPFSError subclasses.
    """
    from ogpu.protocol import Task

    target = task if isinstance(task, Task) else Task(task)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        response = _answer(target)
        if response is not None:
            return response.fetch_data()
        left = None if deadline is None else deadline - time.monotonic()
        if left is None or left <= 0:
            waited = "" if timeout is None else f" within {timeout:g} s"
            raise ResultNotReadyError(f"task {target.address} has no response yet{waited}")
        time.sleep(min(_POLL_SECONDS, left))


def result(task: Task | str, model: type[M], function: str, *, timeout: float | None = None) -> M:
    """The answer to ``task`` parsed as ``model`` (the function's output).

    Raises:
        TaskResultError: the answer reports a failed handler or is not a ``model``.
        And those of :func:`fetch_result`.
    """
    body = fetch_result(task, timeout=timeout)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        if isinstance(body, dict) and body.get("status") in ("failed", "timeout"):
            raise TaskResultError(
                f"the {function!r} handler did not produce an output: {body.get('error')}"
            ) from None
        raise TaskResultError(
            f"the answer to the {function!r} task is not a {model.__name__}: "
            f"{first_problem(exc, 'the answer')}"
        ) from None
