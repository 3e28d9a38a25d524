"""The HTTP side: the FastAPI app and :func:`start` (uvicorn)."""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .. import __version__
from .._jsonsafe import MAX_JSON_DEPTH, nesting_depth
from .._routing import function_name_problem
from .._taskid import TASK_ID_PATTERN
from ._compat import lifespan, send_callback
from .config import CALLBACK_URL, SERVICE_HOST, SERVICE_PORT, ServiceConfig
from .handler import get_handlers, get_init_handler
from .logger import logger
from .manifest import build_manifest, start_intercepted
from .registry import HandlerSpec
from .runtime import ServiceRuntime
from .service import Service, get_default_service

# From CALLBACK_URL on: the official module's names.
__all__ = [
    "CALLBACK_URL",
    "SERVICE_HOST",
    "SERVICE_PORT",
    "AcceptedResponse",
    "BodySizeLimitMiddleware",
    "create_app",
    "get_handlers",
    "get_init_handler",
    "http_protocol",
    "lifespan",
    "send_callback",
    "start",
]

TASK_ADDRESS_PATTERN = TASK_ID_PATTERN  # one rule with the callback URL and the provider
_RETRY_AFTER_SECONDS = "1"
# Past this many discarded bytes an oversized request is answered without reading on.
_MAX_DRAIN_BYTES = 64 * 1024 * 1024


class AcceptedResponse(BaseModel):
    """``202`` body: the task was queued and its result will go to the callback URL."""

    task_address: str
    status: Literal["accepted"] = "accepted"


class ErrorResponse(BaseModel):
    detail: str


class UnknownFunctionResponse(BaseModel):
    detail: str
    available: list[str]


class BodySizeLimitMiddleware:
    """ASGI middleware answering ``413`` to request bodies over ``max_bytes``.

    The body is buffered (at most ``max_bytes``) before the app sees it, so a
    lying or absent ``Content-Length`` cannot get past the limit. A body nested
    deeper than ``MAX_JSON_DEPTH`` gets FastAPI's ``422`` ``json_invalid``
    answer before anything parses it (deep nesting can overflow the C stack).
    A client that sends no body part for ``client_timeout`` seconds gets ``408``
    and the connection is closed.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, client_timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.client_timeout = client_timeout

    async def _receive(self, receive: Receive) -> Message | None:
        try:
            return await asyncio.wait_for(receive(), self.client_timeout)
        except asyncio.TimeoutError:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(scope, receive, send, 0)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive(receive)
            if message is None:
                await _timed_out(scope, receive, send)
                return
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                more = message.get("more_body", False)
                await self._reject(scope, receive, send, size, more=more)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        if nesting_depth(b"".join(chunks)) > MAX_JSON_DEPTH:
            await _too_deep(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, seen: int, more: bool = True
    ) -> None:
        # Read (and drop) the rest so the client is not reset while still sending.
        headers: dict[str, str] = {}
        while more and seen < _MAX_DRAIN_BYTES:
            message = await self._receive(receive)
            if message is None:
                headers["Connection"] = "close"
                break
            if message["type"] == "http.disconnect":
                return
            seen += len(message.get("body", b""))
            more = message.get("more_body", False)
        response = JSONResponse(
            {"detail": f"request body exceeds the {self.max_bytes}-byte limit"},
            status_code=413,
            headers=headers,
        )
        await response(scope, receive, send)


async def _timed_out(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"detail": "the request body was not sent in time"},
        status_code=408,
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)


def http_protocol(client_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are not
    complete ``client_timeout`` seconds after it opened or after the previous
    response. No I/O; pass the result as ``uvicorn.Config(http=...)``.
    """

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(
                client_timeout, self._header_deadline, self.cycle
            )

        def _header_deadline(self, cycle: object) -> None:
            self._header_timer = None
            if self.cycle is cycle and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


