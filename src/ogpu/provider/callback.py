"""The provider's callback endpoint: where a source service POSTs a task's result.

A source service (``ogpu.service``) POSTs the handler's output JSON to
``{CALLBACK_URL}/{task_address}`` with the header ``X-OGPU-Task-Status``
(``success``, ``failed`` or ``timeout``; absent means success, as the
official framework sends it). :class:`CallbackServer` accepts that on any
path whose last segment is the task address and hands the result to whoever
called :meth:`CallbackServer.expect` for that task.

Answers: ``200`` delivered; ``404`` no result is expected for that task (the
service treats 4xx as final and stops retrying); ``409`` a result already
arrived; ``400`` body not JSON; ``411``/``413`` missing or too large
``Content-Length``. ``GET /health`` answers ``200``.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ogpu._jsonsafe import loads_bounded
from ogpu.types import InvalidInputError

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "CallbackResult", "CallbackServer"]

DEFAULT_MAX_RESULT_BYTES = 10 * 1024 * 1024
_TASK_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_STATUSES = ("success", "failed", "timeout")


@dataclass(frozen=True)
class CallbackResult:
    """One result POSTed by the source service."""

    task: str
    status: str
    """``success``, ``failed`` or ``timeout`` (from ``X-OGPU-Task-Status``)."""
    body: Any
    """The parsed JSON body: the handler output on success, an error report otherwise."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, owner: CallbackServer, host: str, port: int) -> None:
        self.owner = owner
        super().__init__((host, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        # One request per connection: a kept-alive connection would outlive stop() and
        # deliver a later result to this stopped server (404) instead of its successor.
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?")[0].rstrip("/") == "/health":
            self._answer(200, {"status": "ok", "expecting": self.server.owner.expecting()})
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        owner = self.server.owner
        task = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        raw_length = self.headers.get("Content-Length")
        if raw_length is None or not raw_length.strip().isdigit():
            self.close_connection = True
            self._answer(411, {"error": "Content-Length required"})
            return
        length = int(raw_length)
        if length > owner.max_bytes:
            self.close_connection = True
            self._answer(413, {"error": f"result larger than {owner.max_bytes} bytes"})
            return
        data = self.rfile.read(length)
        if not _TASK_RE.match(task):
            self._answer(404, {"error": "the path must end with a task address"})
            return
        try:
            body = loads_bounded(data)
        except (ValueError, UnicodeDecodeError):
            self._answer(400, {"error": "the body is not JSON"})
            return
        status = (self.headers.get("X-OGPU-Task-Status") or "success").strip().lower()
        if status not in _STATUSES:
            status = "failed"
        code, message = owner.deliver(CallbackResult(task=task, status=status, body=body))
        self._answer(code, {"status": message})


class CallbackServer:
    """A small HTTP server collecting task results; thread-safe.

    Binds at construction (port 0 picks a free one); :meth:`start` serves on
    a daemon thread, :meth:`stop` shuts down. No RPC.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_url: str | None = None,
        max_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    ) -> None:
        """Bind ``host:port``. ``public_url`` is the base URL the service should use
        (default ``http://host:port/callback``).

        Raises:
            InvalidInputError: bad port or size.
            OSError: the port cannot be bound.
        """
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInputError(f"callback port must be 0-65535, got {port!r}", param="port")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise InvalidInputError("max_bytes must be a positive int", param="max_bytes")
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._waiters: dict[str, Future[CallbackResult]] = {}
        self._server = _Server(self, host, port)
        self._thread: threading.Thread | None = None
        bound_host = host if ":" not in host else f"[{host}]"
        self.url = (public_url or f"http://{bound_host}:{self.port}/callback").rstrip("/")

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve on a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                args=(0.05,),
                name="ogpu-provider-callback",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and fail every pending expectation."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        with self._lock:
            waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            future.cancel()

    def expect(self, task: str) -> Future[CallbackResult]:
        """Register interest in ``task``'s result; the future resolves when it arrives.

        Raises:
            InvalidInputError: ``task`` is not an address, or is already expected.
        """
        if not _TASK_RE.match(task):
            raise InvalidInputError(f"not a task address: {task!r}", param="task")
        future: Future[CallbackResult] = Future()
        with self._lock:
            if task.lower() in self._waiters:
                raise InvalidInputError(f"a result for {task} is already expected", param="task")
            self._waiters[task.lower()] = future
        return future

    def forget(self, task: str) -> None:
        """Stop expecting ``task``'s result (a later POST gets ``404``)."""
        with self._lock:
            future = self._waiters.pop(task.lower(), None)
        if future is not None:
            future.cancel()

    def expecting(self) -> int:
        """How many results are awaited."""
        with self._lock:
            return sum(1 for f in self._waiters.values() if not f.done())

    def deliver(self, result: CallbackResult) -> tuple[int, str]:
        """Hand ``result`` to its waiter; return the HTTP status and message to answer."""
        with self._lock:
            future = self._waiters.get(result.task.lower())
        if future is None:
            return 404, "no result is expected for this task"
        try:
            future.set_result(result)
        except InvalidStateError:
            return 409, "a result for this task was already received"
        return 200, "received"
