"""The provider's callback endpoint: where a source service POSTs a task's result.

A source service (``ogpu.service``) POSTs the handler's output JSON to
``{CALLBACK_URL}/{task_id}`` with the header ``X-OGPU-Task-Status`` (``success``,
``failed`` or ``timeout``; absent means success, as the official framework sends
it). The task id the runtime gives the service is a *ticket*,
``{task_address}-{secret}`` (:meth:`CallbackServer.ticket`): a fresh random secret
per task, so a result for a task is accepted only from the service the task was
dispatched to, never from another local process guessing the address.
:class:`CallbackServer` accepts that on any path whose last segment is the ticket
and hands the result to whoever called :meth:`CallbackServer.expect` for the task.

Answers: ``200`` delivered; ``404`` no result is expected for that task, ``403`` the
secret is missing or wrong (the service treats 4xx as final and stops retrying);
``409`` a result already arrived; ``400`` body not JSON; ``411``/``413`` missing or
too large ``Content-Length``; ``408`` the request was not complete in time.
``GET /health`` answers ``200``.

Slow or idle clients cannot hold a connection: a connection silent for
``idle_timeout`` seconds is closed, and each request (headers and body) must arrive
within ``request_timeout`` seconds however it trickles in.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from ogpu import net
from ogpu._jsonsafe import loads_bounded
from ogpu.devnet.httpbase import BackgroundHTTPServer
from ogpu.net.wire import BoundedSocket
from ogpu.types import InvalidInputError

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "CallbackResult", "CallbackServer"]

DEFAULT_MAX_RESULT_BYTES = 10 * 1024 * 1024
IDLE_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0
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


class _Server(BackgroundHTTPServer):
    def __init__(self, owner: CallbackServer, host: str, port: int) -> None:
        self.owner = owner
        super().__init__(host, port, _Handler, name="ogpu-provider-callback")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        owner = self.server.owner
        peer = net.Origin("http", str(self.client_address[0]), int(self.client_address[1]))
        self._bounded = BoundedSocket(self.request, peer, "callback client")
        self._idle, self._limit = owner.idle_timeout, owner.request_timeout
        self.connection = self.request
        self.rfile = self._bounded.makefile("rb")
        self.wfile = self._bounded.writer()

    def handle_one_request(self) -> None:
        # Each request gets request_timeout in all, and at most idle_timeout of silence.
        self._bounded.arm(net.Budget.after(self._limit), self._idle, "callback client")
        try:
            super().handle_one_request()
        except net.NetError:
            self.close_connection = True

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
        ticket = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
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
        task, _, secret = ticket.rpartition("-")
        if not _TASK_RE.match(task or ticket):
            self._answer(404, {"error": "the path must end with a task id"})
            return
        try:
            body = loads_bounded(data)
        except (ValueError, UnicodeDecodeError):
            self._answer(400, {"error": "the body is not JSON"})
            return
        status = (self.headers.get("X-OGPU-Task-Status") or "success").strip().lower()
        if status not in _STATUSES:
            status = "failed"
        result = CallbackResult(task=task or ticket, status=status, body=body)
        code, message = owner.deliver(result, secret if task else "")
        self._answer(code, {"status": message})


@dataclass
class _Waiter:
    future: Future[CallbackResult]
    secret: str


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
        idle_timeout: float = IDLE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Bind ``host:port``. ``public_url`` is the base URL the service should use
        (default ``http://host:port/callback``).

        Raises:
            InvalidInputError: bad port, size or timeout.
            OSError: the port cannot be bound.
        """
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInputError(f"callback port must be 0-65535, got {port!r}", param="port")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise InvalidInputError("max_bytes must be a positive int", param="max_bytes")
        for name, value in (("idle_timeout", idle_timeout), ("request_timeout", request_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InvalidInputError(f"{name} must be a positive number", param=name)
        self.max_bytes = max_bytes
        self.idle_timeout = float(idle_timeout)
        self.request_timeout = float(request_timeout)
        self._lock = threading.Lock()
        self._waiters: dict[str, _Waiter] = {}
        self._server = _Server(self, host, port)
        bound_host = host if ":" not in host else f"[{host}]"
        self.url = (public_url or f"http://{bound_host}:{self.port}/callback").rstrip("/")

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve on a daemon thread (idempotent)."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving, close the socket and fail every pending expectation."""
        self._server.stop()
        with self._lock:
            waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            waiter.future.cancel()

    def expect(self, task: str) -> Future[CallbackResult]:
        """Register interest in ``task``'s result, under a fresh secret (see
        :meth:`ticket`); the future resolves when the result arrives with it.

        Raises:
            InvalidInputError: ``task`` is not an address, or is already expected.
        """
        if not isinstance(task, str) or not _TASK_RE.match(task):
            raise InvalidInputError(f"not a task address: {task!r}", param="task")
        future: Future[CallbackResult] = Future()
        with self._lock:
            if task.lower() in self._waiters:
                raise InvalidInputError(f"a result for {task} is already expected", param="task")
            self._waiters[task.lower()] = _Waiter(future, secrets.token_hex(16))
        return future

    def ticket(self, task: str) -> str:
        """The task id to give the service for ``task``: ``{task}-{secret}``. The result
        is accepted only at ``{url}/{ticket}``. Keep it out of logs. No I/O.

        Raises:
            InvalidInputError: no result is expected for ``task`` (call :meth:`expect`).
        """
        with self._lock:
            waiter = self._waiters.get(str(task).lower())
        if waiter is None:
            raise InvalidInputError(f"no result is expected for {task!r}", param="task")
        return f"{task}-{waiter.secret}"

    def forget(self, task: str) -> None:
        """Stop expecting ``task``'s result (a later POST gets ``404``)."""
        with self._lock:
            waiter = self._waiters.pop(task.lower(), None)
        if waiter is not None:
            waiter.future.cancel()

    def expecting(self) -> int:
        """How many results are awaited."""
        with self._lock:
            return sum(1 for w in self._waiters.values() if not w.future.done())

    def deliver(self, result: CallbackResult, secret: str) -> tuple[int, str]:
        """Hand ``result`` to its waiter if ``secret`` is the task's; return the HTTP
        status and message to answer."""
        with self._lock:
            waiter = self._waiters.get(result.task.lower())
        if waiter is None:
            return 404, "no result is expected for this task"
        if not hmac.compare_digest(secret.encode(), waiter.secret.encode()):
            return 403, "this task's result must come from the service it was given to"
        try:
            waiter.future.set_result(result)
        except InvalidStateError:
            return 409, "a result for this task was already received"
        return 200, "received"