async def _too_deep(scope: Scope, receive: Receive, send: Send) -> None:
    error = {
        "type": "json_invalid",
        "loc": ["body"],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": f"nested deeper than {MAX_JSON_DEPTH}"},
    }
    await JSONResponse({"detail": [error]}, status_code=422)(scope, receive, send)


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as strings (``"NaN"``, ``"Infinity"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, status_code=422)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _rejection(status: str, runtime: ServiceRuntime) -> JSONResponse:
    if status == "busy":
        limit = runtime.config.max_in_flight
        return JSONResponse(
            {
                "detail": f"too many tasks in flight ({limit}); retry later",
                "max_in_flight": limit,
            },
            status_code=429,
            headers={"Retry-After": _RETRY_AFTER_SECONDS},
        )
    if status == "not_ready":
        return JSONResponse(
            {"detail": "service is initializing; retry later", "status": runtime.state},
            status_code=503,
            headers={"Retry-After": _RETRY_AFTER_SECONDS},
        )
    detail = "init function failed" if status == "init_failed" else "service is shutting down"
    return JSONResponse({"detail": detail, "status": runtime.state}, status_code=503)


def _run_endpoint(runtime: ServiceRuntime, spec: HandlerSpec) -> Callable[..., Any]:
    async def run(task_address: str, data: BaseModel) -> JSONResponse:
        status = runtime.submit(spec, task_address, data)
        if status != "accepted":
            return _rejection(status, runtime)
        return JSONResponse({"task_address": task_address, "status": "accepted"}, status_code=202)

    # FastAPI reads the body model from the signature; give each handler its own.
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "task_address",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[
                    str,
                    Path(
                        pattern=TASK_ADDRESS_PATTERN,
                        description="The task's address; the result goes to "
                        "{CALLBACK_URL}/{task_address}",
                    ),
                ],
            ),
            inspect.Parameter(
                "data", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.input_model
            ),
        ],
        return_annotation=JSONResponse,
    )
    run.__name__ = f"run_{spec.name}"
    return run


def _callback_routes(spec: HandlerSpec) -> list[BaseRoute]:
    """OpenAPI ``callbacks`` entry documenting the POST the service makes on completion."""
    router = APIRouter()

    async def deliver(body: BaseModel) -> None:
        """Success: the handler output. Failure/timeout: see the ogpu.service docs."""

    deliver.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.output_model
            )
        ]
    )
    router.add_api_route(
        "{$CALLBACK_URL}/{$request.path.task_address}",
        deliver,
        methods=["POST"],
        name=f"{spec.name}_result",
        operation_id=f"{spec.name}_result",
        summary=f"Result of `{spec.name}` (header X-OGPU-Task-Status: success|failed|timeout)",
    )
    return list(router.routes)


_RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": UnknownFunctionResponse, "description": "Unknown function"},
    413: {"model": ErrorResponse, "description": "Request body too large"},
    429: {"model": ErrorResponse, "description": "Too many tasks in flight (see Retry-After)"},
    503: {"model": ErrorResponse, "description": "Initializing, init failed or shutting down"},
}


def server_config(app: FastAPI, cfg: ServiceConfig) -> uvicorn.Config:
    """The uvicorn settings every server of ``app`` runs with (bind address, client and
    shutdown timeouts). No I/O.
    """
    return uvicorn.Config(
        app,
        host=cfg.host,
        port=cfg.port,
        lifespan="on",
        http=http_protocol(cfg.client_timeout),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=max(1, math.ceil(cfg.shutdown_grace)),
    )


