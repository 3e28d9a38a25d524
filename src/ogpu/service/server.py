"""The HTTP side: the FastAPI app and :func:`start` (uvicorn)."""

from __future__ import annotations

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
from starlette.types import Receive, Scope, Send

from .. import __version__
from .._routing import function_name_problem
from ._compat import lifespan, send_callback
from .asgi import (
    TASK_ADDRESS_PATTERN,
    BodySizeLimitMiddleware,
    RunFastPath,
    http_protocol,
    rejection,
)
from .config import CALLBACK_URL, SERVICE_HOST, SERVICE_PORT, ServiceConfig
from .errors import ServiceConfigError
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
    "ServiceApp",
    "create_app",
    "get_handlers",
    "get_init_handler",
    "http_protocol",
    "lifespan",
    "send_callback",
    "start",
]


class ServiceApp(FastAPI):
    """The service's FastAPI app. Every HTTP request first passes the body limits
    and the accept path (:mod:`ogpu.service.asgi`), then FastAPI's own stack.

    Middleware added with ``add_middleware`` must see every request: once there
    is any, tasks are accepted through the FastAPI route only.
    """

    _ogpu_entry: BodySizeLimitMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self._ogpu_entry
        if entry is None:
            await super().__call__(scope, receive, send)
            return
        if self.user_middleware and entry.fast_path is not None:
            entry.fast_path = None
        await entry(scope, receive, send)

    async def _fastapi(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


class AcceptedResponse(BaseModel):
    """``202`` body: the task was queued and its result will go to the callback URL."""

    task_address: str
    status: Literal["accepted"] = "accepted"


class ErrorResponse(BaseModel):
    detail: str


class UnknownFunctionResponse(BaseModel):
    detail: str
    available: list[str]


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as strings (``"NaN"``, ``"Infinity"``) and lone
    surrogates (``"\\ud800"`` in the request JSON) as U+FFFD, so it encodes as UTF-8."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        return {_json_safe(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, status_code=422)


def _run_endpoint(runtime: ServiceRuntime, spec: HandlerSpec) -> Callable[..., Any]:
    async def run(task_address: str, data: BaseModel, request: Request) -> JSONResponse:
        # RunFastPath accepts well-formed requests before FastAPI; this route is its
        # reference (and what the OpenAPI schema describes)
        status = runtime.submit(spec, task_address, data, len(await request.body()))
        if status != "accepted":
            return rejection(status, runtime)
        return JSONResponse({"task_address": task_address, "status": "accepted"}, status_code=202)

    # FastAPI reads the body model from the signature; give each handler its own.
    path = Path(
        pattern=TASK_ADDRESS_PATTERN,
        description="The task's address; the result goes to {CALLBACK_URL}/{task_address}",
    )
    run.__signature__ = _signature(  # type: ignore[attr-defined]
        JSONResponse, task_address=Annotated[str, path], data=spec.input_model, request=Request
    )
    run.__name__ = f"run_{spec.name}"
    return run


def _signature(returns: Any, **annotations: Any) -> inspect.Signature:
    """The signature FastAPI reads: these parameters (by keyword or position), in order."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(name, kind, annotation=a) for name, a in annotations.items()]
    return inspect.Signature(params, return_annotation=returns)


def _callback_routes(spec: HandlerSpec) -> list[BaseRoute]:
    """OpenAPI ``callbacks`` entry documenting the POST the service makes on completion."""
    router = APIRouter()

    async def deliver(body: BaseModel) -> None:
        """Success: the handler output. Failure/timeout: see the ogpu.service docs."""

    deliver.__signature__ = _signature(inspect.Signature.empty, body=spec.output_model)  # type: ignore[attr-defined]
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
    429: {"model": ErrorResponse, "description": "The task queue is full (see Retry-After)"},
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
    ``on_init_failure`` is called on the loop if the init function raises. Raises
    ServiceConfigError for a ``service`` or ``config`` of another type.
    """
    svc = service if service is not None else get_default_service()
    cfg = config if config is not None else ServiceConfig.from_env()
    if not isinstance(svc, Service) or not isinstance(cfg, ServiceConfig):
        raise ServiceConfigError(
            "create_app takes an ogpu.service.Service and a ServiceConfig (or None for the "
            f"defaults), got {type(svc).__name__} and {type(cfg).__name__}"
        )
    runtime = ServiceRuntime(svc.handlers, svc.init_spec, cfg, on_init_failure=on_init_failure)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.startup()
        try:
            yield
        finally:
            await runtime.shutdown()

    app = ServiceApp(
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
    app._ogpu_entry = BodySizeLimitMiddleware(
        app._fastapi,
        max_bytes=cfg.max_body_bytes,
        client_timeout=cfg.client_timeout,
        fast_path=RunFastPath(runtime),
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
