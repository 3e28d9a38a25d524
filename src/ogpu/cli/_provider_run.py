"""``ogpu provider run``: the provider runtime in the foreground (or ``--detach``).

It says what it waits for (the service, the chain), follows the chain through
outages and resets (:class:`~ogpu.cli._supervise.ChainWatch`: after a devnet
restarted without its state it watches again from the new head and, with
``--register``, registers again once the source exists), and stops within
``--grace`` seconds (plus ~0.5 s) on Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ogpu.cli._common import (
    add_common,
    add_key_file,
    address_option,
    connect,
    load_signer,
    parse_amount,
)
from ogpu.cli._detach import add_detach_options, check_detach, detach, signal_ready
from ogpu.cli._output import emit, now_moment
from ogpu.cli.base import CommandError
from ogpu.types import Role

__all__ = ["DEFAULT_CALLBACK_PORT", "run", "run_arguments"]

DEFAULT_CALLBACK_PORT = 8600

#: The positive seconds options: flag -> (the RuntimeSettings field it sets, default, help).
_SECONDS = {
    "--poll-interval": ("poll_interval", 1.0, "seconds between polls for new tasks"),
    "--result-timeout": (
        "result_timeout",
        300.0,
        "how long a task may wait for the service's callback",
    ),
    "--fetch-timeout": (
        "fetch_timeout",
        30.0,
        "seconds to read a task and fetch its config, whatever the server does",
    ),
    "--service-timeout": (
        "service_ready_timeout",
        30.0,
        "how long to wait at start for the service's GET /health",
    ),
}


def run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service-url",
        default="http://127.0.0.1:5555",
        metavar="URL",
        help="the source service (default http://127.0.0.1:5555)",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a source to serve (repeatable; default: every source the provider is registered to)",
    )
    parser.add_argument(
        "--register",
        action="store_true",
        help="pair with the master ($MASTER_PRIVATE_KEY or --master-key-file) if needed and "
        "register to each --source",
    )
    parser.add_argument(
        "--master-key-file", metavar="FILE", help="master key for pairing (with --register)"
    )
    parser.add_argument(
        "--scheduler-key-file",
        metavar="FILE",
        help="key of the master or an agent of it, to sign registrations and attempts "
        "(default: the provider key)",
    )
    parser.add_argument(
        "--stake", default="1 OGPU", help="lockup the master funds when pairing (default 1 OGPU)"
    )
    parser.add_argument(
        "--env",
        choices=("cpu", "nvidia", "amd"),
        default="cpu",
        help="environment to register with (default cpu)",
    )
    parser.add_argument(
        "--callback-host",
        default="127.0.0.1",
        help="address the callback server binds (default 127.0.0.1)",
    )
    parser.add_argument(
        "--callback-port",
        type=int,
        default=DEFAULT_CALLBACK_PORT,
        help=f"callback server port (default {DEFAULT_CALLBACK_PORT}; 0 = any free port)",
    )
    parser.add_argument(
        "--callback-url",
        metavar="URL",
        help="callback base URL as the service sees it (e.g. http://host.docker.internal:8600/callback)",
    )
    for flag, (field, default, text) in _SECONDS.items():
        parser.add_argument(
            flag,
            dest=field,
            type=float,
            default=default,
            metavar="S",
            help=f"{text} (default {default:g})",
        )
    parser.add_argument(
        "--max-tasks", type=int, default=4, metavar="N", help="tasks at once (default 4)"
    )
    parser.add_argument(
        "--fetch-allow",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a non-public origin (http://10.0.0.5:8080) or network (10.0.0.0/8) task "
        "configs may be fetched from; the configured IPFS gateway always is (repeatable)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=0.5,
        metavar="S",
        help="on Ctrl-C, seconds tasks in flight get to finish (default 0.5)",
    )
    parser.add_argument(
        "--exit-after", type=int, metavar="N", help="stop after N tasks were submitted or failed"
    )
    add_detach_options(parser, "provider")
    add_key_file(parser, Role.PROVIDER)
    add_common(parser)


def _key_from(path: str | None, role: Role) -> Any:
    if path is None:
        return None
    return load_signer(argparse.Namespace(key_file=path), role)


@dataclass(frozen=True)
class _Keys:
    """The run's signers (scheduler, master: None when not given) and pairing stake."""

    provider: Any
    scheduler: Any
    master: Any
    stake: int


