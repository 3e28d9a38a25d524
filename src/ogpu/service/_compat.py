"""The official framework's ``server.lifespan`` and ``server.send_callback``.

``ogpu.service.start()`` does not use them (its app runs the init function in the
background and delivers callbacks with retries, see ``runtime``/``callback``); they
serve code that assembles its own FastAPI app the official way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .callback import CallbackClient, DeliveryResult, policy_of
from .config import ServiceConfig
from .logger import logger
from .pool import DaemonThreadPool
from .service import get_default_service

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["lifespan", "send_callback"]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """FastAPI lifespan running the default service's init function before serving.

    ``FastAPI(lifespan=lifespan)``: the init function (sync or async) runs to
    completion at startup; if it raises, the error propagates and the app does
    not start.
    """
    spec = get_default_service().init_spec
    if spec is not None:
        logger.info("running init function %r", spec.name)
        try:
            await spec.run()
        except Exception:
            logger.exception("init function %r failed", spec.name)
            raise
        logger.info("init function %r finished", spec.name)
    yield


def send_callback(
    task_address: str, result: Mapping[str, Any], config: ServiceConfig | None = None
) -> DeliveryResult | None:
    """POST ``result`` as JSON to ``{CALLBACK_URL}/{task_address}`` (header
    ``X-OGPU-Task-Status: success``) and wait for the outcome.

    Without a callback URL (``CALLBACK_URL`` unset) it logs and returns None.
    Network errors and 5xx are retried within ``config``'s callback budget
    (default: the environment's); the outcome is returned, never raised.
    Blocks the calling thread (safe inside an event loop's thread too).

    Raises:
        ServiceConfigError: a malformed setting in the environment.
        TypeError: ``result`` is not JSON-serialisable.
    """
    cfg = config if config is not None else ServiceConfig.from_env()
    if cfg.callback_url is None:
        logger.info("no CALLBACK_URL configured; result of task %s not sent", task_address)
        return None
    # Two workers: the delivery's own event loop runs on one (the caller's thread may be
    # running a loop already), its POSTs on the other.
    pool = DaemonThreadPool(2, "ogpu-callback")
    policy, timeout = policy_of(cfg)
    client = CallbackClient(cfg.callback_url, policy, pool, timeout=timeout)
    try:
        delivery = client.deliver(task_address, result, "success")
        outcome: DeliveryResult = pool.submit(asyncio.run, delivery).result()
    finally:
        pool.shutdown()
    if outcome.delivered:
        logger.info("callback for task %s delivered", task_address)
    return outcome
