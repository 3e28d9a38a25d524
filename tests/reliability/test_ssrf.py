"""A provider fetches URLs that strangers chose: no fetch reaches loopback or private space.

Victims are real servers on ``127.0.0.1`` and ``::1`` that count every connection;
each case asserts a ``ForbiddenAddressError`` *and* that the victim saw nothing.
Classes: every numeric and IPv6 spelling of loopback and of the unspecified address,
private, link-local, shared, multicast and reserved space, names that resolve there
(``/etc/hosts`` names, and a resolver the test controls: names to private space, a
name with one public and one private address, a rebinding name), redirect chains
that end there, and the allow-list that keeps the devnet's own store reachable.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ogpu import net
from ogpu.ipfs import ForbiddenAddressError, fetch_ipfs_json, publish_to_ipfs
from ogpu.ipfs.cid import cid_for_bytes
from ogpu.types import InvalidInputError

from .scripted import Reply, ScriptedServer

Row = Callable[..., None]
BODY = json.dumps({"secret": "internal"}).encode()


@pytest.fixture(scope="module")
def victim() -> Iterator[ScriptedServer]:
    with ScriptedServer(lambda r: Reply(body=BODY)) as server:
        yield server


@pytest.fixture(scope="module")
def victim6() -> Iterator[ScriptedServer]:
    with ScriptedServer(lambda r: Reply(body=BODY), host="::1") as server:
        yield server


@pytest.fixture(autouse=True)
def _no_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OGPU_FETCH_ALLOW", "OGPU_IPFS_BACKEND", "OGPU_IPFS_API_URL", "OGPU_IPFS_GATEWAY"):
        monkeypatch.delenv(name, raising=False)


def _refused(url: str, **kwargs: Any) -> float:
    started = time.monotonic()
    with pytest.raises(ForbiddenAddressError) as info:
        fetch_ipfs_json(url, timeout=5, **kwargs)
    assert "not a public address" in str(info.value)
    return time.monotonic() - started


LOOPBACK_HOSTS = [
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "2130706433",
    "0x7f000001",
    "0x7f.1",
    "0x7f.0.0.1",
    "0177.0.0.1",
    "017700000001",
    "127.000.000.001",
    "127.255.255.254",
    "0",
    "0.0.0.0",
    "0x0",
    "localhost",
    "LOCALHOST",
    "localhost.",
    "runsc",
    "vm",
]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_in_any_spelling_is_refused(host: str, victim: ScriptedServer, row: Row) -> None:
    port = victim.port
    before = victim.connections
    assert _refused(f"http://{host}:{port}/ipfs/x") < 5
    assert victim.connections == before
    row(
        area="ssrf",
        case=f"http://{host}:PORT",
        injected="a task URL naming the local machine (a real server listens there)",
        outcome="ForbiddenAddressError; the server saw 0 connections",
    )


IPV6_LOOPBACK = [
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::1]",
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    "[::]",
    "[::ffff:0.0.0.0]",
]


@pytest.mark.parametrize("host", IPV6_LOOPBACK)
def test_ipv6_forms_of_loopback_are_refused(
    host: str, victim: ScriptedServer, victim6: ScriptedServer, row: Row
) -> None:
    port = victim6.port if host in ("[::1]", "[0:0:0:0:0:0:0:1]", "[::]") else (victim.port)
    before = (victim.connections, victim6.connections)
    assert _refused(f"http://{host}:{port}/x") < 5
    assert (victim.connections, victim6.connections) == before
    row(
        area="ssrf",
        case=f"http://{host}:PORT",
        injected="IPv6 loopback, unspecified, or an IPv4-mapped/compatible/NAT64/6to4/Teredo "
        "form embedding 127.0.0.1 or 0.0.0.0",
        outcome="ForbiddenAddressError; 0 connections",
    )


NON_PUBLIC = [
    "10.0.0.1",
    "10.255.255.53",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "192.0.0.1",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "0xa9fea9fe",
    "2852039166",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fe80::1]",
    "[ff02::1]",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[2001:db8::1]",
    "[100::1]",
]


@pytest.mark.parametrize("host", NON_PUBLIC)
def test_private_link_local_multicast_and_reserved_space_is_refused(host: str, row: Row) -> None:
    seconds = _refused(f"http://{host}:80/ipfs/x")
    assert seconds < 1.0  # refused before any connect attempt
    row(
        area="ssrf",
        case=f"http://{host}/",
        injected="private, link-local (cloud metadata), shared, multicast, reserved or "
        "documentation space",
        outcome="ForbiddenAddressError in under 1 s, before any connect",
    )


def _resolver(table: dict[str, list[str]], calls: list[str]) -> net.Resolver:
    def resolve(host: str) -> list[str]:
        calls.append(host)
        return table[host]

    return resolve


RESOLVED = {
    "evil.test": ["127.0.0.1"],
    "private.test": ["10.1.2.3"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "six.test": ["::1"],
    "ula.test": ["fd00::1"],
    "zero.test": ["0.0.0.0"],
}


@pytest.mark.parametrize("name", list(RESOLVED))
def test_names_resolving_to_private_space_are_refused(
    name: str, victim: ScriptedServer, row: Row
) -> None:
    calls: list[str] = []
    policy = net.AddressPolicy.public(resolver=_resolver(RESOLVED, calls))
    before = victim.connections
    with pytest.raises(net.ForbiddenAddress):
        net.request(
            "GET",
            f"http://{name}:{victim.port}/",
            timeout=net.Timeout(total=5),
            policy=policy,
        )
    assert victim.connections == before and calls == [name]
    row(
        area="ssrf",
        case=f"{name} -> {', '.join(RESOLVED[name])}",
        injected="a host name (resolver controlled by the test) that resolves to non-public "
        "space (or to public and private addresses at once)",
        outcome="ForbiddenAddress after one resolution; 0 connections",
    )


def test_a_rebinding_name_is_resolved_once_and_the_checked_address_is_used(
    victim: ScriptedServer, row: Row
) -> None:
    answers = iter([["127.0.0.1"], ["10.9.9.9"], ["10.9.9.9"]])
    calls: list[str] = []

    def rebinding(host: str) -> list[str]:
        calls.append(host)
        return next(answers)

    # 127.0.0.1 is allowed here, 10.0.0.0/8 is not: a second resolution would be refused.
    policy = net.AddressPolicy(
        public_only=True, allow=net.parse_allow(["127.0.0.1/32"]), resolver=rebinding
    )
    before = victim.connections
    answer = net.request(
        "GET",
        f"http://rebind.test:{victim.port}/",
        timeout=net.Timeout(total=5),
        policy=policy,
    )
    assert answer.status == 200 and calls == ["rebind.test"]
    assert victim.connections == before + 1
    row(
        area="ssrf",
        case="DNS rebinding",
        injected="a name that resolves to an allowed address once, then to private space",
        outcome="one resolution; the connection goes to the address that was checked",
    )


@pytest.fixture
def entry() -> Iterator[Callable[[list[str]], ScriptedServer]]:
    """A server the test allows, redirecting along ``chain`` (one Location per request)."""
    servers: list[ScriptedServer] = []

    def make(chain: list[str]) -> ScriptedServer:
        hops = iter(chain)

        def answer(request: Any) -> Reply:
            location = next(hops, None)
            if location is None:
                return Reply(body=b'{"reached": "entry"}')
            return Reply(status=302, headers={"Location": location})

        server = ScriptedServer(answer).__enter__()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.__exit__()


REDIRECT_TARGETS = [
    "http://127.0.0.1:{v}/",
    "http://2130706433:{v}/",
    "http://0x7f.1:{v}/",
    "http://localhost:{v}/",
    "http://[::ffff:127.0.0.1]:{v}/",
    "http://0.0.0.0:{v}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://[fe80::1]/",
]


@pytest.mark.parametrize("target", REDIRECT_TARGETS)
@pytest.mark.parametrize("hops", [1, 3])
def test_redirects_into_private_space_are_refused(
    target: str,
    hops: int,
    entry: Callable[[list[str]], ScriptedServer],
    victim: ScriptedServer,
    row: Row,
) -> None:
    final = target.format(v=victim.port)
    server = entry([f"/hop{i}" for i in range(hops - 1)] + [final])
    before = victim.connections
    _refused(server.url + "/start", allow=[f"http://127.0.0.1:{server.port}"])
    assert victim.connections == before
    row(
        area="ssrf",
        case=f"{hops} redirect(s) -> {target.split('{')[0].replace(':', '', 0)}",
        injected="an allowed server whose redirect chain ends in loopback/private space",
        outcome="ForbiddenAddressError at the last hop; the target saw 0 connections",
    )


def test_a_redirect_to_an_allowed_origin_is_followed(
    entry: Callable[[list[str]], ScriptedServer], victim: ScriptedServer, row: Row
) -> None:
    final = f"http://127.0.0.1:{victim.port}/ipfs/x"
    server = entry(["/hop", final])
    allow = [f"http://127.0.0.1:{server.port}", f"http://127.0.0.1:{victim.port}"]
    assert fetch_ipfs_json(server.url + "/start", allow=allow, timeout=5) == {"secret": "internal"}
    row(
        area="ssrf",
        case="allow-list, redirect between allowed origins",
        injected="two allowed loopback origins, one redirecting to the other",
        outcome="followed and fetched (the allow-list is explicit, per origin)",
    )


# -- the allow-list --------------------------------------------------------------------------


def test_the_devnet_store_stays_reachable_and_only_it(
    monkeypatch: pytest.MonkeyPatch, victim: ScriptedServer, row: Row
) -> None:
    from ogpu.devnet.store import ContentStore, StoreServer

    with StoreServer("127.0.0.1", 0, store=ContentStore()) as store:
        monkeypatch.setenv("OGPU_IPFS_BACKEND", "devnet")
        monkeypatch.setenv("OGPU_IPFS_API_URL", store.url)
        url = publish_to_ipfs({"function_name": "echo"})
        assert url.startswith(store.url)
        assert fetch_ipfs_json(url) == {"function_name": "echo"}
        # The store's address under another name is the same socket: allowed.
        assert fetch_ipfs_json(url.replace(store.url, f"http://localhost:{store.port}"))
        # Same host, another port (the devnet RPC, another service): refused.
        _refused(f"http://127.0.0.1:{victim.port}/ipfs/x")
        _refused(f"http://127.0.0.2:{store.port}/ipfs/x")
    row(
        area="ssrf",
        case="devnet store allow-list",
        injected="OGPU_IPFS_BACKEND=devnet: fetch from the store (by its address and as "
        "localhost); from another loopback port; from the store's port on 127.0.0.2",
        outcome="the store's own address:port is fetched; the others are ForbiddenAddressError",
    )


@pytest.mark.parametrize(
    ("entry_text", "allowed"),
    [
        ("http://127.0.0.1:{v}", True),
        ("127.0.0.0/8", True),
        ("127.0.0.1", True),
        ("http://127.0.0.1:1", False),
        ("https://127.0.0.1:{v}", False),
        ("10.0.0.0/8", False),
    ],
)
def test_ogpu_fetch_allow(
    entry_text: str,
    allowed: bool,
    monkeypatch: pytest.MonkeyPatch,
    victim: ScriptedServer,
    row: Row,
) -> None:
    monkeypatch.setenv("OGPU_FETCH_ALLOW", " , " + entry_text.format(v=victim.port))
    url = f"http://127.0.0.1:{victim.port}/ipfs/x"
    if allowed:
        assert fetch_ipfs_json(url, timeout=5) == {"secret": "internal"}
    else:
        _refused(url)
    row(
        area="ssrf",
        case=f"OGPU_FETCH_ALLOW={entry_text.split(':{')[0]}",
        injected="an allow-list entry (origin, network or address) and a loopback URL",
        outcome="fetched" if allowed else "ForbiddenAddressError (the entry does not admit it)",
    )


@pytest.mark.parametrize("bad", ["ftp://x", "not an address", "300.1.1.1/8", "http://"])
def test_malformed_allow_entries_are_refused_before_any_io(bad: str, row: Row) -> None:
    with pytest.raises(InvalidInputError, match="allow"):
        fetch_ipfs_json("http://192.0.2.1/x", allow=[bad])
    row(
        area="ssrf",
        case=f"allow={bad!r}",
        injected="a malformed allow-list entry",
        outcome="InvalidInputError before any I/O",
    )


def test_public_addresses_pass_the_guard(row: Row) -> None:
    public = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2001:4860:4860::8888"]
    refused = ["::ffff:8.8.8.8"]  # mapped public is public too
    for text in public + refused:
        assert net.is_public(ipaddress.ip_address(text)), text
    row(
        area="ssrf",
        case="public unicast",
        injected=", ".join(public + refused),
        outcome="allowed (the guard refuses only non-public space)",
    )


def test_a_content_address_is_still_verified_on_an_allowed_origin(
    monkeypatch: pytest.MonkeyPatch, row: Row
) -> None:
    served = json.dumps({"x": 1}).encode()
    cid = cid_for_bytes(json.dumps({"x": 2}).encode())
    with ScriptedServer(lambda r: Reply(body=served)) as server:
        monkeypatch.setenv("OGPU_FETCH_ALLOW", "127.0.0.1/32")
        with pytest.raises(Exception, match="does not match its CID"):
            fetch_ipfs_json(f"{server.url}/ipfs/{cid}")
    row(
        area="ssrf",
        case="allowed origin serving other content",
        injected="an allowed server answering /ipfs/<cid> with bytes of another CID",
        outcome="ContentMismatchError (allowing an origin does not make it trusted)",
    )
