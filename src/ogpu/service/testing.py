"""Helpers to test a source without docker: call handlers in process, serve on a
loopback port in a thread, and record callbacks with a stdlib HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import requests
import uvicorn
from pydantic import BaseModel

from ogpu.devnet.httpbase import BackgroundHTTPServer

from .config import ServiceConfig
from .errors import ServiceError
from .execute import TaskFailure, TaskOutcome, execute_handler
from .pool import DaemonThreadPool
from .runtime import ServiceRuntime
from .server import server_config
from .service import Service, get_default_service

__all__ = [
    "CallbackRecord",
    "CallbackRecorder",
    "RunningService",
    "ServiceTestClient",
    "call_handler",
    "serve_in_thread",
]

InputData = Mapping[str, Any] | BaseModel | str | bytes


class ServiceTestClient:
    """Call a service's handlers in process, exactly as the server runs them.

    No network. The init function runs once, before the first call (pass
    ``run_init=False`` to skip it). Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        service: Service | None = None,
        *,
        run_init: bool = True,
        worker_threads: int = 4,
    ) -> None:
        self.service = service if service is not None else get_default_service()
        self._pool = DaemonThreadPool(worker_threads, "ogpu-test")
        self._init_pending = run_init

    def __enter__(self) -> ServiceTestClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the worker threads (abandoned timed-out handlers keep running)."""
        self._pool.shutdown()

    async def _ensure_init(self) -> None:
        if not self._init_pending:
            return
        spec = self.service.init_spec
        if spec is not None:
            await spec.run(self._pool)
        self._init_pending = False

    async def arun(self, function: str, data: InputData) -> TaskOutcome:
        """Async :meth:`run`, for use inside a running event loop."""
        spec = self.service.get_handler(function)
        if isinstance(data, (str, bytes)):
            model = spec.input_model.model_validate_json(data)
        elif isinstance(data, BaseModel):
            model = spec.input_model.model_validate(
                data if isinstance(data, spec.input_model) else data.model_dump()
            )
        else:
            model = spec.input_model.model_validate(data)
        await self._ensure_init()
        return await execute_handler(spec, model, self._pool)

    def run(self, function: str, data: InputData) -> TaskOutcome:
        """Run handler ``function`` on ``data`` (dict, model or JSON) and return the outcome.

        Raises :class:`~ogpu.service.errors.UnknownHandlerError`, pydantic's
        ``ValidationError`` for bad input, whatever the init function raises, and
        ``RuntimeError`` inside a running event loop (use :meth:`arun` there).
        Handler errors and timeouts are not raised: see ``outcome.failure``.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(function, data))
        raise RuntimeError("an event loop is running here; use `await client.arun(...)`")

    def call_handler(self, function: str, data: InputData) -> BaseModel | TaskFailure:
        """The handler's output model, or the :class:`TaskFailure` it ended with.

        Errors as for :meth:`run`.
        """
        outcome = self.run(function, data)
        if outcome.output is not None:
            return outcome.output
        assert outcome.failure is not None
        return outcome.failure


def call_handler(
    function: str, data: InputData, *, service: Service | None = None
) -> BaseModel | TaskFailure:
    """One-shot :meth:`ServiceTestClient.call_handler` (runs the init function every call)."""
    with ServiceTestClient(service) as client:
        return client.call_handler(function, data)


@dataclass(frozen=True)
class CallbackRecord:
    """One POST received by :class:`CallbackRecorder`."""

    task_address: str
    body: Any
    headers: Mapping[str, str]
    answered: int
    received_at: float = field(compare=False)


