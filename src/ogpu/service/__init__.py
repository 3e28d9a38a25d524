"""ogpu.service: the framework a source's docker image runs to serve task handlers.

Needs the ``service`` extra: ``pip install 'ogpu[service]'`` (fastapi, uvicorn).

Usage (unchanged from the official framework)::

    import ogpu.service
    from pydantic import BaseModel

    class Input(BaseModel):
        text: str

    class Output(BaseModel):
        result: str

    @ogpu.service.init()
    def setup() -> None:
        ogpu.service.logger.info("Loading model...")

    @ogpu.service.expose(timeout=60)
    def predict(data: Input) -> Output:
        return Output(result=data.text.upper())

    ogpu.service.start()

HTTP API
    ``POST /run/{function}/{task_address}`` with the input model as JSON body:
    ``202 {"task_address": ..., "status": "accepted"}``; the handler runs in the
    background. ``404`` (unknown function, lists ``available``), ``413`` (body
    too large), ``422`` (malformed JSON or pydantic validation errors, in
    FastAPI's ``{"detail": [...]}`` form), ``429`` + ``Retry-After`` (the task
    queue is full; the header estimates, from the recent pace, when it will
    have drained), ``503`` (init not finished, init failed, or shutting down).
    ``GET /health``: ``200`` once the init function returned, ``503`` before
    (and after a failed init or during shutdown); the body carries ``status``,
    ``handlers``, ``in_flight``, ``queued`` and counters. ``GET /manifest``: the
    source manifest (every handler's input and output JSON Schema and timeout; see
    :mod:`ogpu.manifest`), also ``Service.manifest()`` and, without serving,
    ``ogpu service manifest source.py`` (:mod:`ogpu.service.manifest`).
    ``/docs`` and ``/openapi.json`` describe every handler's request schema.
    Handler names follow the task ``function_name`` rule (``ogpu._routing``): an
    ASCII identifier of at most 128 characters.

Callback
    The result is POSTed as JSON to ``{CALLBACK_URL}/{task_address}`` with the
    header ``X-OGPU-Task-Status: success|failed|timeout``.
    Success: the handler output exactly (``output.model_dump(mode="json")``),
    as the official framework sends it. Failure or timeout (the official one
    sends nothing; ``OGPU_SERVICE_FAILURE_CALLBACKS=0`` does the same)::

        {"task_address": "0x…", "function": "predict", "status": "failed",
         "error": "ValueError: message", "error_type": "ValueError"}
        {"task_address": "0x…", "function": "predict", "status": "timeout",
         "error": "handler 'predict' did not finish within its 60 s timeout",
         "error_type": "TimeoutError", "timeout": 60.0}

    Network errors and 5xx answers are retried with exponential backoff
    (bounded by attempts and total time); 4xx and other answers are final.

Concurrency and the queue
    At most ``OGPU_SERVICE_MAX_IN_FLIGHT`` accepted tasks run at once (a task
    holds its slot through its handler and its callback delivery): ``def``
    handlers on at most ``OGPU_SERVICE_WORKER_THREADS`` threads, ``async def``
    handlers on the event loop. A task accepted past that limit gets its ``202``
    at once and waits in a first-in, first-out queue (``OGPU_SERVICE_QUEUE_SIZE``
    tasks and ``OGPU_SERVICE_QUEUE_MAX_BYTES`` of request bodies); only a full
    queue answers ``429``. Every accepted task gets exactly one callback
    (success, failure or timeout; successes only under
    ``OGPU_SERVICE_FAILURE_CALLBACKS=0``), unless shutdown ends before it
    started (see ``OGPU_SERVICE_SHUTDOWN_GRACE``). ``GET /health`` shows
    ``in_flight`` and ``queued``.

Environment variables (read by :func:`start` through ``ServiceConfig.from_env``;
the first name set wins)
    - ``OGPU_SERVICE_HOST`` (default ``0.0.0.0``): bind address.
    - ``OGPU_SERVICE_PORT``, ``PORT`` (default ``5555``): bind port (0 = any free port).
    - ``CALLBACK_URL``, ``CALLBACK_ADDRESS`` (unset): results go to
      ``{CALLBACK_URL}/{task_address}``; unset = results are only logged.
    - ``SOURCE_ADDRESS``, ``PROVIDER_ADDRESS``, ``PROTOCOL_VERSION`` (unset):
      informational (``SOURCE_ADDRESS`` is shown by ``/health``).
    - ``OGPU_SERVICE_MAX_IN_FLIGHT`` (32): accepted tasks running at once (handler,
      then its callback; a timed-out ``def`` handler keeps its slot until it
      returns). Tasks beyond it wait in the queue.
    - ``OGPU_SERVICE_QUEUE_SIZE`` (10000): accepted tasks that may wait for a
      running slot, started first in, first out; past it new tasks get ``429``
      (0: no queue).
    - ``OGPU_SERVICE_QUEUE_MAX_BYTES`` (268435456): request body bytes the waiting
      tasks may hold together; past it new tasks get ``429`` (one task of any
      size fits an empty queue).
    - ``OGPU_SERVICE_WORKER_THREADS`` (8): threads running sync (``def``) handlers.
    - ``OGPU_SERVICE_MAX_BODY_BYTES`` (16777216): request body limit (``413``).
    - ``OGPU_SERVICE_CALLBACK_ATTEMPTS`` (5): callback attempts, the first included.
    - ``OGPU_SERVICE_CALLBACK_MAX_SECONDS`` (60): time budget of one delivery.
    - ``OGPU_SERVICE_CALLBACK_BACKOFF`` (0.5): first retry delay in seconds;
      doubles each retry; each wait is a random point between half and all of it.
    - ``OGPU_SERVICE_CALLBACK_BACKOFF_MAX`` (10): cap of one retry delay.
    - ``OGPU_SERVICE_CALLBACK_TIMEOUT`` (10): timeout of one callback request.
    - ``OGPU_SERVICE_CALLBACK_THREADS`` (8): threads sending callbacks.
    - ``OGPU_SERVICE_SHUTDOWN_GRACE`` (30): seconds after SIGTERM/SIGINT during
      which running tasks finish (callbacks included) and queued ones still
      start; then queued tasks that never started are logged (they get no
      callback) and running ones are cancelled.
    - ``OGPU_SERVICE_CLIENT_TIMEOUT`` (10): seconds a client gets to send a
      request's headers, and to send each part of its body; past that the
      connection is closed (or answered ``408``).
    - ``OGPU_SERVICE_LOG_LEVEL`` (``INFO``): level of the ``ogpu.service`` logger.
    - ``OGPU_SERVICE_FAILURE_CALLBACKS`` (``1``): ``0`` sends successes only, as the
      official framework does (failures and timeouts are then only logged).

Timeouts count from when the handler starts, not from acceptance: neither the
wait in the queue nor a ``def`` handler's wait for a free worker thread counts.
An ``async def`` handler is then cancelled; a ``def`` handler cannot be
stopped, so its thread is abandoned (it keeps its in-flight slot until it
returns) and the timeout is reported at once.
``async def`` handlers run on the event loop: they must not block it.

Testing without docker or a port: :class:`ogpu.service.testing.ServiceTestClient`
(``call_handler("predict", {...})`` returns the output model or a ``TaskFailure``).
Isolation: ``Service()`` holds its own registry; ``expose``/``init``/``start``
here act on :func:`get_default_service`, which ``reset()`` empties.
"""

