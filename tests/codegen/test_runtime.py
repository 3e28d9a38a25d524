"""Generated bindings at run time: input validation before any RPC, reads against a real EVM
and a real local JSON-RPC server, proxies, missing-on-network functions, logs from real txs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import ogpu_bindings
import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from ogpu_bindings import nexus, source, task, terminal, vault
from ogpu_bindings.enums import DeliveryMethod, Environment, SourceStatus, TaskStatus
from ogpu_bindings.runtime import ContractCall, TxRequest
from ogpu_bindings.structs import SourceParams, TaskParams
from web3 import HTTPProvider, Web3

import ogpu.types.errors as E

from .conftest import Chain

ADDR = "0x" + "ab" * 20
CHECKSUMMED = to_checksum_address(ADDR)


class RpcServer:
    """A real JSON-RPC endpoint on 127.0.0.1 that records requests and answers eth_call from
    a settable result or error."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.result = "0x"
        self.error: dict[str, Any] | None = None
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                answer: dict[str, Any] = {"jsonrpc": "2.0", "id": body["id"]}
                if body["method"] == "eth_chainId":
                    answer["result"] = "0x539"
                elif outer.error is not None:
                    answer["error"] = outer.error
                else:
                    answer["result"] = outer.result
                raw = json.dumps(answer).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "eth_call"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def rpc() -> Iterator[RpcServer]:
    server = RpcServer()
    yield server
    server.close()


@pytest.fixture
def http_w3(rpc: RpcServer) -> Web3:
    return _http(rpc.url)


def _http(url: str) -> Web3:
    return Web3(
        HTTPProvider(url, request_kwargs={"timeout": 5}, exception_retry_configuration=None)
    )


# -- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "0x123",
        "ab" * 20,
        "0x" + "zz" * 20,
        "0x" + "aB" * 20,
        12,
        None,
        b"\x00" * 20,
        "0x" + "11" * 32,
    ],
)
def test_bad_addresses_rejected_before_rpc(bad: Any, http_w3: Web3, rpc: RpcServer) -> None:
    with pytest.raises(E.InvalidAddressError) as info:
        vault.get_balance_of(http_w3, ADDR, bad)
    assert info.value.param == "account"
    assert isinstance(info.value, ValueError)
    with pytest.raises(E.InvalidAddressError) as info2:
        vault.get_balance_of(http_w3, bad, ADDR)
    assert info2.value.param == "address"
    with pytest.raises(E.InvalidAddressError):
        vault.deposit(ADDR, bad, value=1)
    assert rpc.calls == []


def test_address_errors_never_echo_the_value() -> None:
    secret = "0x" + "4c" * 32  # shaped like a private key
    with pytest.raises(E.InvalidAddressError) as info:
        terminal.announce_master(ADDR, secret)
    assert "4c4c" not in str(info.value) and "4c4c" not in repr(info.value)


def test_address_case_and_checksum_rules() -> None:
    lower = vault.claim(ADDR.lower())
    upper = vault.claim("0x" + ADDR[2:].upper())
    assert lower.to == upper.to == CHECKSUMMED
    assert vault.claim(CHECKSUMMED).to == CHECKSUMMED
    broken = CHECKSUMMED[:-1] + ("b" if CHECKSUMMED[-1] == "B" else "B")
    with pytest.raises(E.InvalidAddressError, match="checksum"):
        vault.claim(broken)


@pytest.mark.parametrize("bad", [-1, 2**256, "10", 1.5, True, None])
def test_bad_ints_rejected(bad: Any, http_w3: Web3, rpc: RpcServer) -> None:
    with pytest.raises(E.InvalidAmountError) as info:
        vault.lock(ADDR, bad)
    assert info.value.param == "amount" and info.value.maximum == 2**256 - 1
    with pytest.raises(E.InvalidAmountError):
        source.get_tasks(http_w3, ADDR, 0, bad)
    with pytest.raises(E.InvalidAmountError) as vinfo:
        vault.deposit(ADDR, ADDR, value=bad)
    assert vinfo.value.param == "value"
    assert rpc.calls == []


