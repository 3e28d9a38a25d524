"""Fixtures for the ogpu.service tests: callback recorders, servers (``serve``; ``running``:
the module's ``svc`` served and ready), polling."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

import ogpu.service
from ogpu.service import Service, ServiceConfig
from ogpu.service.testing import CallbackRecorder, RunningService, serve_in_thread

from ..helpers import wait

WaitUntil = Callable[..., None]
Serve = Callable[..., AbstractContextManager[RunningService]]
Start = Callable[..., AbstractContextManager[RunningService]]


@pytest.fixture(autouse=True)
def _clean_default_service() -> Iterator[None]:
    ogpu.service.reset()
    yield
    ogpu.service.reset()


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """An event handlers wait on; set at teardown so no thread outlives the test."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def recorder() -> Iterator[CallbackRecorder]:
    with CallbackRecorder() as rec:
        yield rec


@pytest.fixture
def free_port() -> Callable[[], int]:
    return wait.free_port


@pytest.fixture
def wait_until() -> WaitUntil:
    """``wait_until(predicate, timeout=15, what="")``, polling every 5 ms."""
    return functools.partial(wait.wait_until, timeout=15.0, interval=0.005)


@pytest.fixture
def serve() -> Serve:
    """``serve(service, callback_url=..., **config)``: a real uvicorn server on 127.0.0.1."""

    def start(service: Service, **config: object) -> AbstractContextManager[RunningService]:
        cfg = ServiceConfig(host="127.0.0.1", port=0).replace(**config)
        return serve_in_thread(service, cfg)

    return start


@pytest.fixture
def running(svc: Service, serve: Serve, recorder: CallbackRecorder) -> Start:
    """``running(**config)``: the module's ``svc`` served (``serve``), calling back to
    ``recorder``, and ready to take tasks."""

    @contextmanager
    def start(**config: object) -> Iterator[RunningService]:
        with serve(svc, callback_url=recorder.url, **config) as rs:
            rs.wait_ready()
            yield rs

    return start


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def service_logs() -> Iterator[list[logging.LogRecord]]:
    handler = _ListHandler()
    ogpu.service.logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        ogpu.service.logger.removeHandler(handler)
