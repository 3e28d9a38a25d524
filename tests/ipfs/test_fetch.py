"""fetch_ipfs_json against real loopback servers that misbehave on purpose."""

from __future__ import annotations

import gzip
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from ogpu.ipfs import RetryPolicy, Timeout, fetch_ipfs_json, resolve_ipfs_url
from ogpu.ipfs.cid import cid_for_bytes
from ogpu.types import InvalidInputError, IPFSError, IPFSFetchError, IPFSGatewayError, OGPUError

if TYPE_CHECKING:
    from conftest import FaultServer, Handler


def test_plain_object(server: FaultServer, fast_retry: RetryPolicy) -> None:
    url = server.serve_json("/ok", {"a": 1, "nested": {"b": [1, 2]}})
    assert fetch_ipfs_json(url, retry=fast_retry) == {"a": 1, "nested": {"b": [1, 2]}}
    assert server.hits["/ok"] == 1


def test_500_then_200_is_retried(server: FaultServer, fast_retry: RetryPolicy) -> None:
    @server.route("/flaky")
    def flaky(h: Handler, n: int) -> None:
        if n == 1:
            h.send_json({"error": "boom"}, status=500)
        else:
            h.send_json({"ok": True})

    assert fetch_ipfs_json(server.url("/flaky"), retry=fast_retry) == {"ok": True}
    assert server.hits["/flaky"] == 2


def test_429_then_200_is_retried(server: FaultServer, fast_retry: RetryPolicy) -> None:
    @server.route("/limited")
    def limited(h: Handler, n: int) -> None:
        if n <= 2:
            h.send_bytes(b"slow down", status=429, headers={"Retry-After": "0"})
        else:
            h.send_json({"ok": 3})

    assert fetch_ipfs_json(server.url("/limited"), retry=fast_retry) == {"ok": 3}
    assert server.hits["/limited"] == 3


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_persistent_transient_status_exhausts_attempts(
    server: FaultServer, fast_retry: RetryPolicy, status: int
) -> None:
    server.route("/down")(lambda h, n: h.send_json({}, status=status))
    with pytest.raises(IPFSGatewayError) as info:
        fetch_ipfs_json(server.url("/down"), retry=fast_retry)
    assert info.value.status_code == status
    assert server.hits["/down"] == fast_retry.max_attempts


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 204])
def test_other_status_is_not_retried(
    server: FaultServer, fast_retry: RetryPolicy, status: int
) -> None:
    server.route("/nope")(lambda h, n: h.send_bytes(b"", status=status))
    with pytest.raises(IPFSGatewayError) as info:
        fetch_ipfs_json(server.url("/nope"), retry=fast_retry)
    assert info.value.status_code == status
    assert isinstance(info.value, IPFSError)
    assert server.hits["/nope"] == 1


@pytest.mark.slow
def test_slow_server_times_out_and_is_retried(
    server: FaultServer, fast_retry: RetryPolicy, short_timeout: Timeout
) -> None:
    @server.route("/slow")
    def slow(h: Handler, n: int) -> None:
        time.sleep(1.0)
        h.send_json({"late": True})

    with pytest.raises(IPFSFetchError) as info:
        fetch_ipfs_json(server.url("/slow"), retry=fast_retry, timeout=short_timeout)
    assert "timed out" in str(info.value).lower()
    assert server.hits["/slow"] == fast_retry.max_attempts


def test_slow_first_answer_then_fast(
    server: FaultServer, fast_retry: RetryPolicy, short_timeout: Timeout
) -> None:
    @server.route("/warmup")
    def warmup(h: Handler, n: int) -> None:
        if n == 1:
            time.sleep(1.0)
        h.send_json({"n": n})

    assert fetch_ipfs_json(server.url("/warmup"), retry=fast_retry, timeout=short_timeout) == {
        "n": 2
    }


def test_total_time_budget_bounds_attempts(server: FaultServer) -> None:
    server.route("/down")(lambda h, n: h.send_json({}, status=503))
    policy = RetryPolicy(
        max_attempts=1000, backoff_initial=0.05, backoff_max=0.1, total_timeout=0.5
    )
    with pytest.raises(IPFSGatewayError):
        fetch_ipfs_json(server.url("/down"), retry=policy)
    assert 1 <= server.hits["/down"] < 1000


def test_connection_refused_is_wrapped(closed_port: int, fast_retry: RetryPolicy) -> None:
    with pytest.raises(IPFSFetchError) as info:
        fetch_ipfs_json(f"http://127.0.0.1:{closed_port}/x", retry=fast_retry)
    assert "refused" in str(info.value).lower() or "connect" in str(info.value).lower()
    assert info.value.__cause__ is not None