def test_int_range_messages() -> None:
    with pytest.raises(E.InvalidAmountError, match=r"between 0 and 2\*\*256 - 1, got -1"):
        vault.lock(ADDR, -1)
    with pytest.raises(E.InvalidAmountError, match=r"got 2\*\*256\.") as info:
        vault.lock(ADDR, 2**256)
    assert info.value.value == 2**256 and info.value.minimum == 0


def test_int_range_limits() -> None:
    assert vault.lock(ADDR, 2**256 - 1).data[4:] == b"\xff" * 32
    assert vault.lock(ADDR, 0).data[4:] == b"\x00" * 32


@pytest.mark.parametrize("bad", [6, -1, "NEW", 2.0, SourceStatus.ACTIVE, None])
def test_bad_enums_rejected(bad: Any) -> None:
    with pytest.raises(E.InvalidEnumValueError) as info:
        nexus.set_task_status(ADDR, ADDR, bad)
    assert info.value.param == "status" and info.value.enum_name == "TaskStatus"


def test_enums_accept_members_and_ints() -> None:
    by_member = nexus.set_task_status(ADDR, ADDR, TaskStatus.FINALIZED)
    by_int = nexus.set_task_status(ADDR, ADDR, 5)
    assert by_member.data == by_int.data and by_int.data[-1] == 5
    combined = nexus.register(ADDR, ADDR, ADDR, Environment.CPU | Environment.AMD)
    assert combined.data[-1] == 5 and nexus.register(ADDR, ADDR, ADDR, 7).data[-1] == 7
    for bad in (8, 9, -1):
        with pytest.raises(E.InvalidEnumValueError):
            nexus.register(ADDR, ADDR, ADDR, bad)


def _source_params(**changes: Any) -> SourceParams:
    base: dict[str, Any] = dict(
        client=ADDR,
        imageMetadataUrl="https://x/meta.json",
        imageEnvironments=Environment.CPU,
        minPayment=10,
        minAvailableLockup=0,
        maxExpiryDuration=3600,
        privacyEnabled=False,
        optionalParamsUrl="",
        deliveryMethod=DeliveryMethod.MANUAL_CONFIRMATION,
        lastUpdateTime=0,
    )
    base.update(changes)
    return SourceParams(**base)


def test_struct_fields_are_validated_with_their_names() -> None:
    req = nexus.publish_source(ADDR, _source_params())
    assert req.function == "publishSource" and req.args == (_source_params(),)
    with pytest.raises(E.InvalidAmountError) as info:
        nexus.publish_source(ADDR, _source_params(minPayment=-5))
    assert info.value.param == "SourceParams.minPayment"
    with pytest.raises(E.InvalidEnumValueError):
        nexus.publish_source(ADDR, _source_params(deliveryMethod=3))
    with pytest.raises(E.InvalidParamsError):
        nexus.publish_source(ADDR, _source_params(privacyEnabled="no"))
    with pytest.raises(E.InvalidAddressError):
        nexus.publish_source(ADDR, _source_params(client="nope"))
    with pytest.raises(E.InvalidParamsError, match="SourceParams"):
        nexus.publish_source(ADDR, ("tuple", "is", "not", "accepted"))  # type: ignore[arg-type]
    with pytest.raises(E.InvalidParamsError):
        task.is_already_submitted_call(ADDR, b"\x00" * 31)


# -- reads against a real EVM ---------------------------------------------------------------------


