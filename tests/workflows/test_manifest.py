"""Source manifests on a real node: a task is checked against its source's manifest
before anything is pinned or paid (counted at the RPC proxy and the content store),
sources without one work as before, and a generated typed client runs end to end."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ogpu.client import (
    DeliveryMethod,
    publish_source,
    publish_task,
    publish_tasks,
    update_source,
)
from ogpu.ipfs import publish_to_ipfs
from ogpu.manifest import (
    METADATA_KEY,
    InvalidManifestError,
    SourceManifest,
    TaskDataError,
    UnknownFunctionError,
    clear_manifest_cache,
)
from ogpu.protocol import Source, Task
from ogpu.service.manifest import extract_manifest
from ogpu.types import TaskStatus

from ..helpers.wait import free_port

if TYPE_CHECKING:
    from conftest import Net

ROOT = Path(__file__).resolve().parents[2]
SENTIMENT = ROOT / "examples" / "sentiment_source.py"
PAYMENT = 10**16


@pytest.fixture(scope="module")
def manifest() -> SourceManifest:
    return extract_manifest(SENTIMENT)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_manifest_cache()
    yield
    clear_manifest_cache()


def _source(net: Net, manifest: SourceManifest | None, **kwargs: Any) -> Source:
    net.fund(net.client)
    return publish_source(net.source_info(**kwargs), signer=net.client.account, manifest=manifest)


def _metadata_gets(net: Net) -> int:
    return sum(n for (verb, path), n in net.store.paths.items() if verb == "GET")


# -- refused before anything is pinned or sent ---------------------------------------------------


@pytest.mark.parametrize(
    ("function", "suggestion"),
    [("predcit", "predict"), ("Predict", "predict"), ("predict_btach", "predict_batch"),
     ("classify", None)],
)  # fmt: skip
def test_unknown_function_is_refused_with_a_suggestion(
    net: Net, manifest: SourceManifest, function: str, suggestion: str | None
) -> None:
    source = _source(net, manifest)
    with net.nothing_sent(), pytest.raises(UnknownFunctionError) as caught:
        publish_task(
            net.task_info(source, function=function, data={"text": "hi"}), signer=net.client.account
        )
    error = caught.value
    assert error.suggestion == suggestion
    assert error.available == ("predict", "predict_batch")
    if suggestion:
        assert f"did you mean {suggestion!r}?" in str(error)
    assert source.get_task_count() == 0


@pytest.mark.parametrize(
    ("function", "data", "location", "reason"),
    [
        ("predict", {}, "data.text", "Field required"),
        ("predict", {"text": ""}, "data.text", "at least 1 character"),
        ("predict", {"text": 42}, "data.text", "valid string"),
        ("predict", {"text": "x" * 10_001}, "data.text", "at most 10000 characters"),
        ("predict_batch", {"texts": ["fine", 3]}, "data.texts[1]", "valid string"),
        ("predict_batch", {"texts": []}, "data.texts", "at least 1 item"),
        ("predict_batch", {"texts": "one text"}, "data.texts", "valid list"),
        ("predict_batch", {"texts": ["a"] * 257}, "data.texts", "at most 256 items"),
    ],
)
def test_wrongly_shaped_data_is_refused_with_its_path(
    net: Net,
    manifest: SourceManifest,
    function: str,
    data: dict[str, Any],
    location: str,
    reason: str,
) -> None:
    source = _source(net, manifest)
    with net.nothing_sent(), pytest.raises(TaskDataError) as caught:
        publish_task(net.task_info(source, function=function, data=data), signer=net.client.account)
    assert caught.value.location == location
    assert reason in caught.value.reason
    assert f"at {location}: " in str(caught.value)


def test_publish_tasks_refuses_the_batch_and_names_the_task(
    net: Net, manifest: SourceManifest
) -> None:
    source = _source(net, manifest)
    infos = [
        net.task_info(source, function="predict", data={"text": "good"}),
        net.task_info(source, function="predict_batch", data={"texts": [1]}),
    ]
    with net.nothing_sent(), pytest.raises(TaskDataError) as caught:
        publish_tasks(infos, signer=net.client.account)
    assert str(caught.value).startswith("task_infos[1]: ")
    assert caught.value.location == "data.texts[0]"


# -- accepted tasks, and the cost of the check ---------------------------------------------------


@pytest.mark.slow
def test_valid_tasks_publish_and_the_manifest_is_read_once(
    net: Net, manifest: SourceManifest
) -> None:
    source = _source(net, manifest)
    net.store.reset_counts()
    first = publish_task(
        net.task_info(source, function="predict", data={"text": "hi"}), signer=net.client.account
    )
    assert _metadata_gets(net) == 1
    more = publish_tasks(
        [
            net.task_info(source, function="predict", data={"text": "again"}),
            net.task_info(source, function="predict_batch", data={"texts": ["a", "b"]}),
        ],
        signer=net.client.account,
    )
    assert _metadata_gets(net) == 1  # cached per source and metadata URL
    assert [t.get_status() for t in (first, *more)] == [TaskStatus.NEW] * 3
    assert source.get_task_count() == 3


def test_validate_false_skips_the_check(net: Net, manifest: SourceManifest) -> None:
    source = _source(net, manifest)
    net.store.reset_counts()
    task = publish_task(
        net.task_info(source, function="predcit", data={"text": "hi"}),
        signer=net.client.account,
        validate=False,
    )
    assert _metadata_gets(net) == 0
    assert task.get_metadata()["function_name"] == "predcit"


def test_get_manifest_is_cached_per_source_and_metadata_url(
    net: Net, manifest: SourceManifest
) -> None:
    source = _source(net, manifest)
    net.store.reset_counts()
    assert source.get_manifest() == manifest
    assert Source(source.address).get_manifest() == manifest
    assert _metadata_gets(net) == 1
    update_source(
        source.address, net.source_info(min_payment=2 * 10**15), signer=net.client.account
    )
    assert source.get_manifest() is None  # the new metadata has none: fetched anew
    assert _metadata_gets(net) == 2
    update_source(source.address, net.source_info(), signer=net.client.account, manifest=manifest)
    with net.nothing_sent(), pytest.raises(UnknownFunctionError):
        publish_task(net.task_info(source, function="nope", data={}), signer=net.client.account)


def test_the_manifest_is_stored_under_one_key_beside_the_metadata(
    net: Net, manifest: SourceManifest
) -> None:
    source = _source(net, manifest)
    metadata = source.get_metadata()
    assert metadata["name"] == "sentiment-analyzer"
    assert SourceManifest.parse(metadata[METADATA_KEY]) == manifest
    assert set(metadata) == {"cpu", "nvidia", "amd", "name", "description", "logoUrl", METADATA_KEY}


# -- sources without a (readable) manifest work as today -----------------------------------------


@pytest.mark.slow
def test_source_without_manifest_publishes_as_before(net: Net) -> None:
    source = _source(net, None)
    assert source.get_manifest() is None
    task = publish_task(
        net.task_info(source, function="anything", data={"x": 1}), signer=net.client.account
    )
    tasks = publish_tasks(
        [
            net.task_info(source, function="other", data={}),
            net.task_info(source, function="predict", data={"text": 1}),
        ],
        signer=net.client.account,
    )
    assert source.get_task_count() == 3
    assert {t.get_metadata()["function_name"] for t in (task, *tasks)} == {
        "anything",
        "other",
        "predict",
    }


def _raw_source(net: Net, metadata_url: str) -> Source:
    net.fund(net.client)
    return net.source(metadata_url=metadata_url, envs=net.source_info().imageEnvs.mask)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["missing", "not JSON", "malformed manifest", "other scheme"])
def test_unreadable_manifest_publishes_unchecked_with_a_warning(
    net: Net, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    if kind == "missing":
        url = (
            f"{net.node.store_url}/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
        )
    elif kind == "not JSON":
        url = publish_to_ipfs(b"not json", filename="m.txt", content_type="text/plain")
    elif kind == "malformed manifest":
        url = publish_to_ipfs({"name": "x", METADATA_KEY: {"functions": 5}}, filename="m.json")
    else:
        url = "ftp://example.invalid/meta.json"
    source = _raw_source(net, url)
    if kind == "malformed manifest":
        with pytest.raises(InvalidManifestError):
            source.get_manifest()
    with caplog.at_level(logging.WARNING, logger="ogpu.client"):
        task = publish_task(
            net.task_info(source, function="anything", data={}), signer=net.client.account
        )
        publish_task(net.task_info(source, function="again", data={}), signer=net.client.account)
    assert Task(task.address).get_status() == TaskStatus.NEW
    warnings = [r for r in caplog.records if "without checking its manifest" in r.getMessage()]
    assert len(warnings) == 1  # remembered: the second publish did not retry the read


# -- a generated typed client, end to end --------------------------------------------------------


_SCRIPT = """\
from __future__ import annotations

