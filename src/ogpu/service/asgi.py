"""The ASGI edge of the service: body limits, the header deadline, and the accept path.

Every HTTP request is read here first (size, nesting and client-time limits).
A well-formed ``POST /run/{function}/{task_address}`` is then accepted right
here (:class:`RunFastPath`); everything else, including every malformed
``/run`` request, goes on to the FastAPI app, which answers it as it always did.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .._jsonsafe import MAX_JSON_DEPTH, nesting_depth
from .._taskid import TASK_ID_PATTERN, is_task_id
from .registry import HandlerSpec
from .runtime import ServiceRuntime, SubmitStatus

__all__ = [
    "TASK_ADDRESS_PATTERN",
    "BodySizeLimitMiddleware",
    "RunFastPath",
    "http_protocol",
    "rejection",
]

TASK_ADDRESS_PATTERN = TASK_ID_PATTERN  # one rule with the callback URL and the provider
# Past this many discarded bytes an oversized request is answered without reading on.
_MAX_DRAIN_BYTES = 64 * 1024 * 1024
_MAX_RETRY_AFTER = 60

FastPath = Callable[[Scope, bytes, Send], Awaitable[bool]]
_timeout: Callable[[float], AbstractAsyncContextManager[None]] | None = getattr(
    asyncio, "timeout", None
)


class BodySizeLimitMiddleware:
    """ASGI middleware answering ``413`` to request bodies over ``max_bytes``.

    The body is buffered (at most ``max_bytes``) before the app sees it, so a
    lying or absent ``Content-Length`` cannot get past the limit. A body nested
    deeper than ``MAX_JSON_DEPTH`` gets FastAPI's ``422`` ``json_invalid``
    answer before anything parses it (deep nesting can overflow the C stack).
    A client that sends no body part for ``client_timeout`` seconds gets ``408``
    and the connection is closed. ``fast_path(scope, body, send)`` may answer a
    request first (returns True if it did).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        client_timeout: float = 10.0,
        fast_path: FastPath | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.client_timeout = client_timeout
        self.fast_path = fast_path

    async def _receive(self, receive: Receive) -> Message | None:
        try:
            if _timeout is None:  # Python 3.10
                return await asyncio.wait_for(receive(), self.client_timeout)
            async with _timeout(self.client_timeout):  # no task per call, unlike wait_for
                return await receive()
        except asyncio.TimeoutError:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive, send)
        if body is None:
            return
        if self.fast_path is not None and await self.fast_path(scope, body, send):
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once the request has been answered (or is gone)."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(scope, receive, send, 0)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive(receive)
            if message is None:
                await _timed_out(scope, receive, send)
                return None
            if message["type"] == "http.disconnect":
                return None
            part = message.get("body", b"")
            size += len(part)
            if size > self.max_bytes:
                more = message.get("more_body", False)
                await self._reject(scope, receive, send, size, more=more)
                return None
            chunks.append(part)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if nesting_depth(body) > MAX_JSON_DEPTH:
            await _too_deep(scope, receive, send)
            return None
        return body

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