@pytest.mark.slow
def test_reads_decode_real_eth_call_answers(chain: Chain, returner: Callable[[bytes], str]) -> None:
    w3 = chain.w3
    status = returner(encode(["uint8"], [TaskStatus.RESPONDED]))
    assert task.get_status(w3, status) is TaskStatus.RESPONDED
    many = returner(encode(["address[]"], [["0x" + "01" * 20, ADDR]]))
    expected = [to_checksum_address("0x" + "01" * 20), CHECKSUMMED]
    assert source.get_registrants(w3, many, 0, 2) == expected
    params = TaskParams(source=CHECKSUMMED, config="ipfs://cfg", expiryTime=99, payment=7)
    tp = returner(encode([TaskParams.ABI_TYPE], [params.to_abi()]))
    flat = returner(encode(["address", "string", "uint256", "uint256"], list(params.to_abi())))
    result = task.task_params(w3, flat)
    assert (result.source, result.config, result.expiryTime, result.payment) == (
        CHECKSUMMED,
        "ipfs://cfg",
        99,
        7,
    )
    env = returner(encode(["uint8"], [6]))
    assert source.preferred_environment_of(w3, env, ADDR) == Environment.NVIDIA | Environment.AMD
    src = returner(encode([SourceParams.ABI_TYPE], [_source_params().to_abi()]))
    got = source.get_source_params(w3, src)
    assert got == _source_params(client=CHECKSUMMED)
    assert isinstance(got.imageEnvironments, Environment)
    pair = source.SourceContract(w3, src.lower())
    assert pair.address == src and pair.get_source_params() == got
    assert repr(pair) == f"SourceContract({src!r})"
    assert (
        pair == source.SourceContract(w3, src) and len({pair, source.SourceContract(w3, src)}) == 1
    )
    assert task.TaskContract(w3, returner(encode(["address"], [ADDR]))).get_source() == CHECKSUMMED
    assert task.TaskContract(w3, tp).get_source() != CHECKSUMMED  # an offset, not an address


def test_contract_call_is_a_value(chain: Chain, returner: Callable[[bytes], str]) -> None:
    call = vault.get_balance_of_call(ADDR, ADDR)
    assert isinstance(call, ContractCall)
    assert call.to == CHECKSUMMED and call.signature == "getBalanceOf(address)"
    assert call.data == keccak(text="getBalanceOf(address)")[:4] + encode(["address"], [ADDR])
    assert (call.contract, call.function) == ("Vault", "getBalanceOf")
    assert call.decode(encode(["uint256"], [12345])) == 12345
    target = returner(encode(["uint256"], [777]))
    assert vault.get_balance_of_call(target, ADDR).call(chain.w3) == 777
    with pytest.raises(E.AbiDecodeError):
        call.decode(b"\x00" * 5)


def test_no_code_and_bad_enum_answers(chain: Chain, returner: Callable[[bytes], str]) -> None:
    with pytest.raises(E.AbiDecodeError, match="no contract code"):
        task.get_status(chain.w3, "0x" + "00" * 19 + "99")
    bad = returner(encode(["uint8"], [42]))
    with pytest.raises(E.AbiDecodeError, match="TaskStatus"):
        task.get_status(chain.w3, bad)


def test_write_builds_a_tx_request_without_rpc() -> None:
    req = vault.deposit(ADDR.lower(), ADDR, value=10**18)
    assert isinstance(req, TxRequest)
    assert (req.contract, req.function) == ("Vault", "deposit")
    assert (req.signature, req.to, req.value) == ("deposit(address)", CHECKSUMMED, 10**18)
    assert req.args == (ADDR,)
    assert req.data == keccak(text="deposit(address)")[:4] + encode(["address"], [ADDR])
    assert vault.lock(ADDR, 5).value == 0


# -- missing on this network ----------------------------------------------------------------------


def test_testnet_vault_functions_missing(http_w3: Web3, rpc: RpcServer) -> None:
    with pytest.raises(E.FunctionNotOnNetworkError) as info:
        vault.cancel_unbonding(ADDR, network="testnet")
    assert (info.value.function, info.value.network) == ("cancelUnbonding", "testnet")
    assert "mainnet" in str(info.value)
    with pytest.raises(E.FunctionNotOnNetworkError):
        vault.emergency_exit(ADDR, ADDR, network="testnet")
    with pytest.raises(E.FunctionNotOnNetworkError):
        vault.withdraw_sanction_of(ADDR, ADDR, network="testnet")
    assert vault.AVAILABILITY["cancelUnbonding"] == ("mainnet",)
    assert vault.AVAILABILITY["UnbondingCanceled"] == ("mainnet",)
    assert vault.AVAILABILITY["deposit"] == ("mainnet", "testnet")
    with pytest.raises(E.ChainNotSupportedError):
        vault.cancel_unbonding(ADDR, network="nope")
    # the devnet deploys the mainnet set
    assert vault.cancel_unbonding(ADDR, network="devnet").function == "cancelUnbonding"
    assert vault.cancel_unbonding(ADDR, network="mainnet").function == "cancelUnbonding"
    assert rpc.calls == []


