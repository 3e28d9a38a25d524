"""``ogpu demo``: the whole marketplace on an embedded devnet, in one process, loopback only.

Starts the devnet (JSON-RPC and content store on free 127.0.0.1 ports), the
sample source service (``examples/sentiment_source.py`` when it sits next to
the package, else a built-in sample; both built with ``ogpu.service``) and
the provider runtime (:mod:`ogpu.provider`); then, as a client, deposits,
publishes a FIRST_RESPONSE source with the service's manifest, shows a
misspelt task refused before paying, generates the source's typed task client
(``ogpu source client``; with the ``codegen`` extra, else it publishes the plain
way), publishes a task with it, waits for the provider's response and prints
the typed result. Every step is printed with its time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import runpy
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ogpu.cli import command_help
from ogpu.cli._common import add_common, amount, format_amount, guarded, one_line
from ogpu.cli._progress import stage
from ogpu.cli.base import CommandError, SubParsers

__all__ = ["register", "run_demo"]

DEFAULT_TEXT = "The OpenGPU devnet is fast and I love it"
_EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sentiment_source.py"
_COMPOSE = """services:
  sentiment:
    image: example/sentiment-source:latest
    ports: ["5555:5555"]
"""
_SHOWN = ("task", "attempted", "dispatched", "result", "pinned", "submitted", "failed")


class _Steps:
    """Prints ``[  1.23s] actor  message`` lines (or collects them for ``--json``)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.monotonic()
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, actor: str, message: str, took: float | None = None) -> None:
        at = self.elapsed()
        suffix = f" ({took:.2f}s)" if took is not None else ""
        with self._lock:
            record: dict[str, Any] = {
                "elapsed_seconds": round(at, 3),
                "actor": actor,
                "message": message,
            }
            if took is not None:
                record["took_seconds"] = round(took, 3)
            self.records.append(record)
            if not self.quiet:
                print(f"[{at:6.2f}s] {actor:<8} {message}{suffix}", flush=True)

    @contextlib.contextmanager
    def timed(self) -> Iterator[list[float]]:
        box: list[float] = []
        begin = time.monotonic()
        yield box
        box.append(time.monotonic() - begin)


@contextlib.contextmanager
def _quiet_service_log() -> Iterator[None]:
    """Keep ``ogpu.service`` at WARNING for the demo (its access lines would drown the steps)."""
    service_logger = logging.getLogger("ogpu.service")
    level = service_logger.level
    service_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        service_logger.setLevel(level)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sample_service(builtin: bool) -> tuple[Any, str]:
    import ogpu.service

    if not builtin and _EXAMPLE.is_file():
        ogpu.service.reset()
        runpy.run_path(str(_EXAMPLE), run_name="ogpu_demo_sentiment_source")
        return ogpu.service.get_default_service(), "examples/sentiment_source.py"
    from ogpu.cli._demo_service import build_sample_service

    return build_sample_service(), "built-in sample"


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; return 0 once the task's result is printed. Raises CommandError."""
    if not 0 < args.timeout <= 3600:
        raise CommandError("--timeout must be between 0 and 3600 seconds")
    try:
        from ogpu.devnet.serve import start_services
        from ogpu.service import ServiceConfig
        from ogpu.service.testing import serve_in_thread
    except ImportError as exc:
        raise CommandError(
            f"the demo needs the devnet and service extras ({one_line(exc)}); "
            "install them with: pip install 'ogpu[devnet,service]'"
        ) from None
    steps = _Steps(quiet=bool(args.json))
    if not args.json:
        print("ogpu demo: the OpenGPU marketplace on an embedded devnet (127.0.0.1 only)")
    from ogpu.chain import ChainId, using

    with contextlib.ExitStack() as stack:
        with steps.timed() as took, stage(args, "starting the devnet"):
            services = start_services(host="127.0.0.1", port=0, store_port=0)
        stack.callback(services.stop, save=False)
        steps.say(
            "devnet",
            f"chain {services.devnet.chain_id} at {services.rpc_url}, "
            f"content store at {services.store_url}",
            took[0],
        )
        from ogpu.devnet import connect_devnet

        # Everything the demo selects (chain, RPC, addresses, content store, nonces) lives
        # in this block's context, so the caller's settings come back when it ends.
        stack.enter_context(using(ChainId.OGPU_DEVNET, rpc=services.rpc_url))
        connect_devnet(
            services.rpc_url,
            deployment=json.loads(services.devnet.deployment.to_json()),
            store_url=services.store_url,
        )
        stack.enter_context(_quiet_service_log())
        service, label = _sample_service(bool(args.builtin_service))
        callback_port = _free_port()
        with steps.timed() as took:
            running = stack.enter_context(
                serve_in_thread(
                    service,
                    ServiceConfig(
                        host="127.0.0.1",
                        port=0,
                        callback_url=f"http://127.0.0.1:{callback_port}/callback",
                        log_level="WARNING",
                    ),
                )
            )
            running.wait_ready(args.timeout)
        handlers = ", ".join(sorted(service.handlers))
        steps.say("service", f"{label} at {running.base_url} exposing {handlers}", took[0])
        return _marketplace(args, steps, stack, running.base_url, callback_port, service.manifest())
    raise AssertionError("unreachable")


