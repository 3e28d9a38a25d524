"""The content store over real HTTP: IPFS API, OGPU pinning shape, gateway, limits."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from ogpu.devnet.store import (
    ContentStore,
    MultipartError,
    StoreFullError,
    StoreServer,
    guess_content_type,
    parse_multipart,
)
from ogpu.ipfs.cid import cid_for_bytes

HELLO_CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


@pytest.fixture
def store_server() -> Iterator[StoreServer]:
    with StoreServer("127.0.0.1", 0, max_upload=4096) as server:
        yield server


def test_ipfs_add_then_gateway(store_server: StoreServer) -> None:
    answer = requests.post(
        f"{store_server.url}/api/v0/add",
        files={"file": ("hello.txt", b"hello world", "text/plain")},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json() == {"Name": "hello.txt", "Hash": HELLO_CID, "Size": "11"}
    fetched = requests.get(f"{store_server.url}/ipfs/{HELLO_CID}", timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == b"hello world"
    assert fetched.headers["Content-Type"].startswith("text/plain")
    assert fetched.headers["ETag"] == f'"{HELLO_CID}"'
    head = requests.head(f"{store_server.url}/ipfs/{HELLO_CID}", timeout=10)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == "11"
    assert head.content == b""
    again = requests.get(
        f"{store_server.url}/ipfs/{HELLO_CID}",
        headers={"If-None-Match": f'"{HELLO_CID}"'},
        timeout=10,
    )
    assert again.status_code == 304


def test_ipfs_add_several_files_answers_ndjson(store_server: StoreServer) -> None:
    answer = requests.post(
        f"{store_server.url}/api/v0/add?cid-version=1",
        files=[("file", ("a.bin", b"\x00\x01")), ("file", ("b.bin", b"\x02"))],
        timeout=10,
    )
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["Name"] for line in lines] == ["a.bin", "b.bin"]
    assert [line["Hash"] for line in lines] == [cid_for_bytes(b"\x00\x01"), cid_for_bytes(b"\x02")]
    cat = requests.post(
        f"{store_server.url}/api/v0/cat", params={"arg": lines[0]["Hash"]}, timeout=10
    )
    assert cat.content == b"\x00\x01"


def test_file_create_answers_gateway_link(store_server: StoreServer) -> None:
    document = {"function_name": "run", "data": {"prompt": "hi"}}
    body = json.dumps(document).encode()
    answer = requests.post(
        f"{store_server.url}/file/create",
        files={"file": ("config.json", body, "application/json")},
        timeout=10,
    )
    assert answer.status_code == 200
    cid = cid_for_bytes(body)
    assert answer.json()["link"] == f"{store_server.url}/ipfs/{cid}"
    fetched = requests.get(answer.json()["link"], timeout=10)
    assert fetched.headers["Content-Type"] == "application/json"
    assert fetched.json() == document


def test_binary_payload_is_kept_byte_for_byte(store_server: StoreServer) -> None:
    payload = bytes(range(256)) * 8 + b"\r\n--boundary-lookalike\r\n\r\n"
    answer = requests.post(
        f"{store_server.url}/api/v0/add", files={"file": ("blob", payload)}, timeout=10
    )
    cid = answer.json()["Hash"]
    assert cid == cid_for_bytes(payload)
    fetched = requests.get(f"{store_server.url}/ipfs/{cid}", timeout=10)
    assert fetched.content == payload
    assert fetched.headers["Content-Type"] == "application/octet-stream"


def test_gateway_errors(store_server: StoreServer) -> None:
    unknown = cid_for_bytes(b"never stored")
    assert requests.get(f"{store_server.url}/ipfs/{unknown}", timeout=10).status_code == 404
    assert requests.get(f"{store_server.url}/ipfs/not-a-cid", timeout=10).status_code == 400
    assert (
        requests.get(f"{store_server.url}/ipfs/{HELLO_CID}/sub/path", timeout=10).status_code == 404
    )
    assert requests.get(f"{store_server.url}/elsewhere", timeout=10).status_code == 404
    assert requests.post(f"{store_server.url}/nowhere", data=b"x", timeout=10).status_code == 404


def test_upload_errors(store_server: StoreServer) -> None:
    no_file = requests.post(
        f"{store_server.url}/file/create", files={"other": ("x", b"1")}, timeout=10
    )
    assert no_file.status_code == 400
    assert "file" in no_file.json()["error"]
    not_multipart = requests.post(f"{store_server.url}/api/v0/add", data=b"raw", timeout=10)
    assert not_multipart.status_code == 400
    assert not_multipart.json()["Type"] == "error"


def test_upload_size_cap(store_server: StoreServer) -> None:
    at_cap = b"a" * 4096
    ok = requests.post(f"{store_server.url}/file/create", files={"file": ("a", at_cap)}, timeout=10)
    assert ok.status_code == 200
    over = requests.post(
        f"{store_server.url}/file/create", files={"file": ("a", at_cap + b"b")}, timeout=10
    )
    assert over.status_code == 413
    far_over = requests.post(
        f"{store_server.url}/api/v0/add", files={"file": ("a", b"c" * 200_000)}, timeout=10
    )
    assert far_over.status_code == 413
    assert cid_for_bytes(at_cap + b"b") not in store_server.store


def test_chunked_upload(store_server: StoreServer) -> None:
    boundary = "xyzBOUNDARY"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello world\r\n--{boundary}--\r\n"
    ).encode()
    parts = urlsplit(store_server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/v0/add")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for start in range(0, len(body), 17):
            chunk = body[start : start + 17]
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["Hash"] == HELLO_CID
    finally:
        connection.close()


def test_missing_content_length(store_server: StoreServer) -> None:
    parts = urlsplit(store_server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest("POST", "/file/create")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.endheaders()
        assert connection.getresponse().status == 411
    finally:
        connection.close()


def test_gateway_url_override() -> None:
    server = StoreServer("127.0.0.1", 0, gateway_url="https://gw.example/")
    with server:
        answer = requests.post(
            f"{server.url}/file/create", files={"file": ("x", b"hello world")}, timeout=10
        )
        assert answer.json()["link"] == f"https://gw.example/ipfs/{HELLO_CID}"


def test_content_store_limits_and_dedup() -> None:
    store = ContentStore(max_total=10)
    assert store.put(b"12345") == cid_for_bytes(b"12345")
    assert store.put(b"12345") == cid_for_bytes(b"12345")
    assert store.total_bytes == 5
    with pytest.raises(StoreFullError):
        store.put(b"abcdefgh")
    assert len(store) == 1
    assert store.get(cid_for_bytes(b"12345")) == b"12345"
    assert store.get(cid_for_bytes(b"other")) is None
    copy = ContentStore()
    assert copy.load(store.blobs()) == 1
    assert cid_for_bytes(b"12345") in copy
    with pytest.raises(ValueError):
        StoreServer("127.0.0.1", 0, max_upload=0)


def test_parse_multipart_details() -> None:
    body = (
        b"preamble\r\n--b1\r\n"
        b'Content-Disposition: form-data; name="meta"\r\n\r\n{"a":1}\r\n'
        b"--b1\r\n"
        b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n"
        b"Content-Type: text/plain\r\n\r\nline1\r\nline2\r\n"
        b"--b1--\r\n"
    )
    parts = parse_multipart(body, 'multipart/form-data; boundary="b1"')
    assert [(p.name, p.filename) for p in parts] == [("meta", None), ("file", "résumé.txt")]
    assert parts[0].data == b'{"a":1}'
    assert parts[1].data == b"line1\r\nline2"
    assert parts[1].content_type == "text/plain"
    for bad_body, content_type in (
        (body, "application/json"),
        (body, "multipart/form-data"),
        (b"--b1\r\nno end", "multipart/form-data; boundary=b1"),
        (b"nothing here", "multipart/form-data; boundary=b1"),
    ):
        with pytest.raises(MultipartError):
            parse_multipart(bad_body, content_type)


def test_guess_content_type() -> None:
    assert guess_content_type(b' {"a": [1, 2]} ') == "application/json"
    assert guess_content_type(b"[1, 2") == "text/plain; charset=utf-8"
    assert guess_content_type(b"\x89PNG\r\n\x1a\n\x00") == "application/octet-stream"
