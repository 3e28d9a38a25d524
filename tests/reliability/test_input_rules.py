"""Inputs the service side can never take are refused before anything is pinned or paid.

One routing rule for ``function_name`` (``ogpu._routing``) serves the client (publish),
the provider runtime (dispatch) and the service (registration and routing); values
JSON cannot carry everywhere (too deep, lone surrogates, NaN, cycles), script and data
URLs in source metadata, and key files readable by others are refused or warned about.
A source's manifest refuses misspelt functions and misshaped data the same way.

Every client case is counted at the wire: requests through the fault proxy (the
JSON-RPC node), uploads into the content store (a ``ContentStore`` that counts its
writes), and ``eth_sendRawTransaction``.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ogpu import client
from ogpu.cli import main
from ogpu.devnet import CLIENTS, MASTERS, PROVIDERS
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import ContentStore, StoreServer
from ogpu.ipfs import publish_to_ipfs
from ogpu.manifest import SourceManifest, TaskDataError, UnknownFunctionError, clear_manifest_cache
from ogpu.protocol import controller, extract_task_address
from ogpu.provider import ProviderRuntime, RuntimeEvent, RuntimeSettings, prepare_provider
from ogpu.service import HandlerSignatureError, Service, ServiceConfig
from ogpu.service.testing import serve_in_thread
from ogpu.types import (
    ImageEnvironments,
    InvalidParamsError,
    OGPUError,
    SourceInfo,
    TaskInfo,
    TaskInput,
    TaskParams,
)

from ..helpers.proxy import FaultProxy
from ..helpers.wait import free_port
from .conftest import Net, kept_state, sdk_on

RAW = "eth_sendRawTransaction"
C0 = CLIENTS[0]
DEEP = 600


class CountingStore(ContentStore):
    """The devnet content store, counting every write it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self._count_lock = threading.Lock()

    def put(self, data: bytes) -> str:
        with self._count_lock:
            self.writes += 1
        return super().put(data)


class Text(BaseModel):
    text: str


@dataclass
class World:
    net: Net
    store: CountingStore
    source: str  # no manifest
    checked: str  # publishes the manifest of ``service``
    service: Service


def _service() -> Service:
    service = Service()

    @service.expose(timeout=10)
    def predict(data: Text) -> Text:
        return Text(text=data.text.upper())

    return service


@pytest.fixture(scope="module")
def world(devnet_session: Devnet, proxy: FaultProxy, upstream: RpcServer) -> Iterator[World]:
    counting = CountingStore()
    server = StoreServer("127.0.0.1", 0, store=counting)
    server.start()
    try:
        with kept_state(devnet_session), sdk_on(devnet_session, proxy, upstream, server) as net:
            net.fund(net.client)
            service = _service()
            plain = client.publish_source(net.source_info(), signer=C0.account)
            checked = client.publish_source(
                net.source_info(), signer=C0.account, manifest=service.manifest()
            )
            yield World(net, counting, plain.address, checked.address, service)
    finally:
        server.stop()


@dataclass(frozen=True)
class Wire:
    requests: int
    uploads: int
    sends: int


def _refused(world: World, call: Callable[[], Any], error: type[OGPUError]) -> Wire:
    clear_manifest_cache()
    world.net.rpc.clear()
    before = world.store.writes
    with pytest.raises(error) as caught:
        call()
    assert isinstance(caught.value, error)
    wire = Wire(
        world.net.rpc.total_received(), world.store.writes - before, world.net.rpc.count(RAW)
    )
    assert (wire.uploads, wire.sends) == (0, 0)
    return wire


def _refused_offline(
    world: World, call: Callable[[], Any], row: Any, case: str, injected: str, detail: str = ""
) -> None:
    """``call`` raises InvalidParamsError (``detail``: what the row adds to the name) before
    any request, upload or transaction; records the row."""
    assert _refused(world, call, InvalidParamsError).requests == 0
    outcome = f"InvalidParamsError{detail}; 0 requests, 0 uploads, 0 transactions"
    row(area="inputs", case=case, injected=injected, outcome=outcome)


