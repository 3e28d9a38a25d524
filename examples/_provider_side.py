"""Shared by the examples: the provider's side of the marketplace, in this process.

On a real network a provider node runs the source's docker image; here the
sample source service (``sentiment_source.py``, built with ``ogpu.service``)
runs on a loopback port and ``ogpu.provider.ProviderRuntime`` plays the node:
it watches the sources' new tasks, attempts them, calls the service's
``/run`` endpoint, receives the result on its callback server, pins it and
submits the response.
"""

from __future__ import annotations

import logging
import runpy
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import ogpu.service
from ogpu.provider import ProviderRuntime, RuntimeEvent, RuntimeSettings
from ogpu.service import ServiceConfig
from ogpu.service.testing import serve_in_thread
from ogpu.types import Signer

SERVICE_FILE = Path(__file__).with_name("sentiment_source.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _print_event(event: RuntimeEvent) -> None:
    if event.task is not None:
        print(f"  [provider] {event.kind}: {event.message}")


@contextmanager
def provider_side(
    provider: Signer, sources: Sequence[str], *, scheduler: Signer | None = None
) -> Iterator[ProviderRuntime]:
    """Serve ``sources`` with the sentiment service until the block exits."""
    logging.getLogger("ogpu.service").setLevel(logging.WARNING)
    ogpu.service.reset()
    runpy.run_path(str(SERVICE_FILE), run_name="sentiment_source")
    port = _free_port()
    config = ServiceConfig(
        host="127.0.0.1",
        port=0,
        callback_url=f"http://127.0.0.1:{port}/callback",
        log_level="WARNING",
    )
    with serve_in_thread(config=config) as service:
        service.wait_ready()
        settings = RuntimeSettings(
            service_url=service.base_url, callback_port=port, poll_interval=0.2
        )
        with ProviderRuntime(
            provider, settings, scheduler=scheduler, sources=sources, on_event=_print_event
        ) as runtime:
            yield runtime