class _Reporter:
    """Prints ``[      kind] message`` lines, or one JSON object per event (``--json``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(args.json)
        self._lock = threading.Lock()

    def say(self, kind: str, message: str, **data: Any) -> None:
        with self._lock:
            if self.json:
                emit({"event": kind, "time": now_moment(), "message": message, "data": data})
            else:
                print(f"[{kind:>10}] {message}", flush=True)

    def event(self, event: Any) -> None:
        with self._lock:
            if self.json:
                emit(
                    {
                        "event": event.kind,
                        "time": now_moment(),
                        "message": event.message,
                        "task": event.task,
                        "source": event.source,
                        "elapsed_seconds": round(event.elapsed, 3),
                        "data": dict(event.data),
                    }
                )
                return
            where = f" {event.task[:10]}…" if event.task else ""
            timing = f" (+{event.elapsed:.2f}s)" if event.task else ""
            print(f"[{event.kind:>10}]{where} {event.message}{timing}", flush=True)


def _settings(args: argparse.Namespace) -> Any:
    from ogpu.provider import RuntimeSettings

    seconds = {field: getattr(args, field) for field, _, _ in _SECONDS.values()}
    for flag, (field, _, _) in _SECONDS.items():
        if not 0 < seconds[field] < 10**7:
            raise CommandError(f"{flag} must be a positive number of seconds", kind="input")
    if not 0 <= args.grace < 3600:
        raise CommandError("--grace must be between 0 and 3600 seconds", kind="input")
    if args.exit_after is not None and args.exit_after < 1:
        raise CommandError("--exit-after must be >= 1", kind="input")
    return RuntimeSettings(
        service_url=args.service_url,
        callback_host=args.callback_host,
        callback_port=args.callback_port,
        callback_url=args.callback_url,
        max_concurrent_tasks=args.max_tasks,
        shutdown_grace=max(args.grace, 0.01),
        fetch_allow=tuple(args.fetch_allow),
        **seconds,
    )


def _health(url: str) -> str | None:
    """None when ``GET {url}/health`` answers (anything but 503), else why not."""
    import requests

    try:
        if requests.get(f"{url}/health", timeout=0.5).status_code != 503:
            return None
        return "503, still starting"
    except requests.ConnectionError:
        return "connection refused"
    except requests.RequestException:
        return "no answer"


def _wait_for_service(settings: Any, stop: threading.Event) -> str | None:
    """Poll the service's health until it answers: None then, else why it did not within
    ``service_ready_timeout``. Returns None early when ``stop`` is set."""
    deadline = time.monotonic() + settings.service_ready_timeout
    while not stop.is_set():
        why = _health(settings.service_url)
        if why is None or time.monotonic() >= deadline:
            return why
        stop.wait(0.2)
    return None


def _prepare(args: argparse.Namespace, keys: _Keys, sources: list[str], say: Any) -> None:
    from ogpu.provider import prepare_provider
    from ogpu.types import Environment

    say("setup", f"checking the pairing and the registration to {len(sources)} source(s)")
    prepare_provider(
        keys.provider,
        sources,
        master=keys.master,
        scheduler=keys.scheduler,
        stake=keys.stake,
        env=Environment[args.env.upper()],
        on_step=lambda text: say("setup", text),
    )


def run(args: argparse.Namespace) -> int:
    from ogpu.protocol import Provider

    check_detach(args)
    keys = _Keys(  # read once, so that a bad one is refused before anything starts
        provider=load_signer(args, Role.PROVIDER),
        scheduler=_key_from(args.scheduler_key_file, Role.AGENT),
        master=_key_from(args.master_key_file, Role.MASTER),
        stake=parse_amount(args.stake, "--stake"),
    )
    settings = _settings(args)
    sources = [address_option(s, "--source") for s in args.source]
    if args.register and not sources:
        raise CommandError("--register needs at least one --source", kind="input")
    if args.detach:
        return detach(args, "provider")
    report = _Reporter(args)
    events = logging.getLogger("ogpu.events")
    saved = events.level
    if not args.verbose:  # the chain watch reports outages in one line each
        events.setLevel(logging.ERROR)
    try:  # the level goes back when the command ends (main() may run in a caller's process)
        connect(args)
        if args.register:
            _prepare(args, keys, sources, report.say)
        if not sources:
            address = keys.provider.address
            sources = [s.address for s in Provider(address).get_registered_sources()]
            if not sources:
                raise CommandError(
                    f"provider {address} is registered to no source; "
                    "pass --source ADDRESS --register",
                    kind="input",
                )
        return _Session(args, keys, settings, sources, report).serve()
    finally:
        events.setLevel(saved)


class _Session:
    """One ``provider run``: the runtime, the chain watch, signals, restarts after a reset."""

    def __init__(
        self,
        args: argparse.Namespace,
        keys: _Keys,
        settings: Any,
        sources: list[str],
        report: _Reporter,
    ) -> None:
        self.args, self.keys = args, keys
        self.settings, self.sources, self.report = settings, sources, report
        self.finished = threading.Event()
        self.done = 0
        self.unregistered: list[str] = []
        self._next_check = 0.0
        self._last_failure = ""
        self._lock = threading.Lock()

    def on_event(self, event: Any) -> None:
        self.report.event(event)
        if self.args.exit_after is not None and event.kind in ("submitted", "failed"):
            with self._lock:
                self.done += 1
                if self.done >= self.args.exit_after:
                    self.finished.set()

    def runtime(self, from_block: int | None = None) -> Any:
        from ogpu.provider import ProviderRuntime, ProviderRuntimeError

        runtime = ProviderRuntime(
            self.keys.provider,
            self.settings,
            scheduler=self.keys.scheduler,
            sources=self.sources,
            on_event=self.on_event,
            from_block=from_block,
        )
        try:
            runtime.open_callback()
        except ProviderRuntimeError as exc:
            raise CommandError(
                f"{exc}; pass --callback-port PORT, or --callback-port 0 for any free port",
                kind="listen",
            ) from None
        return runtime

    def wait_for_service(self, runtime: Any) -> None:
        url = self.settings.service_url
        if _health(url) is None:
            return
        self.report.say(
            "service",
            f"waiting for the source service at {url} (GET /health, up to "
            f"{self.settings.service_ready_timeout:g} s); start it with "
            f"CALLBACK_URL={runtime.callback_url}",
        )
        why = _wait_for_service(self.settings, self.finished)
        if why is not None:
            raise CommandError(
                f"the source service at {url} did not answer GET /health within "
                f"{self.settings.service_ready_timeout:g} s ({why}); start it, or pass "
                "--service-url URL",
                kind="connection",
            )

    def serve(self) -> int:
        from ogpu.cli._supervise import ChainWatch

        runtime = self.runtime()
        previous: dict[int, Any] = {}
        watch: ChainWatch | None = None
        try:
            previous = self._trap_signals()
            self.wait_for_service(runtime)
            if self.finished.is_set():
                return 0
            runtime.start()
            signal_ready({"provider": self.keys.provider.address, "sources": self.sources})
            watch = ChainWatch(self.args.target.url, lambda text: self.report.say("chain", text))
            watch.start()
            runtime = self._loop(runtime, watch)
        finally:
            if watch is not None:
                watch.stop()
            runtime.stop(timeout=self.settings.shutdown_grace + 0.5)
            self._restore(previous)
        stats = runtime.stats()
        if not self.args.json:
            counts = ", ".join(f"{name} {count}" for name, count in stats.items())
            print(f"provider runtime stopped: {counts}", flush=True)
        return 0

    def _loop(self, runtime: Any, watch: Any) -> Any:
        from ogpu.provider import ProviderRuntimeError

        reset: int | None = None
        while not self.finished.wait(0.1):
            head = watch.take_reset()
            reset = reset if head is None else head
            if reset is not None:
                runtime, reset = self._attempt(self._restart, runtime, reset, fallback=runtime)
            elif not runtime.running:
                raise ProviderRuntimeError("the runtime thread ended unexpectedly")
            self._attempt(self._register_again)
        return runtime

    def _attempt(self, step: Any, *args: Any, fallback: Any = None) -> Any:
        """Run a recovery step; if the chain fails it again, say so once and retry in 1 s."""
        if time.monotonic() < self._next_check:
            return fallback, args[-1] if args else None
        try:
            return step(*args), None
        except Exception as exc:
            self._next_check = time.monotonic() + 1.0
            message = f"not yet: {type(exc).__name__}: {exc}"
            if message != self._last_failure:
                self._last_failure = message
                self.report.say("chain", f"{message}; retrying every 1 s")
            return fallback, args[-1] if args else None

    def _restart(self, runtime: Any, head: int) -> Any:
        from ogpu.chain import NonceManager

        runtime.stop(timeout=self.settings.shutdown_grace + 0.5)
        NonceManager.clear_all()
        if self.args.register:
            self.unregistered = list(self.sources)
        else:
            self.report.say(
                "chain",
                "pairing and registrations may be gone with the old chain; "
                "restart with --register if tasks are not attempted",
            )
        fresh = self.runtime(from_block=head)
        try:
            fresh.start()
        except BaseException:
            fresh.stop()
            raise
        return fresh

    def _register_again(self) -> None:
        """After a reset with --register: register to each source once it exists again."""
        if not self.unregistered:
            return
        from ogpu.chain import Web3Manager, rpc

        w3 = Web3Manager.get_web3_instance()
        present = [
            s
            for s in self.unregistered
            if rpc.to_bytes(rpc.request(w3, "eth_getCode", [s, "latest"]))
        ]
        if not present:
            self._next_check = time.monotonic() + 1.0
            return
        _prepare(self.args, self.keys, present, self.report.say)
        self.unregistered = [s for s in self.unregistered if s not in present]

    def _trap_signals(self) -> dict[int, Any]:
        import signal

        if threading.current_thread() is not threading.main_thread():
            return {}

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.finished.set()

        return {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    @staticmethod
    def _restore(previous: dict[int, Any]) -> None:
        import signal

        for signum, handler in previous.items():
            signal.signal(signum, handler)
