"""Bad input on every public write: a typed error and nothing sent (counted at the proxy).

The matrix covers the module functions (``ogpu.protocol.nexus``/``controller``/
``terminal``/``vault``), the instance write methods (``Source``, ``Task``,
``Response``, ``Provider``, ``Master``), ``TxExecutor``, and the client and agent
workflows. Each write is described once (its parameters, their kinds and a valid
value); every bad value of a kind is tried on every parameter of that kind, one
at a time, the other arguments valid. The proxy counts what reached the wire: no
request at all for an input error, and never an ``eth_sendRawTransaction``.

A wrong chain id is tried on every write too: the node behind the proxy answers
``eth_chainId`` with another chain; with valid arguments (and a real, funded
source where the workflow checks one first), the write fails with
``ChainNotSupportedError`` before any broadcast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ogpu import client
from ogpu.chain import ChainConfig
from ogpu.devnet import PROVIDERS
from ogpu.devnet.chain import Devnet
from ogpu.devnet.server import RpcServer
from ogpu.devnet.store import StoreServer
from ogpu.types import (
    ChainNotSupportedError,
    InvalidAddressError,
    InvalidParamsError,
    InvalidRpcUrlError,
    InvalidSignerError,
    IPFSUploadError,
    OGPUError,
    TaskInput,
)

from ..helpers.proxy import Fault, FaultProxy
from .bad_values import (
    A0,
    C0,
    KINDS,
    M0,
    P0,
    RAW,
    Bad,
    Ctx,
    MiB,
    resolve,
    valid_task_info,
)
from .bad_writes import (
    WRITES,
    Write,
)
from .conftest import Net, kept_state, sdk_on


@dataclass(frozen=True)
class Case:
    write: str
    param: str
    label: str
    run: Callable[[Ctx], Any]
    error: type[OGPUError]
    rpc_free: bool = True  # refused before any request

    @property
    def id(self) -> str:
        return f"{self.write}-{self.param}-{self.label}"


def _valid_args(write: Write, ctx: Ctx) -> dict[str, Any]:
    args = {name: resolve(value, ctx) for name, (_, value) in write.params.items()}
    if args.get("private_key") is None:
        args.pop("private_key", None)
    return args


def _case(write: Write, param: str, bad: Bad) -> Case:
    def run(ctx: Ctx) -> Any:
        args = _valid_args(write, ctx)
        if param == "private_key":
            args.pop("signer")
        args[param] = resolve(bad.value, ctx)
        return write.call(**args)

    return Case(write.name, param, bad.label, run, bad.error)


def _extra_cases() -> list[Case]:
    def both(write: Write) -> Case:
        def run(ctx: Ctx) -> Any:
            return write.call(**_valid_args(write, ctx), private_key=C0.key_hex)

        return Case(write.name, "private_key+signer", "both given", run, InvalidParamsError)

    def over_cap(ctx: Ctx) -> Any:
        info = valid_task_info(ctx)
        info.config = TaskInput(function_name="predict", data={"blob": "x" * (10 * MiB)})
        return client.publish_task(info, signer=C0.account)

    def other_signer(write: Write) -> Case:
        def run(ctx: Ctx) -> Any:
            args = _valid_args(write, ctx)
            args["signer"] = PROVIDERS[1].account
            return write.call(**args)

        return Case(write.name, "signer", "another account's key", run, InvalidSignerError)

    own_funds = (
        ".stake",
        ".unstake",
        ".cancel_unbonding",
        ".claim_earnings",
        ".withdraw_from_vault",
    )
    return [
        *(both(w) for w in WRITES if "private_key" in w.params),
        *(
            other_signer(w)
            for w in WRITES
            if w.name.startswith(("Provider.", "Master.")) and w.name.endswith(own_funds)
        ),
        Case(
            "client.set_agent",
            "agent_address",
            "zero address",
            lambda ctx: client.set_agent("0x" + "00" * 20, signer=C0.account),
            InvalidAddressError,
        ),
        Case(
            "client.set_agent",
            "agent_address",
            "the signer's own address",
            lambda ctx: client.set_agent(C0.address, signer=C0.account),
            InvalidAddressError,
        ),
        Case(
            "client.publish_task",
            "task_info",
            "config JSON over the 10 MiB upload cap",
            over_cap,
            IPFSUploadError,
            rpc_free=False,
        ),
    ]


CASES = [
    _case(write, param, bad)
    for write in WRITES
    for param, (kind, _) in write.params.items()
    for bad in KINDS[kind]
] + _extra_cases()


@pytest.fixture(scope="module")
def world(
    devnet_session: Devnet, proxy: FaultProxy, upstream: RpcServer, store: StoreServer
) -> Iterator[tuple[Net, Ctx]]:
    """The SDK on the chain through the proxy for the whole module, with a source owned
    by C0 (funded with 1 ether). No case may change the chain; the state is reverted at
    the end of the module."""
    with kept_state(devnet_session), sdk_on(devnet_session, proxy, upstream, store) as net:
        net.fund(net.client)
        source = net.source().address
        yield net, Ctx(source=source, now=net.now())


def _nonces(net: Net) -> dict[str, int]:
    return {a.address: net.nonce(a) for a in (C0, M0, P0, A0)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_before_sending(world: tuple[Net, Ctx], case: Case, row: Any) -> None:
    net, ctx = world
    nonces = None if case.rpc_free else _nonces(net)
    net.rpc.clear()
    error: BaseException | None = None
    try:
        case.run(ctx)
    except BaseException as exc:  # the assertion names anything unexpected
        error = exc
    requests = net.rpc.total_received()

    assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
    assert net.rpc.count(RAW) == 0
    if case.rpc_free:
        assert requests == 0, f"{requests} request(s) before the refusal"
    else:
        assert _nonces(net) == nonces
    wire = "0 requests" if requests == 0 else "reads only"
    row(
        area="bad input",
        target=case.write,
        parameter=case.param,
        input=case.label,
        outcome=f"{case.error.__name__}; {wire}, 0 transactions",
    )


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_wrong_chain_id_is_refused_before_sending(
    world: tuple[Net, Ctx], write: Write, row: Any
) -> None:
    net, ctx = world
    nonces = _nonces(net)
    net.rpc.clear()
    ChainConfig.use_devnet(
        net.devnet.deployment, rpc=net.rpc.url
    )  # a Web3 that never saw the chain id
    net.rpc.add("eth_chainId", Fault.WRONG_CHAIN, times=None, chain_id=1)

    with pytest.raises(ChainNotSupportedError) as caught:
        write.call(**_valid_args(write, ctx))

    assert caught.value.chain_id == 1
    assert net.rpc.count("eth_chainId") >= 1
    assert net.rpc.count(RAW) == 0
    assert net.rpc.count("eth_estimateGas") == 0
    net.rpc.clear()
    ChainConfig.use_devnet(net.devnet.deployment, rpc=net.rpc.url)  # drop the cached chain id
    assert _nonces(net) == nonces
    row(
        area="bad input",
        target=write.name,
        parameter="chain",
        input="node serves chain id 1, active chain is 1337",
        outcome="ChainNotSupportedError; 0 transactions",
    )


@pytest.mark.parametrize(
    ("label", "call", "error"),
    [
        ("set_chain(999)", lambda net: ChainConfig.set_chain(999), "ChainNotSupportedError"),
        (
            "set_chain('devnet')",
            lambda net: ChainConfig.set_chain("devnet"),  # type: ignore[arg-type]
            "ChainNotSupportedError",
        ),
        (
            "set_rpc('file:///etc/passwd')",
            lambda net: ChainConfig.set_rpc("file:///etc/passwd"),
            "InvalidRpcUrlError",
        ),
        (
            "set_rpc('gopher://x')",
            lambda net: ChainConfig.set_rpc("gopher://x"),
            "InvalidRpcUrlError",
        ),
        (
            "set_rpc(node of another chain)",
            lambda net: ChainConfig.set_rpc(net.rpc.url),
            "InvalidRpcUrlError",
        ),
    ],
)
def test_chain_configuration_refuses_bad_chains(
    world: tuple[Net, Ctx], label: str, call: Callable[[Net], Any], error: str, row: Any
) -> None:
    net, _ = world
    net.rpc.clear()
    net.rpc.add("eth_chainId", Fault.WRONG_CHAIN, times=None, chain_id=1)
    expected = {
        "ChainNotSupportedError": ChainNotSupportedError,
        "InvalidRpcUrlError": InvalidRpcUrlError,
    }
    with pytest.raises(expected[error]):
        call(net)
    assert net.rpc.count(RAW) == 0
    assert ChainConfig.get_current_chain() == 1337
    row(
        area="bad input",
        target="ChainConfig",
        parameter="chain",
        input=label,
        outcome=f"{error}; the active chain is unchanged",
    )
