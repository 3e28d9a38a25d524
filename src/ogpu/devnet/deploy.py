"""Deploy and wire the reference contract suite on any EVM node.

Works with only web3 installed: transactions are signed locally and sent raw,
so the same code deploys on the in-process eth-tester chain, ``ogpu devnet``,
ganache or anvil. With a fixed deployer key and a fresh nonce the addresses are
deterministic (contract addresses depend only on deployer and nonce).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from functools import cache
from importlib import resources
from typing import Any, cast

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import Nonce, TxParams, TxReceipt
from web3.utils import get_create_address

from ogpu.chain.networks import PROTOCOL_CONTRACTS
from ogpu.types import InvalidInputError, OGPUError

__all__ = [
    "CONTRACT_NAMES",
    "DEFAULT_MIN_LOCKUP_PER_SOURCE",
    "DEFAULT_UNBONDING_PERIOD",
    "SUITE_CONTRACTS",
    "Artifact",
    "Deployment",
    "DeploymentError",
    "DevnetDependencyError",
    "DevnetError",
    "DevnetInputError",
    "deploy_suite",
    "load_artifact",
]

SUITE_CONTRACTS = PROTOCOL_CONTRACTS
"""The eight protocol contracts (same ABIs as mainnet)."""

FACTORY_CONTRACTS = ("SourceFactory", "TaskFactory", "ResponseFactory")
CONTRACT_NAMES = SUITE_CONTRACTS + FACTORY_CONTRACTS
"""Every artifact shipped in ``ogpu.devnet.artifacts``."""

DEFAULT_MIN_LOCKUP_PER_SOURCE = 10**18
"""Devnet ``Vault.MIN_LOCKUP_PER_SOURCE``: 1 ether."""

DEFAULT_UNBONDING_PERIOD = 60
"""Devnet ``Vault.UNBONDING_PERIOD`` in seconds."""

ZERO_ADDRESS = "0x" + "00" * 20
CONTROLLER_ROLE = keccak(text="CONTROLLER")
GAS_MARGIN_NUM, GAS_MARGIN_DEN = 6, 5  # estimate * 1.2
RECEIPT_TIMEOUT = 60.0


class DevnetError(OGPUError):
    """Base class of the devnet's errors."""


class DevnetInputError(DevnetError, InvalidInputError):
    """A devnet function got a bad argument (raised before any RPC); also a ValueError."""


class DevnetDependencyError(DevnetError, ImportError):
    """The in-process devnet needs eth-tester and py-evm: ``pip install 'ogpu[devnet]'``."""


class DeploymentError(DevnetError):
    """Deploying or wiring the suite failed, or a deployment record is invalid."""


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: ABI and creation/runtime bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes


@cache
def load_artifact(name: str) -> Artifact:
    """Load ``ogpu/devnet/artifacts/<name>.json`` (package data, no RPC).

    Raises ``DevnetInputError`` for an unknown contract name.
    """
    if name not in CONTRACT_NAMES:
        raise DevnetInputError(f"unknown contract {name!r}; expected one of {CONTRACT_NAMES}")
    text = resources.files("ogpu.devnet.artifacts").joinpath(f"{name}.json").read_text("utf-8")
    raw = json.loads(text)
    return Artifact(
        name=raw["contractName"],
        abi=raw["abi"],
        bytecode=bytes.fromhex(raw["bytecode"][2:]),
        deployed_bytecode=bytes.fromhex(raw["deployedBytecode"][2:]),
    )


