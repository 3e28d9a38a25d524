"""In-process devnet: an eth-tester (py-evm) chain with the suite deployed.

Needs the optional extra ``pip install 'ogpu[devnet]'``; importing this module
without eth-tester raises :class:`~ogpu.devnet.deploy.DevnetDependencyError`.
"""

from __future__ import annotations

import ast
import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

from ogpu.devnet.accounts import (
    ADMIN,
    ALL_ACCOUNTS,
    DEFAULT_BALANCE_WEI,
    DEVNET_CHAIN_ID,
    DevnetAccount,
)
from ogpu.devnet.deploy import (
    DEFAULT_MIN_LOCKUP_PER_SOURCE,
    DEFAULT_UNBONDING_PERIOD,
    Deployment,
    DevnetDependencyError,
    DevnetInputError,
    deploy_suite,
)

try:
    from eth_abi.abi import decode, encode
    from eth_abi.exceptions import DecodingError
    from eth_keys.datatypes import PrivateKey
    from eth_tester import EthereumTester  # type: ignore[import-untyped]
    from eth_tester.exceptions import (  # type: ignore[import-untyped]
        SnapshotNotFound,
        TransactionFailed,
    )
    from web3 import EthereumTesterProvider, Web3
    from web3.providers.eth_tester.defaults import API_ENDPOINTS, static_return
    from web3.types import RPCEndpoint, RPCResponse

    from ogpu.devnet.flatstorage import flat_vm_configuration
    from ogpu.devnet.txindex import IndexedBackend
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise DevnetDependencyError(
        "the in-process devnet needs eth-tester with py-evm; "
        "install them with: pip install 'ogpu[devnet]'"
    ) from exc

__all__ = ["Devnet"]


