"""publish_to_ipfs against real loopback servers: every backend shape, faults, selection."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from ogpu.ipfs import (
    DevnetStoreBackend,
    IPFSBackend,
    IPFSNodeBackend,
    OGPUPinningBackend,
    RetryPolicy,
    Timeout,
    fetch_ipfs_json,
    publish_to_ipfs,
    resolve_config,
)
from ogpu.types import InvalidInputError, IPFSUploadError

if TYPE_CHECKING:
    from conftest import FaultServer, Handler


class Meta(BaseModel):
    name: str
    cpu: bool = True


def _backends(server: FaultServer) -> list[IPFSBackend]:
    return [
        OGPUPinningBackend(server.base, server.base),
        IPFSNodeBackend(server.base, server.base),
        DevnetStoreBackend(server.base),
    ]


@pytest.mark.parametrize("kind", [0, 1, 2], ids=["ogpu", "node", "devnet"])
def test_round_trip_every_backend_shape(
    server: FaultServer, fast_retry: RetryPolicy, kind: int
) -> None:
    server.install_store()
    backend = _backends(server)[kind]
    url = publish_to_ipfs({"name": "ü", "n": [1, 2]}, backend=backend, retry=fast_retry)
    assert url.startswith(server.url("/ipfs/b"))
    assert fetch_ipfs_json(url, retry=fast_retry) == {"name": "ü", "n": [1, 2]}
    (filename, ctype, data) = next(iter(server.blobs.values()))
    assert (filename, ctype) == ("data.json", "application/json")
    assert json.loads(data) == {"name": "ü", "n": [1, 2]}


def test_data_kinds_are_serialised(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.install_store()
    backend = OGPUPinningBackend(server.base, server.base)
    model_url = publish_to_ipfs(Meta(name="m"), backend=backend, filename="meta.json")
    assert fetch_ipfs_json(model_url) == {"name": "m", "cpu": True}
    text_url = publish_to_ipfs('{"raw": true}', backend=backend, retry=fast_retry)
    assert fetch_ipfs_json(text_url) == {"raw": True}
    publish_to_ipfs(b"\x00\x01", backend=backend, filename="blob.bin")
    kinds = {name: (ctype, data) for name, ctype, data in server.blobs.values()}
    assert kinds["meta.json"][0] == "application/json"
    assert kinds["data.json"][0] == "text/plain"
    assert kinds["blob.bin"] == ("application/octet-stream", b"\x00\x01")
    publish_to_ipfs({"x": 1}, backend=backend, filename="x.txt", content_type="text/x-custom")
    assert any(ctype == "text/x-custom" for _, ctype, _ in server.blobs.values())


@pytest.mark.parametrize("path", ["/file/create", "/api/v0/add"])
def test_500_then_200_is_retried(server: FaultServer, fast_retry: RetryPolicy, path: str) -> None:
    server.install_store()
    good = server.routes[("POST", path)]

    def flaky(h: Handler, n: int) -> None:
        if n == 1:
            h.body()
            h.send_json({"error": "busy"}, status=502)
        else:
            good(h, n)

    server.route(path, "POST")(flaky)
    backend = _backends(server)[0 if path == "/file/create" else 1]
    url = publish_to_ipfs({"k": 1}, backend=backend, retry=fast_retry)
    assert fetch_ipfs_json(url) == {"k": 1}
    assert server.hits[path] == 2


def test_429_is_retried_until_attempts_run_out(
    server: FaultServer, fast_retry: RetryPolicy
) -> None:
    server.answer_posts("/file/create", b"", status=429, headers={"Retry-After": "0"})
    with pytest.raises(IPFSUploadError, match="429"):
        publish_to_ipfs({"k": 1}, backend=_backends(server)[0], retry=fast_retry)
    assert server.hits["/file/create"] == fast_retry.max_attempts


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 302])
def test_4xx_and_redirects_are_not_retried(
    server: FaultServer, fast_retry: RetryPolicy, status: int
) -> None:
    server.answer_posts("/file/create", b"{}", status=status, headers={"Location": "/elsewhere"})
    with pytest.raises(IPFSUploadError, match=str(status)):
        publish_to_ipfs({"k": 1}, backend=_backends(server)[0], retry=fast_retry)
    assert server.hits["/file/create"] == 1
    assert server.hits["/elsewhere"] == 0


@pytest.mark.slow
def test_slow_upload_times_out_and_is_retried(
    server: FaultServer, fast_retry: RetryPolicy, short_timeout: Timeout
) -> None:
    @server.route("/api/v0/add", "POST")
    def slow(h: Handler, n: int) -> None:
        h.body()
        time.sleep(1.0)
        h.send_json({"Hash": "bafyslowslowslow"})

    with pytest.raises(IPFSUploadError, match="timed out"):
        publish_to_ipfs(
            {"k": 1}, backend=_backends(server)[1], retry=fast_retry, timeout=short_timeout
        )
    assert server.hits["/api/v0/add"] == fast_retry.max_attempts


def test_connection_refused(closed_port: int, fast_retry: RetryPolicy) -> None:
    backend = OGPUPinningBackend(f"http://127.0.0.1:{closed_port}", "http://127.0.0.1:1")
    with pytest.raises(IPFSUploadError) as info:
        publish_to_ipfs({"k": 1}, backend=backend, retry=fast_retry)
    assert info.value.__cause__ is not None


#: (index in _backends, its upload path, a malformed answer to the upload)
MALFORMED_UPLOADS = [
    *(
        (0, "/file/create", answer)
        for answer in [
            b"{}",
            b'{"link": 5}',
            b'{"link": "file:///etc/passwd"}',
            b'{"link": "not a url"}',
            b"[1]",
            b"not json",
            b"",
        ]
    ),
    *(
        (1, "/api/v0/add", answer)
        for answer in [b"{}", b'{"Hash": "../../x"}', b'{"Hash": 7}', b'{"Name": "data.json"}']
    ),
]


@pytest.mark.parametrize(("kind", "path", "answer"), MALFORMED_UPLOADS)
def test_malformed_upload_answers(
    server: FaultServer, fast_retry: RetryPolicy, kind: int, path: str, answer: bytes
) -> None:
    server.answer_posts(path, answer)
    with pytest.raises(IPFSUploadError):
        publish_to_ipfs({"k": 1}, backend=_backends(server)[kind], retry=fast_retry)
    assert server.hits[path] == 1


def test_node_ndjson_answer_picks_the_file(server: FaultServer, fast_retry: RetryPolicy) -> None:
    @server.route("/api/v0/add", "POST")
    def ndjson(h: Handler, n: int) -> None:
        h.body()
        lines = [
            {"Name": "data.json", "Hash": "bafkfilefilefile", "Size": "3"},
            {"Name": "", "Hash": "bafydirdirdirdir", "Size": "9"},
        ]
        h.send_bytes("\n".join(json.dumps(x) for x in lines).encode() + b"\n")

    url = publish_to_ipfs({"k": 1}, backend=IPFSNodeBackend(server.base, "https://gw.example"))
    assert url == "https://gw.example/ipfs/bafkfilefilefile"


class _Unserialisable:
    pass


@pytest.mark.parametrize(
    ("data", "kwargs"),
    [
        ({"x": _Unserialisable()}, {}),
        ({"x": float("nan")}, {}),
        ([1, 2], {}),
        (42, {}),
        (None, {}),
        ({"x": 1}, {"filename": "../etc/passwd"}),
        ({"x": 1}, {"filename": ""}),
        ({"x": 1}, {"filename": "a\r\nb"}),
        ({"x": 1}, {"content_type": "a\nb"}),
        ({"x": 1}, {"backend": "s3"}),
        ({"x": 1}, {"backend": 3}),
        ({"x": 1}, {"timeout": -1}),
        ({"x": 1}, {"timeout": (1, 2, 3)}),
        ({"x": 1}, {"retry": "often"}),
    ],
)
def test_bad_input_fails_before_any_io(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, data: Any, kwargs: dict[str, Any]
) -> None:
    server.install_store()
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "ogpu")
    monkeypatch.setenv("OGPU_IPFS_API_URL", server.base)
    with pytest.raises(InvalidInputError):
        publish_to_ipfs(data, **kwargs)
    assert sum(server.hits.values()) == 0


def test_env_selects_node_backend(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.install_store()
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "NODE")
    monkeypatch.setenv("OGPU_IPFS_API_URL", server.base)
    monkeypatch.setenv("OGPU_IPFS_GATEWAY", "https://gateway.example/")
    url = publish_to_ipfs({"k": 1})
    assert url.startswith("https://gateway.example/ipfs/b")
    assert server.hits["/api/v0/add"] == 1
    assert server.hits["/file/create"] == 0


def test_argument_beats_env(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.install_store()
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "node")
    monkeypatch.setenv("OGPU_IPFS_API_URL", server.base)
    url = publish_to_ipfs({"k": 1}, backend="ogpu")
    assert server.hits["/file/create"] == 1
    assert fetch_ipfs_json(url) == {"k": 1}


def test_env_backend_devnet_uses_api_url_as_gateway(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.install_store()
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
    monkeypatch.setenv("OGPU_IPFS_API_URL", server.base)
    url = publish_to_ipfs({"k": 2})
    assert url.startswith(server.url("/ipfs/"))
    assert fetch_ipfs_json(url) == {"k": 2}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OGPU_IPFS_BACKEND", "s3"),
        ("OGPU_IPFS_API_URL", "ftp://x"),
        ("OGPU_IPFS_GATEWAY", "file:///tmp"),
    ],
)
def test_bad_env_is_a_typed_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInputError, match=name):
        resolve_config()


def test_backend_reprs_hide_credentials() -> None:
    backend = IPFSNodeBackend("https://user:pw-secret@api.example/x?key=k-secret", "https://gw.x")
    assert "secret" not in repr(backend)
    assert "secret" not in repr(OGPUPinningBackend("https://u:pw-secret@a.example", "https://g.x"))