def test_redirect_chain_is_followed(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.route("/r1")(lambda h, n: h.redirect("/r2", 301))
    server.route("/r2")(lambda h, n: h.redirect(server.url("/r3"), 307))
    server.route("/r3")(lambda h, n: h.redirect("r4", 308))
    server.serve_json("/r4", {"end": True})
    assert fetch_ipfs_json(server.url("/r1"), retry=fast_retry) == {"end": True}
    assert [server.hits[p] for p in ("/r1", "/r2", "/r3", "/r4")] == [1, 1, 1, 1]


def test_redirect_loop_is_cut_after_limit(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.route("/loop")(lambda h, n: h.redirect("/loop"))
    with pytest.raises(IPFSFetchError, match="more than 5 redirects"):
        fetch_ipfs_json(server.url("/loop"), retry=fast_retry)
    assert server.hits["/loop"] == 6


def test_custom_redirect_limit(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.route("/loop")(lambda h, n: h.redirect("/loop"))
    with pytest.raises(IPFSFetchError):
        fetch_ipfs_json(server.url("/loop"), retry=fast_retry, max_redirects=0)
    assert server.hits["/loop"] == 1


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "data:,{}", "ipfs://bafy"],
)
def test_redirect_to_other_scheme_is_refused(
    server: FaultServer, fast_retry: RetryPolicy, location: str
) -> None:
    server.route("/evil")(lambda h, n: h.redirect(location))
    with pytest.raises(IPFSFetchError, match="non-http"):
        fetch_ipfs_json(server.url("/evil"), retry=fast_retry)
    assert server.hits["/evil"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/ok",
        "ftp://127.0.0.1:{port}/ok",
        "data:application/json,{{}}",
        "javascript:alert(1)",
        "127.0.0.1:{port}/ok",
        "",
        "http:///ok",
        "ipfs://",
        "ipfs://../../etc/passwd",
        "ipfs://bafyabcdefgh?x=1",
    ],
)
def test_bad_urls_fail_before_any_io(server: FaultServer, url: str) -> None:
    server.serve_json("/ok", {})
    with pytest.raises(InvalidInputError) as info:
        fetch_ipfs_json(url.format(port=server.server_address[1]), gateway=server.base)
    assert info.value.param == "url"
    assert sum(server.hits.values()) == 0


@pytest.mark.parametrize("value", [None, 42, b"http://x"])
def test_non_string_url(value: Any) -> None:
    with pytest.raises(InvalidInputError):
        fetch_ipfs_json(value)


@pytest.mark.parametrize("max_bytes", [0, -1, 1.5, True])
def test_bad_max_bytes(server: FaultServer, max_bytes: Any) -> None:
    url = server.serve_json("/ok", {})
    with pytest.raises(InvalidInputError):
        fetch_ipfs_json(url, max_bytes=max_bytes)
    assert server.hits["/ok"] == 0