def _task(world: World, function: Any = "predict", data: Any = None, **extra: Any) -> TaskInfo:
    config = TaskInput("predict", {"text": "hi"} if data is None else {}, **extra)
    config.function_name = function  # set afterwards: the constructor refuses some itself
    if data is not None:
        config.data = data
    return TaskInfo(world.source, config, world.net.now() + 600, 10**15)


def _one_batch(info: TaskInfo) -> Any:
    return client.publish_tasks([info], signer=C0.account)


PUBLISHERS: dict[str, Callable[[TaskInfo], Any]] = {
    "client.publish_task": lambda info: client.publish_task(info, signer=C0.account),
    "client.publish_tasks": _one_batch,
}

# -- function names no service can route ---------------------------------------------------------

UNROUTABLE = {
    "path traversal '../../health'": "../../health",
    "dot segment '..'": "..",
    "path separator 'a/b'": "a/b",
    "backslash 'a\\\\b'": "a\\b",
    "trailing newline 'predict\\n'": "predict\n",
    "CRLF 'predict\\r\\nX: 1'": "predict\r\nX: 1",
    "NUL 'predict\\x00'": "predict\x00",
    "tab": "pre\tdict",
    "10 000 characters": "p" * 10_000,
    "129 characters": "p" * 129,
    "empty": "",
    "blank": "   ",
    "percent-encoded '%2E%2E'": "%2E%2E",
    "percent-encoded 'predict%2F..'": "predict%2F..",
    "query 'predict?x=1'": "predict?x=1",
    "fragment 'predict#x'": "predict#x",
    "non-ASCII 'prédict'": "prédict",
    "leading digit '1predict'": "1predict",
    "dash 'pre-dict'": "pre-dict",
    "not a str (int)": 42,
    "None": None,
}


@pytest.mark.parametrize("publisher", list(PUBLISHERS))
@pytest.mark.parametrize("label", list(UNROUTABLE))
def test_unroutable_function_name_is_refused_by_the_client(
    world: World, publisher: str, label: str, row: Any
) -> None:
    info = _task(world, UNROUTABLE[label])
    _refused_offline(
        world,
        lambda: PUBLISHERS[publisher](info),
        row,
        f"{publisher}: function_name {label}",
        "a function_name no handler can have",
    )


@pytest.mark.parametrize("label", [k for k, v in UNROUTABLE.items() if isinstance(v, str)])
def test_unroutable_function_name_is_refused_by_the_service(label: str, row: Any) -> None:
    name = UNROUTABLE[label]

    def handler(data: Text) -> Text:
        return data

    handler.__name__ = name  # type: ignore[assignment]
    with pytest.raises(HandlerSignatureError):
        Service().register(handler)
    row(
        area="inputs",
        case=f"ogpu.service expose(): handler named {label}",
        injected="a handler whose name no task could route to",
        outcome="HandlerSignatureError at registration",
    )


@pytest.mark.slow
def test_provider_never_attempts_or_dispatches_an_unroutable_task(world: World, row: Any) -> None:
    """Tasks published by another tool (raw ``Controller.publishTask`` with a pinned
    config), as a hostile client could: the runtime refuses each before attempting."""
    net = world.net
    names = [n for n in UNROUTABLE.values() if n is not None and n != ""][:12]
    prepare_provider(PROVIDERS[0].account, [world.source], master=MASTERS[0].account)
    events: list[RuntimeEvent] = []
    done = threading.Event()
    port = free_port()
    config = ServiceConfig(host="127.0.0.1", port=0, callback_url=f"http://127.0.0.1:{port}/cb")
    with serve_in_thread(world.service, config) as running:
        running.wait_ready()
        settings = RuntimeSettings(service_url=running.base_url, callback_port=port,
                                   poll_interval=0.2)  # fmt: skip

        def seen(event: RuntimeEvent) -> None:
            events.append(event)
            if sum(e.kind in ("failed", "submitted") for e in events) >= len(names):
                done.set()

        nonce = net.nonce(PROVIDERS[0])
        runtime = ProviderRuntime(PROVIDERS[0].account, settings, on_event=seen)
        with runtime:
            runtime.add_source(world.source)
            for name in names:
                url = publish_to_ipfs({"function_name": name, "data": {"text": "x"}})
                params = TaskParams(world.source, url, net.now() + 600, 10**15)
                extract_task_address(controller.publish_task(params, signer=C0.account))
            assert done.wait(60), [e.message for e in events]
        accepted = running.runtime.stats.accepted
    failed = [e for e in events if e.kind == "failed"]
    assert len(failed) == len(names)
    assert all("cannot be dispatched" in e.message for e in failed), failed
    assert not [e for e in events if e.kind in ("attempted", "dispatched")]
    assert net.nonce(PROVIDERS[0]) == nonce  # no attempt transaction
    assert accepted == 0
    row(
        area="inputs",
        case=f"ProviderRuntime: {len(names)} tasks with unroutable names, published raw",
        injected="config JSON pinned by another tool, Controller.publishTask",
        outcome="refused before the attempt; 0 attempts, 0 service calls",
    )


