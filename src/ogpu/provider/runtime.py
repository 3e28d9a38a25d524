"""``ProviderRuntime``: serve a source's tasks with a source service, like a provider node.

For each source it serves, the runtime watches ``TaskPublished`` (one shared
``eth_getLogs`` poller, :mod:`ogpu.events`) and, per task, on a bounded
worker pool:

1. reads the task (one aggregated ``eth_call``) and skips it unless NEW or
   ATTEMPTED and unexpired; fetches its config JSON (``function_name``,
   ``data``) from IPFS (one HTTP GET);
2. attempts it (``Nexus.attempt``, one transaction signed by the provider
   key, or through ``ogpu.agent.attempt`` by the scheduler key when given: the
   master or an agent of it), unless it was already attempted for this
   provider (e.g. by an external scheduler; one ``eth_call`` to check);
3. calls the source service: ``POST {service_url}/run/{function}/{task}``
   with ``data`` as the JSON body (expects 2xx, e.g. ``202``);
4. waits for the service's callback on its own HTTP server
   (:class:`~ogpu.provider.callback.CallbackServer`, at ``callback_url``);
5. pins the result JSON (``ogpu.ipfs.publish_to_ipfs``, one HTTP POST) and
   submits the response (``Nexus.submitResponse``, one transaction signed by
   the provider key) with the pinned URL as ``data``.

A failure in one task (a revert, the service refusing, a failed handler, no
callback in time) is reported as a ``failed`` :class:`RuntimeEvent` and the
runtime carries on. Blocking calls run on a bounded thread pool; the event
loop runs on its own thread, so the runtime is started and stopped from
ordinary synchronous code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import json
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from ogpu_bindings._runtime import check_address

from ogpu import agent
from ogpu._routing import function_name_problem
from ogpu.chain import ChainConfig, Web3Manager
from ogpu.chain.signer import resolve_signer
from ogpu.events import watch_task_published
from ogpu.ipfs import fetch_ipfs_json, publish_to_ipfs
from ogpu.protocol import Task, execute_request, nexus
from ogpu.provider.callback import DEFAULT_MAX_RESULT_BYTES, CallbackResult, CallbackServer
from ogpu.types import (
    InvalidInputError,
    OGPUError,
    ResponseParams,
    Role,
    RPCError,
    Signer,
    TaskStatus,
)

__all__ = ["ProviderRuntime", "ProviderRuntimeError", "RuntimeEvent", "RuntimeSettings"]

logger = logging.getLogger("ogpu.provider")

T = TypeVar("T")

_SEEN_LIMIT = 10_000
_OPEN = (TaskStatus.NEW, TaskStatus.ATTEMPTED)


class ProviderRuntimeError(OGPUError):
    """The provider runtime cannot start or cannot process a task."""


@dataclass(frozen=True)
class RuntimeEvent:
    """One step of the runtime, for progress display (``on_event``) and logs.

    ``kind``: ``started``, ``watching``, ``task``, ``attempted``, ``dispatched``,
    ``result``, ``pinned``, ``submitted``, ``skipped``, ``failed``, ``stopped``.
    ``elapsed``: seconds since the task was seen (0 for runtime-level events).
    ``data``: details such as ``tx_hash``, ``url``, ``response``, ``result``.
    """

    kind: str
    message: str
    task: str | None = None
    source: str | None = None
    elapsed: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict. No I/O."""
        return {
            "kind": self.kind,
            "message": self.message,
            "task": self.task,
            "source": self.source,
            "elapsed": round(self.elapsed, 3),
            "data": dict(self.data),
        }


