"""A smaller run of bench/service_load.py: a burst past the in-flight limit, default
settings, a client that never retries. Every task accepted, every callback once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "service_load.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("service_load_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_burst_past_the_in_flight_limit_is_all_accepted_with_one_callback_each() -> None:
    # concurrency 50 > the default max_in_flight of 32: the rest must queue, not 429
    run = _bench().run_side("ours", sys.executable, count=300, concurrency=50)
    assert run.refused == {}
    assert run.accepted == 300
    assert (run.delivered, run.duplicates, run.missing, run.unexpected) == (300, 0, 0, 0)
    assert run.wrong_body == 0
    assert run.exactly_once


def test_a_full_queue_is_refused_not_retried_and_gets_no_callbacks() -> None:
    run = _bench().run_side(
        "ours",
        sys.executable,
        count=200,
        concurrency=50,
        OGPU_SERVICE_MAX_IN_FLIGHT="1",
        OGPU_SERVICE_QUEUE_SIZE="0",
    )
    assert run.accepted + run.refused.get("429", 0) == 200
    assert run.refused.get("429", 0) > 0
    assert run.exactly_once  # one callback per accepted task, none for the refused