# -- values JSON cannot carry everywhere ---------------------------------------------------------


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    root = value
    for _ in range(levels):
        value["k"] = {}
        value = value["k"]
    return root


def _cycle() -> dict[str, Any]:
    data: dict[str, Any] = {"a": [1]}
    data["a"].append(data)
    return data


BAD_DATA: dict[str, Callable[[], Any]] = {
    f"data nested {DEEP} deep (limit 512)": lambda: _deep(DEEP),
    "a list nested 100 000 deep": lambda: {"a": _nested_list(100_000)},
    "lone surrogate in a value": lambda: {"text": "ok \ud800"},
    "lone surrogate in a key": lambda: {"te\udfffxt": "ok"},
    "lone surrogate deep in a list": lambda: {"a": [["x", "\udc00"]]},
    "NaN": lambda: {"x": math.nan},
    "Infinity": lambda: {"x": [1.0, math.inf]},
    "-Infinity": lambda: {"y": {"z": -math.inf}},
    "a circular reference": _cycle,
    "a set": lambda: {"s": {1, 2}},
    "bytes": lambda: {"b": b"\x00"},
    "an object": lambda: {"o": object()},
}


def _nested_list(levels: int) -> list[Any]:
    value: list[Any] = []
    root = value
    for _ in range(levels):
        inner: list[Any] = []
        value.append(inner)
        value = inner
    return root


@pytest.mark.slow
@pytest.mark.parametrize("publisher", list(PUBLISHERS))
@pytest.mark.parametrize("label", list(BAD_DATA))
def test_data_json_cannot_carry_is_refused(
    world: World, publisher: str, label: str, row: Any
) -> None:
    info = _task(world, data=BAD_DATA[label]())
    _refused_offline(
        world,
        lambda: PUBLISHERS[publisher](info),
        row,
        f"{publisher}: {label}",
        "task data",
        detail=" naming the path",
    )


def test_surrogate_in_an_extra_config_field_is_refused(world: World, row: Any) -> None:
    info = _task(world, note="bad \ud800")
    _refused_offline(
        world,
        lambda: client.publish_task(info, signer=C0.account),
        row,
        "client.publish_task: lone surrogate in an extra config field",
        "TaskInput(..., note='\\ud800')",
    )


# -- source metadata: script and data URLs, text UTF-8 cannot carry ------------------------------