def _endless(h: Handler, declared: int | None, written: list[int], done: threading.Event) -> None:
    """Stream zeros until the client hangs up (capped at 256 MiB as a safety net)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    if declared is not None:
        h.send_header("Content-Length", str(declared))
    h.end_headers()
    chunk = b" " * 65536
    try:
        while written[0] < 256 * 1024 * 1024:
            h.wfile.write(chunk)
            written[0] += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        h.close_connection = True
        done.set()


@pytest.mark.parametrize("declared", [None, 100 * 1024 * 1024])
def test_body_over_cap_is_cut_while_streaming(
    server: FaultServer, fast_retry: RetryPolicy, declared: int | None
) -> None:
    written = [0]
    done = threading.Event()
    server.route("/big")(lambda h, n: _endless(h, declared, written, done))
    with pytest.raises(IPFSFetchError, match="limit"):
        fetch_ipfs_json(server.url("/big"), retry=fast_retry, max_bytes=1024 * 1024)
    assert done.wait(10), "server kept streaming: the client did not hang up"
    assert written[0] < 64 * 1024 * 1024
    assert server.hits["/big"] == 1
    if declared is not None:
        assert written[0] < 16 * 1024 * 1024


def test_exact_cap_is_accepted(server: FaultServer, fast_retry: RetryPolicy) -> None:
    payload = json.dumps({"k": "x" * 100}).encode()
    server.route("/exact")(lambda h, n: h.send_bytes(payload))
    assert fetch_ipfs_json(server.url("/exact"), max_bytes=len(payload), retry=fast_retry)
    with pytest.raises(IPFSFetchError):
        fetch_ipfs_json(server.url("/exact"), max_bytes=len(payload) - 1, retry=fast_retry)


def test_gzip_bomb_is_capped_on_decoded_size(server: FaultServer, fast_retry: RetryPolicy) -> None:
    bomb = gzip.compress(b"[" + b" " * (20 * 1024 * 1024) + b"]")
    server.route("/bomb")(lambda h, n: h.send_bytes(bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(IPFSFetchError, match="limit"):
        fetch_ipfs_json(server.url("/bomb"), retry=fast_retry, max_bytes=1024 * 1024)


def test_chunked_body_is_accepted(server: FaultServer, fast_retry: RetryPolicy) -> None:
    @server.route("/chunked")
    def chunked(h: Handler, n: int) -> None:
        h.protocol_version = "HTTP/1.1"
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Connection", "close")
        h.end_headers()
        for piece in (b'{"a":', b" [1, 2", b"]}"):
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")
        h.close_connection = True

    assert fetch_ipfs_json(server.url("/chunked"), retry=fast_retry) == {"a": [1, 2]}


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object(
    server: FaultServer, fast_retry: RetryPolicy, body: bytes
) -> None:
    server.route("/notobj")(lambda h, n: h.send_bytes(body))
    with pytest.raises(IPFSFetchError, match="expected an object"):
        fetch_ipfs_json(server.url("/notobj"), retry=fast_retry)
    assert server.hits["/notobj"] == 1


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\x00garbage", b"[" * 100_000])
def test_invalid_json(server: FaultServer, fast_retry: RetryPolicy, body: bytes) -> None:
    server.route("/bad")(lambda h, n: h.send_bytes(body))
    with pytest.raises(IPFSFetchError, match="valid JSON"):
        fetch_ipfs_json(server.url("/bad"), retry=fast_retry)
    assert server.hits["/bad"] == 1


def test_deep_nesting_is_refused_without_crashing(
    server: FaultServer, fast_retry: RetryPolicy
) -> None:
    body = b'{"a":' + b"[" * 300_000 + b"]" * 300_000 + b"}"
    server.route("/deep")(lambda h, n: h.send_bytes(body))
    with pytest.raises(IPFSFetchError, match="nested deeper than"):
        fetch_ipfs_json(server.url("/deep"), retry=fast_retry)


def test_brackets_inside_strings_and_moderate_nesting_are_fine(
    server: FaultServer, fast_retry: RetryPolicy
) -> None:
    nested: Any = "leaf"
    for _ in range(100):
        nested = {"k": [nested]}
    value = {"text": "[{" * 5000 + '\\"[', "nested": nested}
    url = server.serve_json("/fine", value)
    assert fetch_ipfs_json(url, retry=fast_retry) == value


def _truncated(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "1000")
    h.end_headers()
    h.wfile.write(b'{"partial": ')
    h.wfile.flush()
    h.close_connection = True


def test_connection_dropped_mid_body_then_ok(server: FaultServer, fast_retry: RetryPolicy) -> None:
    @server.route("/drop")
    def drop(h: Handler, n: int) -> None:
        if n == 1:
            _truncated(h)
        else:
            h.send_json({"whole": True})

    assert fetch_ipfs_json(server.url("/drop"), retry=fast_retry) == {"whole": True}
    assert server.hits["/drop"] == 2


def test_connection_always_dropped_mid_body(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.route("/drop")(lambda h, n: _truncated(h))
    with pytest.raises(IPFSFetchError, match="reading the body failed"):
        fetch_ipfs_json(server.url("/drop"), retry=fast_retry)
    assert server.hits["/drop"] == fast_retry.max_attempts


def test_ipfs_scheme_resolves_through_gateway(
    server: FaultServer, fast_retry: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = cid_for_bytes(json.dumps({"via": "kwarg"}).encode())  # the content it names
    server.serve_json(f"/ipfs/{cid}", {"via": "kwarg"})
    server.serve_json(f"/ipfs/{cid}/meta/a.json", {"via": "path"})
    assert fetch_ipfs_json(f"ipfs://{cid}", gateway=server.base, retry=fast_retry) == {
        "via": "kwarg"
    }
    monkeypatch.setenv("OGPU_IPFS_GATEWAY", server.base + "/")
    assert resolve_ipfs_url(f"ipfs://{cid}/meta/a.json") == server.url(f"/ipfs/{cid}/meta/a.json")
    assert fetch_ipfs_json(f"ipfs://{cid}/meta/a.json", retry=fast_retry) == {"via": "path"}


def test_errors_hide_credentials(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.route("/secret")(lambda h, n: h.send_json({}, status=404))
    url = server.url("/secret").replace("http://", "http://user:hunter2@") + "?token=s3cr3t"
    with pytest.raises(IPFSGatewayError) as info:
        fetch_ipfs_json(url, retry=fast_retry)
    assert "hunter2" not in str(info.value)
    assert "s3cr3t" not in str(info.value)
    assert info.value.url is not None and "hunter2" not in info.value.url
    assert info.value.url.endswith("/secret?…")
    assert isinstance(info.value, OGPUError)


def test_fetches_from_many_threads(server: FaultServer, fast_retry: RetryPolicy) -> None:
    server.route("/echo")(lambda h, n: h.send_json({"n": n}))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda _: fetch_ipfs_json(server.url("/echo"), retry=fast_retry), range(64))
        )
    assert sorted(r["n"] for r in results) == list(range(1, 65))