def test_missing_read_raises_before_rpc(
    fixture_bindings: Any, http_w3: Web3, rpc: RpcServer
) -> None:
    from .conftest import import_sub

    missing = E.FunctionNotOnNetworkError
    widget = import_sub(fixture_bindings, "widget")
    with pytest.raises(missing) as info:
        widget.beta_only(http_w3, ADDR, 1, network="alpha")
    assert (info.value.function, info.value.network) == ("betaOnly", "alpha")
    with pytest.raises(missing):
        widget.beta_only(http_w3, ADDR, 1, network="gamma")  # gamma deploys the alpha set
    with pytest.raises(missing):
        widget.beta_only_call(ADDR, 1, network="alpha")
    with pytest.raises(missing):
        widget.WidgetContract(http_w3, ADDR).beta_only(1, network="alpha")
    with pytest.raises(missing):
        import_sub(fixture_bindings, "gadget").ping(http_w3, ADDR, network="beta")
    assert widget.beta_only_call(ADDR, 1, network="beta").function == "betaOnly"
    assert widget.AVAILABILITY == {**widget.AVAILABILITY, "betaOnly": ("beta",)}
    assert rpc.calls == []


# -- a real JSON-RPC server -----------------------------------------------------------------------


def test_one_eth_call_over_http(http_w3: Web3, rpc: RpcServer) -> None:
    rpc.result = "0x" + encode(["bool"], [True]).hex()
    assert terminal.is_agent_of(http_w3, ADDR, ADDR, "0x" + "cd" * 20) is True
    assert len(rpc.calls) == 1
    params = rpc.calls[0]["params"]
    assert params[0]["to"] == CHECKSUMMED and params[1] == "latest"
    expected = terminal.is_agent_of_call(ADDR, ADDR, "0x" + "cd" * 20).data
    assert expected[:4] == keccak(text="isAgentOf(address,address)")[:4]
    assert params[0]["data"] == "0x" + expected.hex()
    terminal.is_master(http_w3, ADDR, ADDR, block_identifier=12)
    assert rpc.calls[1]["params"][1] == "0xc"


def test_json_rpc_revert_error_is_typed(http_w3: Web3, rpc: RpcServer) -> None:
    data = "0x08c379a0" + encode(["string"], ["NotCancelable"]).hex()
    rpc.error = {"code": 3, "message": "execution reverted: NotCancelable", "data": data}
    with pytest.raises(E.TaskNotCancelableError) as info:
        task.get_status(http_w3, ADDR)
    assert isinstance(info.value, E.TaskAlreadyFinalizedError)
    assert info.value.data == bytes.fromhex(data[2:])


def test_transport_failures_are_rpc_errors(rpc: RpcServer) -> None:
    rpc.status = 500
    rpc.result = "garbage"
    w3 = _http(rpc.url)
    with pytest.raises(E.RPCError) as info:
        vault.unbonding_period(w3, ADDR)
    assert info.value.method == "eth_call" and info.value.cause
    closed = _http("http://127.0.0.1:9")
    with pytest.raises(E.RPCError, match=r"eth_call Vault\.UNBONDING_PERIOD"):
        vault.unbonding_period(closed, ADDR)


def test_node_error_without_revert_is_rpc_error(http_w3: Web3, rpc: RpcServer) -> None:
    rpc.error = {"code": -32000, "message": "header not found"}
    with pytest.raises(E.RPCError, match="header not found"):
        vault.unbonding_period(http_w3, ADDR)


# -- logs from real transactions ------------------------------------------------------------------