@dataclass(frozen=True)
class Deployment:
    """Addresses of a deployed suite. ``block_number`` is the block of the last wiring tx."""

    chain_id: int
    nexus: ChecksumAddress
    controller: ChecksumAddress
    terminal: ChecksumAddress
    vault: ChecksumAddress
    manager: ChecksumAddress
    source_factory: ChecksumAddress
    task_factory: ChecksumAddress
    response_factory: ChecksumAddress
    deployer: ChecksumAddress
    block_number: int

    def to_json(self) -> str:
        """Serialize to a JSON object string (sorted keys); no RPC."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Deployment:
        """Parse :meth:`to_json` output; no RPC.

        Raises ``DeploymentError`` on malformed JSON, missing or unknown keys,
        non-address values or non-integer numbers.
        """
        try:
            raw = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise DeploymentError(f"deployment is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise DeploymentError("deployment JSON must be an object")
        expected = {f.name for f in fields(cls)}
        missing, unknown = expected - raw.keys(), raw.keys() - expected
        if missing or unknown:
            raise DeploymentError(
                f"deployment keys mismatch: missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        values: dict[str, Any] = {}
        for key in expected:
            value = raw[key]
            if key in ("chain_id", "block_number"):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise DeploymentError(f"{key} must be a non-negative integer, got {value!r}")
                values[key] = value
            else:
                if not isinstance(value, str) or not is_address(value):
                    raise DeploymentError(f"{key} must be an address, got {value!r}")
                values[key] = to_checksum_address(value)
        return cls(**values)


def _selector_and_types(abi: list[dict[str, Any]], name: str | None) -> tuple[bytes, list[str]]:
    for entry in abi:
        if name is None and entry["type"] == "constructor":
            return b"", [p["type"] for p in entry["inputs"]]
        if entry["type"] == "function" and entry["name"] == name:
            types = [p["type"] for p in entry["inputs"]]
            return keccak(text=f"{name}({','.join(types)})")[:4], types
    if name is None:
        return b"", []
    raise DeploymentError(f"function {name!r} not in ABI")  # pragma: no cover - artifact bug


def _calldata(contract: str, function: str | None, *args: Any) -> bytes:
    artifact = load_artifact(contract)
    selector, types = _selector_and_types(artifact.abi, function)
    head = artifact.bytecode if function is None else selector
    return head + encode(types, list(args))


class _Sender:
    """Signs and sends the deployer's transactions with consecutive nonces."""

    def __init__(self, w3: Web3, deployer: LocalAccount) -> None:
        self.w3 = w3
        self.deployer = deployer
        self.chain_id = w3.eth.chain_id
        self.nonce: int = int(w3.eth.get_transaction_count(deployer.address, "pending"))
        latest = w3.eth.get_block("latest")
        self.gas_cap = int(latest["gasLimit"])
        base_fee = latest.get("baseFeePerGas")
        self.fees: dict[str, int]
        if base_fee is None:
            self.fees = {"gasPrice": int(w3.eth.gas_price)}
        else:
            tip = 10**9
            self.fees = {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    def address_at(self, offset: int) -> ChecksumAddress:
        return get_create_address(self.deployer.address, Nonce(self.nonce + offset))

    def send(self, step: str, to: ChecksumAddress | None, data: bytes) -> TxReceipt:
        tx: dict[str, Any] = {
            "from": self.deployer.address,
            "nonce": self.nonce,
            "chainId": self.chain_id,
            "value": 0,
            "data": data,
            **self.fees,
        }
        if to is not None:
            tx["to"] = to
        try:
            estimate = self.w3.eth.estimate_gas(cast(TxParams, tx))
        except Exception as exc:
            raise DeploymentError(f"{step}: gas estimation failed: {exc}") from None
        tx["gas"] = min(estimate * GAS_MARGIN_NUM // GAS_MARGIN_DEN + 10_000, self.gas_cap)
        signed = self.deployer.sign_transaction(tx)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
        except Exception as exc:
            raise DeploymentError(f"{step}: transaction failed: {exc}") from None
        if receipt["status"] != 1:
            raise DeploymentError(f"{step}: transaction reverted ({tx_hash.hex()})")
        self.nonce += 1
        return receipt


def _check_uint(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise DevnetInputError(f"{name} must be a uint256 int, got {value!r}")


def deploy_suite(
    w3: Web3,
    deployer: LocalAccount,
    *,
    min_lockup_per_source: int = DEFAULT_MIN_LOCKUP_PER_SOURCE,
    unbonding_period: int = DEFAULT_UNBONDING_PERIOD,
) -> Deployment:
    """Deploy Manager, Terminal, Nexus, Vault, Controller and the three factories, then wire them.

    Cost: 13 signed transactions from ``deployer`` (each with one gas
    estimate and one receipt wait), in a fixed order starting at the
    deployer's pending nonce. The deployer becomes owner of Nexus, Controller
    and Terminal and holds the Manager's DEFAULT_ADMIN_ROLE; the Controller
    gets the CONTROLLER role.

    Raises ``DevnetInputError`` for bad arguments (before any RPC) and
    ``DeploymentError`` when a transaction fails or reverts.
    """
    if not isinstance(deployer, LocalAccount):
        # Only the type: a wrongly passed hex key must not end up in the message.
        raise DevnetInputError(
            f"deployer must be an eth_account LocalAccount, not {type(deployer).__name__}"
        )
    _check_uint("min_lockup_per_source", min_lockup_per_source)
    _check_uint("unbonding_period", unbonding_period)

    s = _Sender(w3, deployer)
    manager, terminal, nexus, vault, controller = (s.address_at(i) for i in range(5))
    source_factory, response_factory, task_factory = (s.address_at(i) for i in range(5, 8))

    # in nonce order: the i-th creation lands at address_at(i)
    constructors: tuple[tuple[str, tuple[ChecksumAddress, ...]], ...] = (
        ("Manager", ()),
        ("Terminal", (manager, vault)),
        ("Nexus", (manager, terminal, vault)),
        ("Vault", (manager, nexus, terminal)),
        ("Controller", (nexus, terminal, vault)),
        ("SourceFactory", (nexus,)),
        ("ResponseFactory", (nexus,)),
        ("TaskFactory", (controller, nexus)),
    )
    for name, arguments in constructors:
        s.send(f"deploy {name}", None, _calldata(name, None, *arguments))
    wiring: tuple[tuple[str, ChecksumAddress, str, tuple[Any, ...]], ...] = (
        ("Nexus", nexus, "setFactories", (source_factory, response_factory)),
        ("Controller", controller, "setTaskFactory", (task_factory,)),
        ("Manager", manager, "grantRole", (CONTROLLER_ROLE, controller)),
        ("Vault", vault, "setMinLockupPerSource", (min_lockup_per_source,)),
        ("Vault", vault, "setMaxUnbondingPeriod", (unbonding_period,)),
    )
    for name, target, function, arguments in wiring:  # the last receipt dates the deployment
        last = s.send(f"{name}.{function}", target, _calldata(name, function, *arguments))

    checked = (
        ("Manager", manager),
        ("Terminal", terminal),
        ("Nexus", nexus),
        ("Vault", vault),
        ("Controller", controller),
    )
    for name, address in checked:
        if bytes(w3.eth.get_code(address)) != load_artifact(name).deployed_bytecode:
            raise DeploymentError(f"{name} at {address} does not hold the expected code")

    return Deployment(
        chain_id=s.chain_id,
        nexus=nexus,
        controller=controller,
        terminal=terminal,
        vault=vault,
        manager=manager,
        source_factory=source_factory,
        task_factory=task_factory,
        response_factory=response_factory,
        deployer=to_checksum_address(deployer.address),
        block_number=int(last["blockNumber"]),
    )