def create_app(
    service: Service | None = None,
    config: ServiceConfig | None = None,
    *,
    on_init_failure: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the ASGI app for ``service`` (default: the module-level one). No I/O.

    ``config`` defaults to :meth:`ServiceConfig.from_env` (raises
    :class:`~ogpu.service.errors.ServiceConfigError` for a bad variable). The
    handler set is copied now: later registrations do not change this app.
    ``on_init_failure`` is called on the loop if the init function raises.
    """
    svc = service if service is not None else get_default_service()
    cfg = config if config is not None else ServiceConfig.from_env()
    runtime = ServiceRuntime(svc.handlers, svc.init_spec, cfg, on_init_failure=on_init_failure)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.startup()
        try:
            yield
        finally:
            await runtime.shutdown()

    app = FastAPI(
        title="OpenGPU Service",
        version=__version__,
        description=(
            "Task handlers of an OpenGPU source. `POST /run/{function}/{task_address}` "
            "answers 202 and runs the handler in the background; its output JSON is "
            "POSTed to `{CALLBACK_URL}/{task_address}`."
        ),
        lifespan=lifespan,
    )
    app.state.ogpu_runtime = runtime
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=cfg.max_body_bytes, client_timeout=cfg.client_timeout
    )

    for spec in runtime.handlers.values():
        app.router.add_api_route(
            f"/run/{spec.name}/{{task_address}}",
            _run_endpoint(runtime, spec),
            methods=["POST"],
            status_code=202,
            response_model=AcceptedResponse,
            responses=_RUN_RESPONSES,
            summary=spec.summary,
            description=inspect.getdoc(spec.func) or None,
            operation_id=f"run_{spec.name}",
            tags=["handlers"],
            callbacks=_callback_routes(spec),
        )

    available = sorted(runtime.handlers)

    async def unknown_function(function: str, task_address: str) -> JSONResponse:
        # the shared rule: say why a name can never be a handler's
        problem = function_name_problem(function)
        return JSONResponse(
            {"detail": problem or f"unknown function {function!r}", "available": available},
            status_code=404,
        )

    app.add_api_route(
        "/run/{function}/{task_address}",
        unknown_function,
        methods=["POST"],
        include_in_schema=False,
    )

    async def health() -> JSONResponse:
        body = runtime.health()
        return JSONResponse(body, status_code=200 if runtime.state == "ready" else 503)

    app.add_api_route(
        "/health",
        health,
        methods=["GET"],
        summary="Readiness: 200 once the init function finished, 503 before/after",
        tags=["service"],
    )
    manifest: list[dict[str, Any]] = []  # built on the first request, not at start-up

    async def get_manifest() -> JSONResponse:
        if not manifest:
            manifest.append(build_manifest(runtime.handlers).to_dict())
        return JSONResponse(manifest[0])

    app.add_api_route(
        "/manifest",
        get_manifest,
        methods=["GET"],
        summary="The source manifest: every handler's input and output JSON Schema "
        "and timeout (see ogpu.manifest)",
        tags=["service"],
    )
    return app


def start(config: ServiceConfig | None = None, *, service: Service | None = None) -> None:
    """Serve the registered handlers with uvicorn until SIGTERM/SIGINT.

    Binds ``config.host:config.port`` (default from the environment,
    ``0.0.0.0:5555``). On a stop signal, running tasks and their callbacks get
    ``shutdown_grace`` seconds to finish. Raises
    :class:`~ogpu.service.errors.ServiceConfigError` for bad settings and
    ``SystemExit(3)`` if the init function fails. Under
    :func:`ogpu.service.manifest.manifest_extraction` it serves nothing and ends
    the calling code instead (see :mod:`ogpu.service.manifest`).
    """
    svc = service if service is not None else get_default_service()
    start_intercepted(svc)  # `ogpu service manifest` imports the file: serve nothing
    cfg = config if config is not None else ServiceConfig.from_env()
    logger.setLevel(cfg.log_level)
    servers: list[uvicorn.Server] = []

    def stop_server() -> None:
        for srv in servers:
            srv.should_exit = True

    app = create_app(svc, cfg, on_init_failure=stop_server)
    runtime: ServiceRuntime = app.state.ogpu_runtime
    if not runtime.handlers:
        logger.warning("no handlers registered: decorate functions with @ogpu.service.expose()")
    for name in sorted(runtime.handlers):
        logger.info("registered endpoint POST /run/%s/{task_address}", name)
    server = uvicorn.Server(server_config(app, cfg))
    servers.append(server)
    logger.info("starting the OpenGPU service on http://%s:%d (docs at /docs)", cfg.host, cfg.port)
    with suppress(KeyboardInterrupt):
        server.run()
    if runtime.init_error is not None:
        raise SystemExit(3)