class CallbackRecorder:
    """A loopback HTTP server recording callback POSTs (``{url}/{task_address}``).

    ``fail_first`` makes the first N requests answer ``fail_status``; after that
    it answers ``status``. Use as a context manager (starts/stops the server).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        fail_first: int = 0,
        fail_status: int = 503,
        status: int = 200,
    ) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.status = status
        self.records: list[CallbackRecord] = []
        self._cond = threading.Condition()
        self._requests = 0
        recorder = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                answer = recorder._record(self.path, body, dict(self.headers.items()))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = BackgroundHTTPServer(host, port, _Handler, name="callback-recorder")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base to use as ``CALLBACK_URL``."""
        return f"http://127.0.0.1:{self.port}/callback"

    @property
    def requests_seen(self) -> int:
        """Every POST received, including the ones answered with ``fail_status``."""
        with self._cond:
            return self._requests

    def _record(self, path: str, body: Any, headers: dict[str, str]) -> int:
        with self._cond:
            self._requests += 1
            answer = self.fail_status if self._requests <= self.fail_first else self.status
            task = unquote(path.rstrip("/").rsplit("/", 1)[-1])
            self.records.append(CallbackRecord(task, body, headers, answer, time.monotonic()))
            self._cond.notify_all()
            return answer

    def delivered(self, task_address: str | None = None) -> list[CallbackRecord]:
        """Records answered with a 2xx, optionally for one task only."""
        with self._cond:
            return [
                r
                for r in self.records
                if 200 <= r.answered < 300 and task_address in (None, r.task_address)
            ]

    def wait_for(
        self, task_address: str | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[CallbackRecord]:
        """Block until ``count`` deliveries (for ``task_address`` or in total) arrived.

        Raises ``TimeoutError`` with what did arrive.
        """
        deadline = time.monotonic() + timeout
        with self._cond:  # re-entrant: delivered() takes it too
            while True:
                got = self.delivered(task_address)
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(got)}/{count} callback(s) for {task_address or 'any task'} "
                        f"within {timeout} s; {self._requests} request(s) seen"
                    )
                self._cond.wait(left)

    def start(self) -> CallbackRecorder:
        """Serve on a daemon thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; close the listener and open connections."""
        self._server.stop()

    def __enter__(self) -> CallbackRecorder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass
class RunningService:
    """A service served by uvicorn on a background thread (see :func:`serve_in_thread`)."""

    server: uvicorn.Server
    thread: threading.Thread
    runtime: ServiceRuntime
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def post(
        self, function: str, task_address: str, data: Any, timeout: float = 10.0
    ) -> requests.Response:
        """``POST /run/{function}/{task_address}`` with ``data`` as JSON; the answer as is."""
        return requests.post(
            self.url(f"/run/{function}/{task_address}"), json=data, timeout=timeout
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the init function finished. Raises ``TimeoutError`` or
        :class:`ServiceError` if init failed."""
        deadline = time.monotonic() + timeout
        while self.runtime.state != "ready":
            if self.runtime.state == "init_failed":
                raise ServiceError(f"init failed: {self.runtime.init_error}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"service not ready after {timeout} s ({self.runtime.state})")
            time.sleep(0.01)

    def stop(self, timeout: float | None = None) -> None:
        """Ask for a graceful shutdown (as SIGTERM does) and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout)


@contextmanager
def serve_in_thread(
    service: Service | None = None,
    config: ServiceConfig | None = None,
    *,
    startup_timeout: float = 30.0,
) -> Iterator[RunningService]:
    """Serve ``service`` on ``config.host:config.port`` (default ``127.0.0.1``, a free
    port) in a daemon thread; stop it gracefully on exit.

    Does not wait for the init function (see :meth:`RunningService.wait_ready`).
    Raises :class:`ServiceError` if the server does not come up.
    """
    svc = service if service is not None else get_default_service()
    cfg = config if config is not None else ServiceConfig(host="127.0.0.1", port=0)
    app = svc.create_app(cfg)
    runtime: ServiceRuntime = app.state.ogpu_runtime
    server = uvicorn.Server(server_config(app, cfg))
    thread = threading.Thread(target=server.run, name="ogpu-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ServiceError(f"the service did not start on {cfg.host}:{cfg.port}")
        time.sleep(0.005)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    running = RunningService(server, thread, runtime, cfg.host, port)
    try:
        yield running
    finally:
        running.stop()