def _marketplace(
    args: argparse.Namespace,
    steps: _Steps,
    stack: contextlib.ExitStack,
    service_url: str,
    callback_port: int,
    manifest: Any,
) -> int:
    from ogpu.client import (
        DeliveryMethod,
        ImageEnvironments,
        SourceInfo,
        TaskInfo,
        TaskInput,
        publish_source,
        publish_task,
    )
    from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS
    from ogpu.ipfs import publish_to_ipfs
    from ogpu.protocol import vault
    from ogpu.provider import ProviderRuntime, RuntimeEvent, RuntimeSettings, prepare_provider
    from ogpu.types import TaskStatus

    client, master, provider = CLIENTS[0], MASTERS[0], PROVIDERS[0]
    finished: dict[str, RuntimeEvent] = {}
    condition = threading.Condition()

    def on_event(event: RuntimeEvent) -> None:
        if event.kind in _SHOWN:
            steps.say("provider", f"{event.message} (+{event.elapsed:.2f}s since seen)")
        if event.kind in ("submitted", "failed", "skipped") and event.task:
            with condition:
                finished[event.task.lower()] = event
                condition.notify_all()

    settings = RuntimeSettings(
        service_url=service_url,
        callback_port=callback_port,
        poll_interval=0.1,
        result_timeout=args.timeout,
        service_ready_timeout=args.timeout,
        shutdown_grace=0.5,
    )
    runtime = ProviderRuntime(provider.account, settings, on_event=on_event)
    with steps.timed() as took:
        runtime.start()
    stack.callback(runtime.stop)
    steps.say(
        "provider",
        f"runtime for provider {provider.address}, callbacks at {runtime.callback_url}",
        took[0],
    )

    payment, deposit = 10**16, 10**17
    with steps.timed() as took:
        receipt = vault.deposit(client.address, deposit, signer=client.account)
    steps.say(
        "client",
        f"deposited {format_amount(deposit)} into the vault (tx {receipt.tx_hash[:12]}…)",
        took[0],
    )
    with steps.timed() as took:
        compose = publish_to_ipfs(_COMPOSE, filename="docker-compose.yml", content_type="text/yaml")
        source = publish_source(
            SourceInfo(
                name="sentiment-analyzer",
                description="Lexicon-based sentiment analysis (ogpu demo)",
                logoUrl="",
                imageEnvs=ImageEnvironments(cpu=compose),
                minPayment=10**15,
                minAvailableLockup=0,
                maxExpiryDuration=3600,
                deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
            ),
            signer=client.account,
            manifest=manifest,
        )
    steps.say(
        "client",
        f"published source {source.address} (FIRST_RESPONSE) with its manifest "
        f"{manifest.hash[:19]}… ({', '.join(sorted(manifest.functions))})",
        took[0],
    )
    with steps.timed() as took:
        prepare_provider(provider.account, [source.address], master=master.account)
        runtime.add_source(source.address)
    steps.say(
        "provider",
        f"paired with master {master.address[:10]}…, staked, registered to the source; "
        "watching its TaskPublished events",
        took[0],
    )
    expiry = int(time.time()) + 600
    _refused_before_paying(steps, source.address, client.account, payment, expiry)
    typed = _typed_client(steps, manifest, source.address)
    data = {"text": args.text}
    with steps.timed() as took:
        if typed is not None:
            task = typed.publish_predict(
                typed.PredictInput(**data), payment=payment, expiry=expiry, signer=client.account
            )
        else:
            task = publish_task(
                TaskInfo(
                    source=source.address,
                    config=TaskInput(function_name="predict", data=data),
                    expiryTime=expiry,
                    payment=payment,
                ),
                signer=client.account,
            )
    via = "publish_predict" if typed is not None else "publish_task"
    steps.say(
        "client",
        f"published task {task.address} with {via}: predict({json.dumps(data)}) "
        f"for {format_amount(payment)}",
        took[0],
    )
    deadline = time.monotonic() + args.timeout
    with condition:
        while task.address.lower() not in finished:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(f"no response to task {task.address} within {args.timeout:g}s")
            condition.wait(left)
    outcome = finished[task.address.lower()]
    if outcome.kind != "submitted":
        raise CommandError(f"the provider did not answer the task: {outcome.message}")
    status = task.get_status()
    if status != TaskStatus.FINALIZED:
        raise CommandError(f"task {task.address} is {status.name}, expected FINALIZED")
    response = task.get_confirmed_response()
    if response is None:
        raise CommandError(f"task {task.address} has no confirmed response")
    if typed is not None:
        output = typed.result_predict(task)
        steps.say("client", f"result_predict returned a typed {type(output).__name__}")
        result = output.model_dump(mode="json")
    else:
        result = response.fetch_data()
    earned = vault.get_total_earnings_of(provider.address)
    steps.say("client", f"task FINALIZED, response {response.address} confirmed")
    total = steps.elapsed()
    if args.json:
        print(
            json.dumps(
                {
                    "result": result,
                    "status": status.name,
                    "task": task.address,
                    "source": source.address,
                    "response": response.address,
                    "provider": provider.address,
                    "provider_earnings": amount(earned),
                    "elapsed_seconds": round(total, 3),
                    "steps": steps.records,
                }
            ),
            flush=True,
        )
    else:
        print(f"\nResult: {json.dumps(result)}")
        print(f"Provider earned {format_amount(earned)}. Demo finished in {total:.1f} s.")
    return 0


