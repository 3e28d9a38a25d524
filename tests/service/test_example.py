"""examples/sentiment_source.py: importable, testable in process, servable."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import requests

import ogpu.service
from ogpu.service import TaskFailure
from ogpu.service.testing import CallbackRecorder, ServiceTestClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sentiment_source.py"


@pytest.fixture
def example() -> dict[str, Any]:
    # Not run as __main__, so the module registers its handlers but does not start.
    return runpy.run_path(str(EXAMPLE), run_name="sentiment_source")


def test_registers_on_the_default_service(example: dict[str, Any]) -> None:
    svc = ogpu.service.get_default_service()
    assert sorted(svc.handlers) == ["predict", "predict_batch"]
    assert svc.init_spec is not None and svc.init_spec.name == "setup"
    assert svc.handlers["predict_batch"].is_async


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I love this, it is great", "positive"),
        ("terrible and slow, the worst", "negative"),
        ("this is not good", "negative"),
        ("the sky is blue", "neutral"),
    ],
)
def test_predict_in_process(example: dict[str, Any], text: str, label: str) -> None:
    with ServiceTestClient() as client:
        output = client.call_handler("predict", {"text": text})
    assert not isinstance(output, TaskFailure)
    assert output.model_dump()["label"] == label


def test_batch_and_validation(example: dict[str, Any]) -> None:
    with ServiceTestClient() as client:
        batch = client.call_handler("predict_batch", {"texts": ["great", "awful", "meh"]})
        with pytest.raises(ValueError, match="at least 1 character"):
            client.call_handler("predict", {"text": ""})
    assert not isinstance(batch, TaskFailure)
    labels = [r["label"] for r in batch.model_dump()["results"]]
    assert labels == ["positive", "negative", "neutral"]


def test_served_over_http(example: dict[str, Any], serve: Any, recorder: CallbackRecorder) -> None:
    with serve(ogpu.service.get_default_service(), callback_url=recorder.url) as rs:
        rs.wait_ready()
        response = requests.post(rs.url("/run/predict/0xS1"), json={"text": "nice"}, timeout=10)
        assert response.status_code == 202
        [record] = recorder.wait_for("0xS1")
    assert record.body["label"] == "positive"
    assert set(record.body) == {"label", "score", "confidence"}
