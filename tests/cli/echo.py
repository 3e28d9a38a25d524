"""The echo service the provider runtime tests serve (``echo`` and a ``boom`` that fails),
on a real uvicorn server calling back to a provider's port (``served``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel

from ogpu.service import Service, ServiceConfig
from ogpu.service.testing import RunningService, serve_in_thread

__all__ = ["Echo", "Text", "make_service", "served"]


class Text(BaseModel):
    text: str


class Echo(BaseModel):
    echoed: str
    length: int


def make_service() -> Service:
    service = Service()

    @service.expose(timeout=10)
    def echo(data: Text) -> Echo:
        return Echo(echoed=data.text, length=len(data.text))

    @service.expose(timeout=10)
    def boom(data: Text) -> Echo:
        raise ValueError("broken model")

    return service


@contextmanager
def served(port: int) -> Iterator[RunningService]:
    config = ServiceConfig(
        host="127.0.0.1",
        port=0,
        callback_url=f"http://127.0.0.1:{port}/callback",
        callback_attempts=1,
        log_level="WARNING",
    )
    with serve_in_thread(make_service(), config) as running:
        running.wait_ready()
        yield running