def test_decode_logs_of_real_transactions(chain: Chain) -> None:
    w3 = chain.w3
    body = encode(["address", "address", "uint256"], [ADDR, "0x" + "01" * 20, 55])
    topic0 = bytes.fromhex(nexus.ATTEMPTED_TOPIC[2:])
    emitter = chain.logger([topic0], body)
    receipt = chain.transact(emitter)
    (log,) = receipt["logs"]
    ev = nexus.decode_attempted(log)
    provider = to_checksum_address("0x" + "01" * 20)
    assert (ev.task, ev.provider, ev.suggested_payment) == (CHECKSUMMED, provider, 55)
    assert ev.address == emitter and ev.block_number == receipt["blockNumber"]
    assert ev.transaction_hash == "0x" + bytes(receipt["transactionHash"]).hex()
    assert ev.log_index == log["logIndex"]
    assert ogpu_bindings.decode_log(log) == ev
    fetched = w3.eth.get_logs({"address": emitter, "fromBlock": 0})
    assert nexus.decode_attempted(fetched[0]) == ev

    old, new = "0x" + "0a" * 20, "0x" + "0b" * 20
    owner_topics = [
        bytes.fromhex(source.OWNERSHIP_TRANSFERRED_TOPIC[2:]),
        encode(["address"], [old]),
        encode(["address"], [new]),
    ]
    owner_log = chain.transact(chain.logger(owner_topics, b""))["logs"][0]
    owned = source.decode_ownership_transferred(owner_log)
    assert (owned.previous_owner, owned.new_owner) == tuple(map(to_checksum_address, (old, new)))
    assert isinstance(owned, source.OwnershipTransferredEvent)

    status = chain.transact(
        chain.logger(
            [bytes.fromhex(nexus.TASK_STATUS_CHANGED_TOPIC[2:])],
            encode(["address", "uint8"], [ADDR, 5]),
        )
    )["logs"][0]
    changed = nexus.decode_task_status_changed(status)
    assert changed.status is TaskStatus.FINALIZED
    with pytest.raises(E.AbiDecodeError, match="not a Attempted"):
        nexus.decode_attempted(status)
    unknown = chain.transact(chain.logger([b"\x01" * 32], b""))["logs"][0]
    assert ogpu_bindings.decode_log(unknown) is None


def test_package_attributes_resolve_on_first_access() -> None:
    import importlib

    contracts = ogpu_bindings.CONTRACTS
    assert ogpu_bindings.CONTRACTS is contracts  # built once, then a plain module attribute
    assert contracts["Vault"] is importlib.import_module("ogpu_bindings.vault")
    events = importlib.import_module("ogpu_bindings.events.nexus")
    decoders = ogpu_bindings.EVENT_DECODERS
    assert decoders[events.TASK_PUBLISHED_TOPIC] is events.decode_task_published
    assert decoders[vault.UNBONDING_CANCELED_TOPIC] is vault.decode_unbonding_canceled
    # the contract module re-exports the very objects of its events module
    assert contracts["Nexus"].decode_task_published is events.decode_task_published
    assert contracts["Nexus"].TaskPublishedEvent is events.TaskPublishedEvent
    assert contracts["Task"].OwnershipTransferredEvent is (
        contracts["Controller"].OwnershipTransferredEvent
    )
    assert set(ogpu_bindings.__all__) <= set(dir(ogpu_bindings))
    with pytest.raises(AttributeError, match="no_such_name"):
        ogpu_bindings.no_such_name  # noqa: B018


def test_networks() -> None:
    assert ogpu_bindings.abi_set_of("devnet") == "mainnet"
    assert ogpu_bindings.abi_set_of("testnet") == "testnet"
    assert ogpu_bindings.NETWORK_INFO["testnet"].chain_id == 200820172034
    assert ogpu_bindings.NETWORK_INFO["mainnet"].addresses["Vault"] == (
        "0xa5c582254AA313528898311362bc698b041580cC"
    )
    with pytest.raises(E.ChainNotSupportedError):
        ogpu_bindings.abi_set_of("nope")