BAD_SOURCE: dict[str, dict[str, Any]] = {
    "logoUrl javascript:": {"logoUrl": "javascript:alert(1)"},
    "logoUrl JaVaScRiPt:": {"logoUrl": "JaVaScRiPt:alert(1)"},
    "logoUrl data:": {"logoUrl": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="},
    "logoUrl vbscript:": {"logoUrl": "vbscript:msgbox(1)"},
    "logoUrl file:": {"logoUrl": "file:///etc/passwd"},
    "logoUrl java<TAB>script:": {"logoUrl": "java\tscript:alert(1)"},
    "logoUrl with a newline": {"logoUrl": "https://example.com/\nlogo.png"},
    "logoUrl with a leading space": {"logoUrl": " https://example.com/logo.png"},
    "logoUrl without a host": {"logoUrl": "https:///logo.png"},
    "logoUrl lone surrogate": {"logoUrl": "https://example.com/\ud800.png"},
    "image URL javascript:": {"imageEnvs": ImageEnvironments(cpu="javascript:alert(1)")},
    "image URL data:": {"imageEnvs": ImageEnvironments(nvidia="data:text/yaml,services:")},
    "image URL java<NL>script:": {"imageEnvs": ImageEnvironments(amd="java\nscript:x")},
    "optionalParamsUrl javascript:": {"optionalParamsUrl": "javascript:alert(1)"},
    "name lone surrogate": {"name": "sentiment \ud800"},
    "description lone surrogate": {"description": "\udfff"},
}


def _bad_info(world: World, label: str) -> SourceInfo:
    info = world.net.source_info()
    for key, value in BAD_SOURCE[label].items():
        object.__setattr__(info, key, value)
    return info


SOURCE_WRITES: dict[str, Callable[[World, SourceInfo], Any]] = {
    "client.publish_source": lambda w, info: client.publish_source(info, signer=C0.account),
    "client.update_source": lambda w, info: client.update_source(w.source, info, signer=C0.account),
}


@pytest.mark.parametrize("write", list(SOURCE_WRITES))
@pytest.mark.parametrize("label", list(BAD_SOURCE))
def test_bad_source_metadata_is_refused(world: World, write: str, label: str, row: Any) -> None:
    info = _bad_info(world, label)
    _refused_offline(
        world,
        lambda: SOURCE_WRITES[write](world, info),
        row,
        f"{write}: {label}",
        "source metadata",
    )


# -- key files readable by others ----------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o677, 0o610])
def test_exposed_key_file_is_named_with_the_fix(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int, row: Any
) -> None:
    path = tmp_path / "client.key"
    path.write_text(C0.key_hex + "\n")
    path.chmod(mode)
    deployment = tmp_path / "deployment.json"
    deployment.write_text(world.net.devnet.deployment.to_json())
    argv = ["vault", "show", "--key-file", str(path), "--json", "--chain", "devnet",
            "--rpc", world.net.rpc.url, "--deployment", str(deployment)]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert f"key file {path} is accessible by group or others (mode {mode:04o})" in err
    assert f"chmod 600 {path}" in err
    secret = C0.key_hex.removeprefix("0x").lower()
    assert secret not in (out + err).lower()
    path.chmod(0o600)
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    row(
        area="inputs",
        case=f"--key-file with mode {mode:04o}",
        injected="a key file readable or writable by group or others",
        outcome="warning naming the file and `chmod 600`, never the key; none at 0600",
    )


# -- the source's manifest (issue 19) ------------------------------------------------------------

MANIFEST_CASES: dict[str, tuple[str, Any, type[OGPUError], str]] = {
    "misspelt function 'predcit'": ("predcit", {"text": "x"}, UnknownFunctionError, "'predict'?"),
    "wrong case 'Predict'": ("Predict", {"text": "x"}, UnknownFunctionError, "'predict'?"),
    "unknown function 'translate'": ("translate", {}, UnknownFunctionError, "lists: predict"),
    "missing field": ("predict", {}, TaskDataError, "data.text: Field required"),
    "wrong type": ("predict", {"text": 5}, TaskDataError, "data.text: Input should be a valid"),
    "object for a string": ("predict", {"text": {"a": 1}}, TaskDataError, "data.text"),
}


@pytest.mark.parametrize("publisher", list(PUBLISHERS))
@pytest.mark.parametrize("label", list(MANIFEST_CASES))
def test_manifest_refuses_before_anything_is_pinned_or_paid(
    world: World, publisher: str, label: str, row: Any
) -> None:
    function, data, error, fragment = MANIFEST_CASES[label]
    info = replace(_task(world, function, data), source=world.checked)
    wire = _refused(world, lambda: PUBLISHERS[publisher](info), error)
    assert wire.requests > 0  # the on-chain checks read the source (and its metadata URL)
    with pytest.raises(error, match=fragment.replace("?", r"\?").replace("[", r"\[")):
        PUBLISHERS[publisher](info)
    row(
        area="manifest",
        case=f"{publisher}: {label}",
        injected="a task the source's manifest refuses",
        outcome=f"{error.__name__} ({fragment}); reads only, 0 uploads, 0 transactions",
    )


def test_manifest_matches_the_service(world: World) -> None:
    published = client.Source(world.checked).get_manifest()
    assert isinstance(published, SourceManifest)
    assert published.hash == world.service.manifest().hash