def _refused_before_paying(
    steps: _Steps, source: str, signer: Any, payment: int, expiry: int
) -> None:
    """Publish a misspelt task: the source's manifest refuses it before anything is paid."""
    from ogpu.client import TaskInfo, TaskInput, publish_task
    from ogpu.manifest import UnknownFunctionError

    info = TaskInfo(source, TaskInput("predcit", {"text": "typo"}), expiry, payment)
    try:
        publish_task(info, signer=signer)
    except UnknownFunctionError as exc:
        hint = f"did you mean {exc.suggestion!r}?" if exc.suggestion else "unknown function"
        steps.say("client", f"task predcit(...) refused before paying: {hint}")
        return
    raise CommandError("the manifest check let a misspelt function through")


def _typed_client(steps: _Steps, manifest: Any, source: str) -> Any:
    """The source's generated task client, or None without the codegen extra."""
    from ogpu.taskclient import TaskClientError, load_client

    with steps.timed() as took:
        try:
            module = load_client(manifest, source=source, module_name="ogpu_demo_client")
        except TaskClientError as exc:
            steps.say("client", f"no typed client ({one_line(exc)}); publishing the plain way")
            return None
    classes = ", ".join(n for n in module.__all__ if n[:1].isupper() and not n.isupper())
    steps.say("client", f"generated the typed task client ({classes})", took[0])
    return module


def register(subparsers: SubParsers) -> None:
    """Add ``ogpu demo``. No I/O."""
    parser = subparsers.add_parser(
        "demo",
        help=command_help("demo"),
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument(
        "--text", default=DEFAULT_TEXT, help="the text the task classifies (default: a sample)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="give up waiting for the service or the result after S seconds (default 60)",
    )
    parser.add_argument(
        "--builtin-service",
        action="store_true",
        help="use the built-in sample service even if examples/sentiment_source.py is present",
    )
    add_common(parser, network=False)
    parser.set_defaults(handler=guarded(run_demo))