def _check_int(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DevnetInputError(f"{name} must be an int >= {minimum}, got {value!r}")


ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")

Delegator = Callable[[Any, Any], Any]


class _Reverted(Exception):
    def __init__(self, data: bytes) -> None:
        super().__init__("execution reverted")
        self.data = data


def _revert_data(exc: Exception) -> bytes:
    """Raw revert bytes of eth-tester's TransactionFailed; a decoded reason is re-encoded."""
    arg: Any = exc.args[0] if exc.args else b""
    if isinstance(arg, Exception):
        arg = arg.args[0] if arg.args else b""
    if isinstance(arg, str) and arg[:2] in ("b'", 'b"'):
        with contextlib.suppress(ValueError, SyntaxError):
            arg = ast.literal_eval(arg)
    if isinstance(arg, (bytes, bytearray)):
        return bytes(arg)
    return ERROR_STRING_SELECTOR + encode(["string"], [str(arg)])


def _raise_reverts(delegator: Delegator) -> Delegator:
    def call(tester: Any, params: Any) -> Any:
        try:
            return delegator(tester, params)
        except TransactionFailed as exc:
            raise _Reverted(_revert_data(exc)) from None

    return call


def _endpoints(chain_id: int) -> dict[str, dict[str, Any]]:
    endpoints = {namespace: dict(methods) for namespace, methods in API_ENDPOINTS.items()}
    endpoints["eth"]["chainId"] = static_return(chain_id)
    endpoints["net"]["version"] = static_return(str(chain_id))
    for method in ("call", "estimateGas"):
        endpoints["eth"][method] = _raise_reverts(endpoints["eth"][method])
    return endpoints


class _DevnetProvider(EthereumTesterProvider):
    """Reports reverts of eth_call/eth_estimateGas like a node: JSON-RPC error code 3 with
    the revert bytes in ``data`` (so web3 raises ContractLogicError/ContractCustomError)."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        try:
            return super().make_request(method, params)
        except _Reverted as exc:
            message = "execution reverted"
            if exc.data[:4] == ERROR_STRING_SELECTOR:
                try:
                    (reason,) = decode(["string"], exc.data[4:])
                    message = f"execution reverted: {reason}"
                except DecodingError:
                    pass
            error = {"code": 3, "message": message, "data": "0x" + exc.data.hex()}
            return cast(RPCResponse, {"id": 0, "jsonrpc": "2.0", "error": error})


class Devnet:
    """A fresh in-process chain (chain id 1337) with funded accounts and the suite deployed.

    Construction costs one deployment (13 transactions, roughly a second).
    Attributes: ``w3`` (Web3 over an ``EthereumTesterProvider`` that reports
    eth_call/eth_estimateGas reverts as JSON-RPC errors with revert data, like
    a node, so web3 raises ``ContractLogicError``/``ContractCustomError``), ``tester``
    (``EthereumTester``, auto-mining), ``deployment``, ``accounts`` and
    ``lock``, a re-entrant lock that every method here takes and that callers
    sharing the chain across threads (e.g. an HTTP server) must hold around
    each call into ``tester``/``w3``.

    Time: a new block is stamped ``max(parent + 1, wall clock)``, as on
    ganache/anvil. After :meth:`revert` the latest block keeps its old
    timestamp, so compute deadlines from the pending block (the time the next
    transaction runs at) or the wall clock, not from the latest block.
    """

    chain_id = DEVNET_CHAIN_ID

    def __init__(
        self,
        *,
        accounts: Iterable[DevnetAccount] = ALL_ACCOUNTS,
        balance_wei: int = DEFAULT_BALANCE_WEI,
        min_lockup_per_source: int = DEFAULT_MIN_LOCKUP_PER_SOURCE,
        unbonding_period: int = DEFAULT_UNBONDING_PERIOD,
    ) -> None:
        """Raises ``DevnetInputError`` for bad arguments, ``DeploymentError`` if deploying fails."""
        self.accounts: tuple[DevnetAccount, ...] = tuple(accounts)
        if ADMIN not in self.accounts:
            raise DevnetInputError("accounts must include ADMIN (the deployer)")
        if not all(isinstance(a, DevnetAccount) for a in self.accounts):
            raise DevnetInputError("accounts must be DevnetAccount instances")
        _check_int("balance_wei", balance_wei, 1)
        self.lock = threading.RLock()

        genesis_state = {
            bytes.fromhex(a.address[2:]): {
                "balance": balance_wei,
                "nonce": 0,
                "code": b"",
                "storage": {},
            }
            for a in self.accounts
        }
        backend = IndexedBackend(genesis_state=genesis_state)
        # eth_accounts / eth_sendTransaction use these keys.
        backend.account_keys = tuple(PrivateKey(a.key) for a in self.accounts)
        # py-evm takes the chain id and the VMs from the chain class; a subclass
        # keeps them across snapshot reverts, which rebuild the chain from its class.
        # The VMs read storage through a flat cache (ogpu.devnet.flatstorage).
        chain_class = type(backend.chain)
        backend.chain.__class__ = type(
            "OgpuDevnetChain",
            (chain_class,),
            {
                "chain_id": DEVNET_CHAIN_ID,
                "vm_configuration": flat_vm_configuration(chain_class.vm_configuration),
            },
        )
        self.tester = EthereumTester(backend)
        self.w3 = Web3(_DevnetProvider(self.tester, api_endpoints=_endpoints(self.chain_id)))
        # Calls without "from" would otherwise ask eth_accounts (three times) to guess one.
        self.w3.eth.default_account = ADMIN.address
        self.deployment: Deployment = deploy_suite(
            self.w3,
            ADMIN.account,
            min_lockup_per_source=min_lockup_per_source,
            unbonding_period=unbonding_period,
        )

    def __repr__(self) -> str:
        return (
            f"Devnet(chain_id={self.chain_id}, nexus={self.deployment.nexus}, "
            f"accounts={len(self.accounts)})"
        )

    def timestamp(self) -> int:
        """Timestamp of the latest block (no RPC; reads the in-process chain)."""
        with self.lock:
            return int(self.tester.get_block_by_number("latest")["timestamp"])

    def block_number(self) -> int:
        """Number of the latest block (no RPC; reads the in-process chain)."""
        with self.lock:
            return int(self.tester.get_block_by_number("latest")["number"])

    def advance_time(self, seconds: int) -> int:
        """Mine a block ``seconds`` after the latest one (later if the wall clock is
        already past that); return its timestamp.

        Raises ``DevnetInputError`` unless ``seconds`` is an int >= 1.
        """
        _check_int("seconds", seconds, 1)
        with self.lock:
            target = self.timestamp() + seconds
            pending = int(self.tester.get_block_by_number("pending")["timestamp"])
            # eth-tester's time_travel(t) mines a block stamped t - 1.
            if target + 1 > pending:
                self.tester.time_travel(target + 1)
            if self.timestamp() < target:
                self.tester.mine_blocks(1)
            return self.timestamp()

    def mine(self, n: int = 1) -> int:
        """Mine ``n`` empty blocks; return the latest block number.

        Raises ``DevnetInputError`` unless ``n`` is an int >= 1.
        """
        _check_int("n", n, 1)
        with self.lock:
            self.tester.mine_blocks(n)
            return self.block_number()

    def snapshot(self) -> int:
        """Record the current chain head; return an id for :meth:`revert` (reusable)."""
        with self.lock:
            snapshot_id: int = self.tester.take_snapshot()
            return snapshot_id

    def revert(self, snapshot_id: int) -> None:
        """Return the chain to a snapshot (later blocks are dropped).

        Raises ``DevnetInputError`` for an unknown snapshot id.
        """
        _check_int("snapshot_id", snapshot_id, 0)
        with self.lock:
            try:
                self.tester.revert_to_snapshot(snapshot_id)
            except SnapshotNotFound:
                raise DevnetInputError(f"unknown snapshot id {snapshot_id}") from None