import time

import sentiment_client as client


def classify(text: str) -> tuple[str, float]:
    task = client.publish_predict(
        client.PredictInput(text=text), payment=10**16, expiry=int(time.time()) + 600
    )
    output: client.PredictOutput = client.result_predict(task, timeout=60)
    batch: client.PredictBatchOutput = client.result_predict_batch(task.address)
    first: client.SentimentOutput = batch.results[0]
    return output.label, output.score + first.confidence
"""


@pytest.mark.slow
def test_generated_client_end_to_end(net: Net, manifest: SourceManifest, tmp_path: Path) -> None:
    if net.node.kind != "devnet":
        pytest.skip("one end-to-end run (the devnet) is enough")
    from ogpu.provider import ProviderRuntime, RuntimeSettings, prepare_provider
    from ogpu.service import ServiceConfig
    from ogpu.service.testing import serve_in_thread
    from ogpu.taskclient import generate_client

    source = _source(net, manifest, delivery=DeliveryMethod.FIRST_RESPONSE)
    published = source.get_manifest()
    assert published is not None
    (tmp_path / "sentiment_client.py").write_text(generate_client(published, source=source.address))
    (tmp_path / "use_client.py").write_text(_SCRIPT)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "sentiment_client.py",
         "use_client.py"],
        cwd=tmp_path,
        env={"MYPYPATH": f"{ROOT / 'src'}:{ROOT / 'generated'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr

    sys.path.insert(0, str(tmp_path))
    try:
        import sentiment_client as client  # type: ignore[import-not-found]

        prepare_provider(net.provider.account, [source.address], master=net.master.account)
        port = free_port()
        config = ServiceConfig(
            host="127.0.0.1", port=0, callback_url=f"http://127.0.0.1:{port}/callback"
        )
        with serve_in_thread(_sentiment_service(), config) as running:
            running.wait_ready()
            settings = RuntimeSettings(
                service_url=running.base_url, callback_port=port, poll_interval=0.2
            )
            with ProviderRuntime(net.provider.account, settings, sources=[source.address]):
                task = client.publish_predict(
                    client.PredictInput(text="I love it, great"),
                    payment=PAYMENT,
                    expiry=net.now() + 600,
                    signer=net.client.account,
                )
                output = client.result_predict(task, timeout=60)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("sentiment_client", None)
    assert type(output).__name__ == "PredictOutput"
    assert (output.label, output.score) == ("positive", 1.0)
    assert task.get_status() == TaskStatus.FINALIZED


def _sentiment_service() -> Any:
    import runpy

    import ogpu.service

    ogpu.service.reset()
    runpy.run_path(str(SENTIMENT), run_name="sentiment_source")
    return ogpu.service.get_default_service()
