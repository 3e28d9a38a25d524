"""A smaller run of bench/service_load.py: every callback delivered exactly once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "service_load.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("service_load_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_concurrent_requests_each_get_exactly_one_callback() -> None:
    report = _bench().run_load(count=200, concurrency=16, max_in_flight=64)
    assert report.delivered == 200
    assert report.duplicates == 0
    assert report.missing == 0
    assert report.unexpected == 0
    assert report.callback_retries == 0
    assert report.ok


def test_async_handler_under_load() -> None:
    report = _bench().run_load(count=100, concurrency=8, async_handler=True)
    assert (report.delivered, report.duplicates, report.missing, report.unexpected) == (
        100,
        0,
        0,
        0,
    )