def _positive(name: str, value: object, *, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        ok = False
    elif integer:
        ok = isinstance(value, int) and value > 0
    else:
        ok = math.isfinite(value) and value > 0
    if not ok:
        kind = "a positive int" if integer else "a positive number of seconds"
        raise InvalidInputError(f"{name} must be {kind}, got {value!r}", param=name)


def _http_url(name: str, value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise InvalidInputError(f"{name} must be an http(s) URL, got {value!r}", param=name)
    return value.rstrip("/")


@dataclass(frozen=True)
class RuntimeSettings:
    """How the runtime reaches the source service and how much it takes on.

    ``service_url``: base URL of the source service (e.g. ``http://127.0.0.1:5555``).
    ``callback_host``/``callback_port``: where the callback server binds
    (port 0 = any free port). ``callback_url``: the base URL the *service* uses
    to reach it (default ``http://{callback_host}:{port}/callback``; set it when
    the service runs in a container, e.g. ``http://host.docker.internal:PORT/callback``);
    start the service with ``CALLBACK_URL`` set to :attr:`ProviderRuntime.callback_url`.
    ``poll_interval``: seconds between ``eth_getLogs`` polls.
    ``max_concurrent_tasks``: tasks processed at once; ``max_queued_tasks``: seen
    but waiting (further events wait in the watcher).
    ``dispatch_timeout``: the ``/run`` request; ``result_timeout``: the wait for
    the callback; ``service_ready_timeout``: the wait for the service at start.
    ``shutdown_grace``: seconds in-flight tasks get at :meth:`ProviderRuntime.stop`.
    ``ipfs_backend``: ``ogpu.ipfs`` backend name (None: from the chain/environment).

    Construction raises ``InvalidInputError`` for an invalid value. No I/O.
    """

    service_url: str
    callback_host: str = "127.0.0.1"
    callback_port: int = 0
    callback_url: str | None = None
    poll_interval: float = 1.0
    max_concurrent_tasks: int = 4
    max_queued_tasks: int = 1000
    dispatch_timeout: float = 10.0
    result_timeout: float = 300.0
    service_ready_timeout: float = 30.0
    shutdown_grace: float = 10.0
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    ipfs_backend: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "service_url", _http_url("service_url", self.service_url))
        if self.callback_url is not None:
            object.__setattr__(self, "callback_url", _http_url("callback_url", self.callback_url))
        if not isinstance(self.callback_host, str) or not self.callback_host:
            raise InvalidInputError("callback_host must be a host name", param="callback_host")
        port = self.callback_port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInputError(
                f"callback_port must be 0-65535, got {port!r}", param="callback_port"
            )
        for name in (
            "poll_interval",
            "dispatch_timeout",
            "result_timeout",
            "service_ready_timeout",
            "shutdown_grace",
        ):
            _positive(name, getattr(self, name))
        for name in ("max_concurrent_tasks", "max_queued_tasks", "max_result_bytes"):
            _positive(name, getattr(self, name), integer=True)


@dataclass
class _Job:
    task: str
    source: str
    seen_at: float


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def _task_config(config: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(config, Mapping):
        raise ProviderRuntimeError("the task config is not a JSON object")
    function = config.get("function_name")
    problem = function_name_problem(function)
    if problem is not None or not isinstance(function, str):
        raise ProviderRuntimeError(f"the task config cannot be dispatched: {problem}")
    data = config.get("data", {})
    if not isinstance(data, Mapping):
        raise ProviderRuntimeError("the task config's data is not a JSON object")
    return function, dict(data)


def _failure_text(result: CallbackResult) -> str:
    body = result.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        return str(body["error"])
    return f"the handler reported {result.status}"


class ProviderRuntime:
    """A provider node for the devnet (or any network): watch, attempt, run, pin, submit.

    ``provider``: the provider's key (hex or ``LocalAccount``; None reads
    ``PROVIDER_PRIVATE_KEY``); it signs the responses. ``scheduler``: optional
    key of the provider's master or of an agent of the master; when given it
    signs the attempts (agent-driven scheduling). ``sources``: sources to serve
    from :meth:`start` (more with :meth:`add_source`). ``on_event``: called with
    every :class:`RuntimeEvent` on the runtime's thread (exceptions are logged).
    ``from_block``: first block to scan (default: the head at start).

    The provider must be registered to each source (see
    :func:`ogpu.provider.prepare_provider`). Use as a context manager or call
    :meth:`start` / :meth:`stop`. ``repr`` shows addresses only, never keys.
    """

    def __init__(
        self,
        provider: Signer | None,
        settings: RuntimeSettings,
        *,
        scheduler: Signer | None = None,
        sources: Iterable[str] = (),
        on_event: Callable[[RuntimeEvent], None] | None = None,
        from_block: int | None = None,
    ) -> None:
        """No I/O.

        Raises:
            InvalidInputError: bad settings, source address or ``from_block``.
            MissingSignerError / InvalidSignerError: no usable provider or scheduler key.
        """
        if not isinstance(settings, RuntimeSettings):
            raise InvalidInputError("settings must be a RuntimeSettings", param="settings")
        if from_block is not None and (
            isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0
        ):
            raise InvalidInputError("from_block must be an int >= 0", param="from_block")
        self.settings = settings
        self._provider: LocalAccount = resolve_signer(provider, Role.PROVIDER)
        self._scheduler: LocalAccount = (
            self._provider if scheduler is None else resolve_signer(scheduler, Role.AGENT)
        )
        self._initial = [check_address(s, "source") for s in sources]
        self._on_event = on_event
        self._from_block = from_block
        self._lock = threading.Lock()
        self._sources: dict[str, int] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stats = {"seen": 0, "attempted": 0, "submitted": 0, "failed": 0, "skipped": 0}
        self._callback: CallbackServer | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._stop_event: asyncio.Event | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._busy: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"ProviderRuntime(provider={self._provider.address}, "
            f"service_url={self.settings.service_url!r}, sources={len(self._sources)}, {state})"
        )

    # -- public API ----------------------------------------------------------------------------

    @property
    def provider_address(self) -> str:
        """The provider's address."""
        return str(self._provider.address)

    @property
    def callback_url(self) -> str:
        """Base URL to give the service as ``CALLBACK_URL`` (after :meth:`start`).

        Raises:
            ProviderRuntimeError: not started.
        """
        if self._callback is None:
            raise ProviderRuntimeError("the runtime is not started")
        return self._callback.url

    @property
    def running(self) -> bool:
        """Whether the runtime thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def sources(self) -> list[str]:
        """The sources being served."""
        with self._lock:
            return list(self._sources)

    def stats(self) -> dict[str, int]:
        """Task counters: ``seen``, ``attempted``, ``submitted``, ``failed``, ``skipped``."""
        with self._lock:
            return dict(self._stats)

    def open_callback(self) -> str:
        """Bind the callback server (idempotent) and return its URL for ``CALLBACK_URL``.

        Lets a service be started with the right ``CALLBACK_URL`` before :meth:`start`. No RPC.

        Raises:
            ProviderRuntimeError: the callback port cannot be bound.
        """
        if self._callback is None:
            settings = self.settings
            try:
                self._callback = CallbackServer(
                    settings.callback_host,
                    settings.callback_port,
                    public_url=settings.callback_url,
                    max_bytes=settings.max_result_bytes,
                )
            except OSError as exc:
                raise ProviderRuntimeError(
                    f"cannot listen for callbacks on {settings.callback_host}:"
                    f"{settings.callback_port}: {exc.strerror or exc}"
                ) from None
        return self._callback.url

    def start(self) -> ProviderRuntime:
        """Check the service, serve callbacks, start watching; return self.

        Cost: waits for the service (``GET /health``, polled up to
        ``service_ready_timeout``), one ``eth_blockNumber`` (unless ``from_block``).

        Raises:
            ProviderRuntimeError: already started, the service never answered, or
                the callback port cannot be bound.
            RPCError: the node cannot be reached.
        """
        if self._thread is not None:
            raise ProviderRuntimeError("the runtime is already started")
        opened_here = self._callback is None
        self.open_callback()
        try:
            self._wait_for_service()
            start_block = self._from_block if self._from_block is not None else self._head()
        except BaseException:
            if opened_here and self._callback is not None:
                self._callback.stop()
                self._callback = None
            raise
        settings = self.settings
        assert self._callback is not None
        self._callback.start()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.max_concurrent_tasks + 2, thread_name_prefix="ogpu-provider"
        )
        with self._lock:
            for source in self._initial:
                self._sources.setdefault(source, start_block)
        self._thread = threading.Thread(target=self._run_loop, name="ogpu-provider", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self.stop()
            raise ProviderRuntimeError(f"the runtime failed to start: {self._startup_error}")
        self._emit(
            RuntimeEvent(
                "started",
                f"provider {self.provider_address} serving {settings.service_url}; "
                f"callbacks at {self.callback_url}",
                data={"provider": self.provider_address, "callback_url": self.callback_url},
            )
        )
        return self

    def add_source(self, source: str, *, from_block: int | None = None) -> None:
        """Serve ``source`` too, from ``from_block`` (default: the current head).

        Cost: one ``eth_blockNumber`` unless ``from_block`` is given.

        Raises:
            InvalidInputError: malformed address or block.
            ProviderRuntimeError: the runtime is not running.
        """
        address = check_address(source, "source")
        if from_block is not None and (
            isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0
        ):
            raise InvalidInputError("from_block must be an int >= 0", param="from_block")
        loop = self._loop
        if loop is None or not self.running:
            raise ProviderRuntimeError("the runtime is not running; call start() first")
        block = self._head() if from_block is None else from_block
        with self._lock:
            if address in self._sources:
                return
            self._sources[address] = block
        loop.call_soon_threadsafe(self._watch, address, block)

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching, give in-flight tasks ``shutdown_grace`` seconds, then stop.

        Idempotent. A transaction already being sent completes in the background.
        """
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            stop_event = self._stop_event
            if stop_event is not None:
                loop.call_soon_threadsafe(stop_event.set)
            thread.join(timeout if timeout is not None else self.settings.shutdown_grace + 10)
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if thread is not None:
            self._thread = None
            self._emit(RuntimeEvent("stopped", "provider runtime stopped", data=self.stats()))

    def run_forever(self, stop: threading.Event) -> None:
        """Start (if needed), block until ``stop`` is set, then :meth:`stop`."""
        if self._thread is None:
            self.start()
        try:
            while not stop.wait(0.25):
                if not self.running:
                    raise ProviderRuntimeError("the runtime thread ended unexpectedly")
        finally:
            self.stop()

    def __enter__(self) -> ProviderRuntime:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- startup helpers -----------------------------------------------------------------------

    def _head(self) -> int:
        try:
            return int(Web3Manager.get_web3_instance().eth.block_number)
        except Exception as exc:
            raise RPCError(
                f"RPC eth_blockNumber failed: {exc}", method="eth_blockNumber", cause=str(exc)
            ) from None

    def _wait_for_service(self) -> None:
        url = f"{self.settings.service_url}/health"
        deadline = time.monotonic() + self.settings.service_ready_timeout
        last = "no answer"
        while True:
            try:
                answer = requests.get(url, timeout=min(5.0, self.settings.service_ready_timeout))
                if answer.status_code != 503:
                    return
                last = "503 (still initialising)"
            except requests.RequestException as exc:
                last = type(exc).__name__
            if time.monotonic() >= deadline:
                raise ProviderRuntimeError(
                    f"the source service at {self.settings.service_url} is not ready after "
                    f"{self.settings.service_ready_timeout:g}s ({last})"
                )
            time.sleep(0.1)

    # -- event loop ----------------------------------------------------------------------------

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start() or logged
            if not self._ready.is_set():
                self._startup_error = exc
            else:
                logger.exception("provider runtime crashed")
        finally:
            self._ready.set()
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._loop = None

    async def _main(self) -> None:
        settings = self.settings
        self._stop_event = asyncio.Event()
        self._queue = asyncio.Queue(maxsize=settings.max_queued_tasks)
        workers = [
            asyncio.create_task(self._worker()) for _ in range(settings.max_concurrent_tasks)
        ]
        with self._lock:
            initial = dict(self._sources)
        for source, block in initial.items():
            self._watch(source, block)
        self._ready.set()
        await self._stop_event.wait()
        for watcher in self._watchers.values():
            watcher.cancel()
        busy = set(self._busy)
        for worker in workers:
            if worker not in busy:
                worker.cancel()
        if busy:
            await asyncio.wait(busy, timeout=settings.shutdown_grace)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, *self._watchers.values(), return_exceptions=True)

    def _watch(self, source: str, from_block: int) -> None:
        if source in self._watchers:
            return
        self._watchers[source] = asyncio.create_task(self._watch_source(source, from_block))
        self._emit(
            RuntimeEvent(
                "watching",
                f"watching TaskPublished of source {source} from block {from_block}",
                source=source,
                data={"from_block": from_block},
            )
        )

    async def _watch_source(self, source: str, from_block: int) -> None:
        queue = self._queue
        assert queue is not None
        events = watch_task_published(
            source, from_block=from_block, poll_interval=self.settings.poll_interval
        )
        try:
            async for event in events:
                task = str(event.task)
                with self._lock:
                    if task in self._seen:
                        continue
                    self._seen[task] = None
                    if len(self._seen) > _SEEN_LIMIT:
                        self._seen.popitem(last=False)
                    self._stats["seen"] += 1
                await queue.put(_Job(task, source, time.monotonic()))
        except Exception as exc:
            logger.exception("watching source %s failed", source)
            self._emit(RuntimeEvent("failed", f"stopped watching {source}: {exc}", source=source))
        finally:
            closer = getattr(events, "aclose", None)
            if closer is not None:
                await closer()

    async def _worker(self) -> None:
        queue = self._queue
        assert queue is not None
        current = asyncio.current_task()
        assert current is not None
        while True:
            job = await queue.get()
            self._busy.add(current)
            try:
                await self._process(job)
            except asyncio.CancelledError:
                self._count("failed")
                self._event(job, "failed", "cancelled by shutdown")
                raise
            except OGPUError as exc:
                self._count("failed")
                self._event(job, "failed", f"{type(exc).__name__}: {exc}")
            except Exception as exc:
                logger.exception("task %s failed unexpectedly", job.task)
                self._count("failed")
                self._event(job, "failed", f"{type(exc).__name__}: {exc}")
            finally:
                self._busy.discard(current)
                queue.task_done()

    # -- per task ------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def _process(self, job: _Job) -> None:
        self._event(job, "task", f"task {job.task} published to source {_short(job.source)}")
        snapshot = await self._call(Task(job.task).snapshot)
        if snapshot.status not in _OPEN:
            self._count("skipped")
            self._event(job, "skipped", f"task is {snapshot.status.name}")
            return
        if snapshot.expiry_time <= time.time():
            self._count("skipped")
            self._event(job, "skipped", "task expired")
            return
        function, data = _task_config(await self._call(fetch_ipfs_json, snapshot.params.config))
        callback = self._callback
        assert callback is not None
        waiter = callback.expect(job.task)
        try:
            attempter_id = await self._call(Task(job.task).get_attempter_id, self.provider_address)
            if attempter_id:
                self._event(job, "attempted", "already attempted for this provider; running it")
            else:
                tx_hash = await self._call(self._attempt, job.task, snapshot.payment)
                self._count("attempted")
                self._event(job, "attempted", f"attempted (tx {tx_hash})", tx_hash=tx_hash)
            status = await self._call(self._dispatch, function, job.task, data)
            self._event(
                job,
                "dispatched",
                f"POST /run/{function}/{_short(job.task)} -> {status}",
                function=function,
            )
            try:
                result = await asyncio.wait_for(
                    asyncio.wrap_future(waiter), self.settings.result_timeout
                )
            except asyncio.TimeoutError:
                raise ProviderRuntimeError(
                    f"no callback within {self.settings.result_timeout:g}s"
                ) from None
        finally:
            callback.forget(job.task)
        self._event(job, "result", f"callback received ({result.status})", status=result.status)
        if result.status != "success":
            raise ProviderRuntimeError(f"the service reported: {_failure_text(result)}")
        url = await self._call(self._pin, result.body)
        self._event(job, "pinned", f"result pinned at {url}", url=url)
        response, tx_hash = await self._call(self._submit, job.task, url, snapshot.payment)
        self._count("submitted")
        self._event(
            job,
            "submitted",
            f"response {response} submitted (tx {tx_hash})",
            response=response,
            tx_hash=tx_hash,
            url=url,
            result=result.body,
        )

    def _attempt(self, task: str, payment: int) -> str:
        if self._scheduler is self._provider:
            receipt = nexus.attempt(task, self.provider_address, payment, signer=self._provider)
        else:
            receipt = agent.attempt(task, self.provider_address, payment, signer=self._scheduler)
        return receipt.tx_hash

    def _dispatch(self, function: str, task: str, data: dict[str, Any]) -> int:
        url = f"{self.settings.service_url}/run/{function}/{task}"
        try:
            answer = requests.post(url, json=data, timeout=self.settings.dispatch_timeout)
        except requests.RequestException as exc:
            raise ProviderRuntimeError(f"cannot reach the source service: {exc}") from None
        if not 200 <= answer.status_code < 300:
            detail = answer.text[:300].replace("\n", " ")
            raise ProviderRuntimeError(
                f"the source service refused /run/{function}: {answer.status_code} {detail}"
            )
        return int(answer.status_code)

    def _pin(self, body: Any) -> str:
        try:
            content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ProviderRuntimeError(f"the result is not serialisable JSON: {exc}") from None
        return publish_to_ipfs(
            content.encode("utf-8"),
            filename="response.json",
            content_type="application/json",
            backend=self.settings.ipfs_backend,
        )

    def _submit(self, task: str, url: str, payment: int) -> tuple[str, str]:
        generated = importlib.import_module(f"ogpu_bindings.{ChainConfig.get_network()}.nexus")
        params = ResponseParams(
            task=task, provider=self.provider_address, data=url, payment=int(payment)
        )
        request = generated.submit_response(ChainConfig.get_contract_address("NEXUS"), params)
        receipt = execute_request(request, self._provider)
        for log in receipt.logs:
            if isinstance(log, generated.ResponseSubmittedEvent):
                return str(log.response), receipt.tx_hash
        raise ProviderRuntimeError(f"transaction {receipt.tx_hash} submitted no response")

    # -- reporting -----------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def _event(self, job: _Job, kind: str, message: str, **data: Any) -> None:
        self._emit(
            RuntimeEvent(
                kind,
                message,
                task=job.task,
                source=job.source,
                elapsed=time.monotonic() - job.seen_at,
                data=data,
            )
        )

    def _emit(self, event: RuntimeEvent) -> None:
        level = logging.WARNING if event.kind == "failed" else logging.INFO
        logger.log(level, "%s %s: %s", event.kind, event.task or "-", event.message)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("on_event callback failed")