from __future__ import annotations

from .errors import ServiceDependencyError

_EXTRA = ("fastapi", "uvicorn", "starlette")

try:
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:
    if (exc.name or "").split(".")[0] in _EXTRA:
        raise ServiceDependencyError(
            f"ogpu.service needs the optional 'service' dependencies ({exc.name} is missing); "
            "install them with: pip install 'ogpu[service]'"
        ) from exc
    raise

from . import config, decorators, errors, handler, server  # noqa: E402
from .config import ServiceConfig  # noqa: E402
from .decorators import expose, init  # noqa: E402
from .errors import *  # noqa: E402, F403 - every service error, listed in errors.__all__
from .execute import TaskFailure, TaskOutcome  # noqa: E402
from .logger import logger  # noqa: E402
from .server import create_app, start  # noqa: E402
from .service import Service, get_default_service  # noqa: E402


def reset() -> None:
    """Empty the default service's registry (for tests). No I/O."""
    get_default_service().reset()


__all__ = [
    "Service",
    "ServiceConfig",
    "TaskFailure",
    "TaskOutcome",
    "config",
    "create_app",
    "decorators",
    "expose",
    "get_default_service",
    "handler",
    "init",
    "logger",
    "reset",
    "server",
    "start",
]
__all__ += errors.__all__
