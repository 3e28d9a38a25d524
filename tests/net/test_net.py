"""ogpu.net: the shared budget, policy, redaction and proxy support, over real sockets."""

from __future__ import annotations

import math
import select
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from ogpu import net
from ogpu.types import InvalidInputError

from ..reliability.scripted import Reply, ScriptedServer


@pytest.mark.parametrize(
    ("url", "kept", "short"),
    [
        ("https://u:p@host:8443/cb?k=v#f", "https://host:8443/cb?…", "https://host:8443/…?…"),
        ("http://host/", "http://host/", "http://host/"),
        ("HTTP://[::1]:80/v3/KEY", "http://[::1]:80/v3/KEY", "http://[::1]:80/…"),
        ("not a url", "<invalid url>", "<invalid url>"),
        ("http://host:99999/", "<invalid url>", "<invalid url>"),
    ],
)
def test_redact_url(url: str, kept: str, short: str) -> None:
    assert net.redact_url(url) == kept
    assert net.redact_url(url, keep_path=False) == short


def test_budget_cap_scope_and_nesting() -> None:
    unlimited = net.Budget()
    assert unlimited.cap(7.0) == 7.0 and math.isinf(unlimited.remaining())
    spent = net.Budget(total=1.0, started=time.monotonic() - 2)
    with pytest.raises(net.BudgetExhausted, match="ran out before sending"):
        spent.cap(5.0, "sending")
    outer, inner = net.Budget.after(1.0), net.Budget.after(60.0)
    assert net.Budget.current() is None
    with outer.scope():
        with inner.scope() as chosen:
            assert chosen is outer  # nested scopes keep the earlier deadline
            assert net.effective(None, 30.0) is outer
            assert net.effective(net.Budget.after(0.5), 30.0).total == 0.5
        assert net.Budget.current() is outer
    assert net.Budget.current() is None


def test_scope_is_per_thread() -> None:
    seen: list[object] = []
    with net.Budget.after(1.0).scope():
        thread = threading.Thread(target=lambda: seen.append(net.Budget.current()))
        thread.start()
        thread.join()
    assert seen == [None]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"backoff_initial": -1},
        {"backoff_max": float("nan")},
        {"total_timeout": float("inf")},
        {"total_timeout": "5"},
    ],
)
def test_retry_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        net.RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_policy_delay_and_budget() -> None:
    policy = net.RetryPolicy(backoff_initial=0.5, backoff_max=3.0, total_timeout=20)
    assert [policy.delay(n, jitter=lambda: 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(0, 2.5, jitter=lambda: 0.0) == 2.5  # Retry-After, capped by backoff_max
    assert policy.delay(0, 60, jitter=lambda: 0.0) == 3.0
    assert policy.budget().total == 20
    assert policy.budget(net.Timeout(total=2)).total == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, net.Timeout()),
        (3, net.Timeout(connect=3, read=3, total=3)),
        (30, net.Timeout(connect=5, read=30, total=30)),
        ((1, 2), net.Timeout(connect=1, read=2)),
    ],
)
def test_timeout_coerce(value: object, expected: net.Timeout) -> None:
    assert net.Timeout.coerce(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -1, float("nan"), "3", (1, 2, 3), True])
def test_timeout_coerce_refuses(value: object) -> None:
    with pytest.raises(InvalidInputError):
        net.Timeout.coerce(value)  # type: ignore[arg-type]


def test_retry_after_and_transient_status() -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert net.parse_retry_after("7") == 7.0
    assert 25 < (net.parse_retry_after(later) or 0) <= 30
    assert net.parse_retry_after("soon") is None and net.parse_retry_after(None) is None
    assert [s for s in (200, 301, 404, 429, 500, 503, 599, 600) if net.is_transient_status(s)] == [
        429,
        500,
        503,
        599,
    ]


def test_run_with_retry_stops_at_attempts_and_budget() -> None:
    calls: list[float] = []

    def fail(budget: net.Budget) -> None:
        calls.append(time.monotonic())
        raise net.Transient(ValueError(f"try {len(calls)}"))

    policy = net.RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.01)
    with pytest.raises(ValueError, match="try 3"):
        net.run_with_retry(fail, policy=policy, budget=net.Budget.after(10), what="x")
    calls.clear()
    slow = net.RetryPolicy(max_attempts=100, backoff_initial=0.2, backoff_max=0.2)
    started = time.monotonic()
    with pytest.raises(ValueError):
        net.run_with_retry(fail, policy=slow, budget=net.Budget.after(0.5), what="x")
    assert time.monotonic() - started < 0.6 and 2 <= len(calls) <= 5  # pauses of 0.1-0.2 s


# -- proxies from the environment ------------------------------------------------------------------


class ForwardProxy:
    """A loopback proxy: absolute-form requests are recorded and answered; CONNECT is
    recorded and refused (no TLS server here to tunnel to)."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://user:p%40ss@127.0.0.1:{self.listener.getsockname()[1]}"

    def __enter__(self) -> ForwardProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    ready, _, _ = select.select([conn], [], [], 5)
                    chunk = conn.recv(65536) if ready else b""
                    if not chunk:
                        break
                    head += chunk
                self.lines.append(head)
                if head.startswith(b"CONNECT"):
                    conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                else:
                    body = b'{"via": "proxy"}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: "
                        + str(len(body)).encode()
                        + b"\r\n\r\n"
                        + body
                    )


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    with ForwardProxy() as running:
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", running.url)
        monkeypatch.setenv("HTTPS_PROXY", running.url)
        yield running


def test_plain_http_goes_through_the_proxy(proxy: ForwardProxy) -> None:
    answer = net.request("GET", "http://node.example:8545/x?y=1", timeout=net.Timeout(total=5))
    assert answer.body == b'{"via": "proxy"}'
    [head] = proxy.lines
    assert head.startswith(b"GET http://node.example:8545/x?y=1 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic dXNlcjpwQHNz" in head  # user:p@ss


def test_https_is_tunnelled(proxy: ForwardProxy) -> None:
    with pytest.raises(net.NetError, match="proxy refused the tunnel"):
        net.request("GET", "https://node.example/", timeout=net.Timeout(total=5))
    [head] = proxy.lines
    assert head.startswith(b"CONNECT node.example:443 HTTP/1.1\r\n")


def test_no_proxy_and_guarded_requests_go_direct(
    proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ScriptedServer(lambda r: Reply(body=b'{"via": "direct"}')) as server:
        guarded = net.AddressPolicy.public(allow=["127.0.0.1/32"])
        direct = net.request("GET", server.url, timeout=net.Timeout(total=5), policy=guarded)
        assert direct.body == b'{"via": "direct"}'
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert net.request("GET", server.url, timeout=net.Timeout(total=5)).body == direct.body
    assert proxy.lines == []