async def _too_deep(scope: Scope, receive: Receive, send: Send) -> None:
    error = {
        "type": "json_invalid",
        "loc": ["body"],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": f"nested deeper than {MAX_JSON_DEPTH}"},
    }
    await JSONResponse({"detail": [error]}, status_code=422)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would parse this request's body as JSON (a present
    ``application/json`` or ``application/*+json`` content type)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return bool(kind == b"application/json") or (
                kind.startswith(b"application/")
                and kind.endswith(b"+json")
                and kind.count(b"/") == 1
            )
    return False


def rejection(status: SubmitStatus, runtime: ServiceRuntime) -> JSONResponse:
    """The answer to a task the runtime did not accept (429 or 503). No I/O."""
    if status == "busy":
        cfg = runtime.config
        return JSONResponse(
            {
                "detail": f"the task queue is full ({runtime.in_flight} running, "
                f"{runtime.queued} queued); retry later",
                "max_in_flight": cfg.max_in_flight,
                "queue_size": cfg.queue_size,
            },
            status_code=429,
            headers={"Retry-After": str(_retry_after(runtime))},
        )
    if status == "not_ready":
        return JSONResponse(
            {"detail": "service is initializing; retry later", "status": runtime.state},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    detail = "init function failed" if status == "init_failed" else "service is shutting down"
    return JSONResponse({"detail": detail, "status": runtime.state}, status_code=503)


def _retry_after(runtime: ServiceRuntime) -> int:
    """Seconds until the queue has drained a little, from its recent pace (1 to 60)."""
    rate = runtime.finish_rate()
    if rate <= 0:
        return 1
    return max(1, min(_MAX_RETRY_AFTER, math.ceil(runtime.queued / rate)))


_ACCEPTED_HEAD = {"type": "http.response.start", "status": 202}
_JSON_TYPE = (b"content-type", b"application/json")


class RunFastPath:
    """Accept ``POST /run/{function}/{task_address}`` without the FastAPI router.

    Only requests FastAPI would accept are answered here (known function, a
    task address matching the path pattern, a JSON content type, a body that
    parses and validates as the handler's input model, the same way FastAPI
    does: ``json.loads`` then ``model_validate(..., from_attributes=True)``); the
    rest returns False and goes to the app, whose answers (404, 405, 422 shapes)
    stay the reference. Saves the router, dependency solving and the exception
    middleware on every accepted task.
    """

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.specs: dict[str, HandlerSpec] = dict(runtime.handlers)

    async def __call__(self, scope: Scope, body: bytes, send: Send) -> bool:
        spec, task_address = self._route(scope)
        if spec is None or not body or not _is_json(scope):
            return False
        try:
            data = spec.input_model.model_validate(json.loads(body), from_attributes=True)
        except Exception:  # FastAPI answers it (422, or 500 for a validator's own bug)
            return False
        status = self.runtime.submit(spec, task_address, data, len(body))
        if status != "accepted":
            await rejection(status, self.runtime)(scope, _no_receive, send)
            return True
        # what JSONResponse({"task_address": ..., "status": "accepted"}) renders
        content = b'{"task_address":"%s","status":"accepted"}' % task_address.encode()
        headers = [(b"content-length", str(len(content)).encode()), _JSON_TYPE]
        await send({**_ACCEPTED_HEAD, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return True

    def _route(self, scope: Scope) -> tuple[HandlerSpec | None, str]:
        path: str = scope["path"]
        if scope["method"] != "POST" or not path.startswith("/run/") or scope.get("root_path"):
            return None, ""
        parts = path.split("/")
        if len(parts) != 4 or not is_task_id(parts[3]):
            return None, ""
        return self.specs.get(parts[2]), parts[3]


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def http_protocol(client_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are not
    complete ``client_timeout`` seconds after it opened or after the previous
    response. No I/O; pass the result as ``uvicorn.Config(http=...)``.

    One timer per connection, moved lazily: a response only records when the
    wait for the next headers began, and the timer re-arms itself when it fires
    early, so a busy keep-alive connection does not schedule a timer per request.
    """

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _waiting_since = 0.0
        _waiting_cycle: object = None

        def _wait_for_headers(self, after: object) -> None:
            self._waiting_since = self.loop.time()
            self._waiting_cycle = after
            if self._header_timer is None:
                self._header_timer = self.loop.call_at(
                    self._waiting_since + client_timeout, self._header_deadline
                )

        def _header_deadline(self) -> None:
            self._header_timer = None
            if self.cycle is not self._waiting_cycle or self.transport.is_closing():
                return  # a request began since: no deadline until its response is done
            due = self._waiting_since + client_timeout
            if self.loop.time() < due:
                self._header_timer = self.loop.call_at(due, self._header_deadline)
            else:
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._wait_for_headers(None)

        def on_response_complete(self) -> None:
            finished = self.cycle  # a pipelined request may start a new cycle in super()
            super().on_response_complete()
            if not self.transport.is_closing():
                self._wait_for_headers(finished)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

    return HeaderTimeoutProtocol
