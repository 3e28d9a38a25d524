"""``ProviderRuntime``: serve a source's tasks with a source service, like a provider node.

For each source it serves, the runtime watches ``TaskPublished`` (one shared
``eth_getLogs`` poller, :mod:`ogpu.events`) and, per task:

1. reads the task (one aggregated ``eth_call``) and skips it unless NEW or
   ATTEMPTED and unexpired; fetches its config JSON (``function_name``,
   ``data``) from IPFS (one HTTP GET, with ``fetch_allow`` and the CID check of
   :func:`ogpu.ipfs.fetch_ipfs_json`). Up to ``max_concurrent_fetches`` tasks do
   this at once, each within ``fetch_timeout`` in all, apart from the
   ``max_concurrent_tasks`` that run steps 2-5: a config server that hangs or
   drips holds one fetch slot for at most ``fetch_timeout`` and no run slot;
2. attempts it (``Nexus.attempt``, one transaction signed by the provider
   key, or through ``ogpu.agent.attempt`` by the scheduler key when given: the
   master or an agent of it), unless it was already attempted for this
   provider (e.g. by an external scheduler; one ``eth_call`` to check);
3. calls the source service: ``POST {service_url}/run/{function}/{ticket}``
   with ``data`` as the JSON body (expects 2xx, e.g. ``202``); the ticket is the
   task address plus a per-task secret (:meth:`CallbackServer.ticket`);
4. waits for the service's callback on its own HTTP server
   (:class:`~ogpu.provider.callback.CallbackServer`, at ``callback_url``), which
   accepts the result only under that ticket;
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
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from eth_account.signers.local import LocalAccount
from ogpu_bindings.runtime import check_address

from ogpu.chain.context import carry
from ogpu.chain.signer import resolve_signer
from ogpu.events import watch_task_published
from ogpu.provider._flow import Job, TaskFlow
from ogpu.provider._steps import Steps
from ogpu.provider.callback import CallbackServer
from ogpu.provider.settings import ProviderRuntimeError, RuntimeEvent, RuntimeSettings
from ogpu.types import InvalidInputError, Role, Signer

__all__ = ["ProviderRuntime", "ProviderRuntimeError", "RuntimeEvent", "RuntimeSettings"]

logger = logging.getLogger("ogpu.provider")

_SEEN_LIMIT = 10_000


class ProviderRuntime(TaskFlow):
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
        self._queue: asyncio.Queue[Job] | None = None
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._steps = Steps(settings, self._provider, self._scheduler)

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
            self._steps.wait_for_service()
            start_block = self._from_block if self._from_block is not None else self._steps.head()
        except BaseException:
            if opened_here and self._callback is not None:
                self._callback.stop()
                self._callback = None
            raise
        settings = self.settings
        assert self._callback is not None
        self._callback.start()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.max_concurrent_tasks + settings.max_concurrent_fetches + 2,
            thread_name_prefix="ogpu-provider",
        )
        with self._lock:
            for source in self._initial:
                self._sources.setdefault(source, start_block)
        self._thread = threading.Thread(
            target=carry(self._run_loop), name="ogpu-provider", daemon=True
        )
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
        block = self._steps.head() if from_block is None else from_block
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
        intake = asyncio.create_task(self._intake())
        with self._lock:
            initial = dict(self._sources)
        for source, block in initial.items():
            self._watch(source, block)
        self._ready.set()
        await self._stop_event.wait()
        intake.cancel()
        for watcher in self._watchers.values():
            watcher.cancel()
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=settings.shutdown_grace)
        for task in self._inflight:
            task.cancel()
        await asyncio.gather(
            intake, *self._watchers.values(), *self._inflight, return_exceptions=True
        )

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
                await queue.put(Job(task, source, time.monotonic()))
        except Exception as exc:
            logger.exception("watching source %s failed", source)
            self._emit(RuntimeEvent("failed", f"stopped watching {source}: {exc}", source=source))
        finally:
            closer = getattr(events, "aclose", None)
            if closer is not None:
                await closer()
