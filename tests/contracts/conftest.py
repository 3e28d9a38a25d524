"""Contract-test fixtures: plain web3 Contract objects over the devnet.

``suite`` wraps the function-scoped ``devnet`` fixture; when the test ends it
checks the vault invariant (funds held per account == coin that entered the
vault minus coin that left it) before the chain is reverted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi.abi import decode
from eth_typing import ChecksumAddress
from eth_utils.abi import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from ogpu.chain import multicall
from ogpu.devnet import ALL_ACCOUNTS, DEVNET_CHAIN_ID, DevnetAccount, load_artifact
from ogpu.devnet.chain import Devnet

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
TX_GAS = 10_000_000
ETHER = 10**18
CPU, NVIDIA, AMD = 1, 2, 4
MANUAL_CONFIRMATION, FIRST_RESPONSE = 0, 1
BUCKETS = {
    "balance": "balanceOf",
    "frozen": "frozenPayment",
    "lockup": "lockupOf",
    "unbonding": "unbondingOf",
    "sanction": "sanctionOf",
}


@dataclass(frozen=True)
class _Read:
    """One read for ``multicall.aggregate``: target and calldata."""

    to: str
    data: bytes


def _custom_errors(abi: list[dict[str, Any]]) -> dict[bytes, tuple[str, list[str]]]:
    out = {}
    for entry in abi:
        if entry["type"] == "error":
            types = [p["type"] for p in entry["inputs"]]
            selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
            out[selector] = (entry["name"], types)
    return out


@dataclass
class Suite:
    """The deployed suite as web3 contracts, plus transaction and scenario helpers."""

    devnet: Devnet
    w3: Web3
    nexus: Contract
    controller: Contract
    terminal: Contract
    vault: Contract
    manager: Contract
    # Coin sent by successful transactions to the Vault (deposit) and the
    # Terminal (announceProvider): the test's own ledger of deposits.
    coin_in: int = 0
    vault_logs: list[Any] = field(default_factory=list)
    nonces: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, devnet: Devnet) -> Suite:
        d = devnet.deployment
        w3 = devnet.w3

        def at(name: str, address: ChecksumAddress) -> Contract:
            return w3.eth.contract(address=address, abi=load_artifact(name).abi)

        return cls(
            devnet=devnet,
            w3=w3,
            nexus=at("Nexus", d.nexus),
            controller=at("Controller", d.controller),
            terminal=at("Terminal", d.terminal),
            vault=at("Vault", d.vault),
            manager=at("Manager", d.manager),
        )

    # ---- plumbing ----

    def at(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=load_artifact(name).abi
        )

    def source(self, address: str) -> Contract:
        return self.at("Source", address)

    def task(self, address: str) -> Contract:
        return self.at("Task", address)

    def response(self, address: str) -> Contract:
        return self.at("Response", address)

    def now(self) -> int:
        """Timestamp the next transaction will run at (the pending block's).

        After a snapshot revert the latest block keeps its old timestamp while
        new blocks follow the wall clock, so deadlines are computed from here.
        """
        timestamp: int = self.w3.eth.get_block("pending")["timestamp"]
        return timestamp

    def _send(self, sender: DevnetAccount, fn: ContractFunction, value: int) -> TxReceipt:
        # Fixed gas and fees skip eth_estimateGas (a binary search of executions)
        # and the fee lookups; nonces are counted here (failed txs use one too).
        if sender.address not in self.nonces:
            self.nonces[sender.address] = self.w3.eth.get_transaction_count(sender.address)
        params: dict[str, Any] = {
            "from": sender.address,
            "value": value,
            "gas": TX_GAS,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
            "nonce": self.nonces[sender.address],
            "chainId": DEVNET_CHAIN_ID,
        }
        self.nonces[sender.address] += 1
        tx = fn.build_transaction(params)
        signed = sender.account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] == 1 and tx["to"] in (self.vault.address, self.terminal.address):
            self.coin_in += value
        self.vault_logs.extend(
            log for log in receipt["logs"] if log["address"] == self.vault.address
        )
        return receipt

    def transact(self, sender: DevnetAccount, fn: ContractFunction, value: int = 0) -> TxReceipt:
        receipt = self._send(sender, fn, value)
        assert receipt["status"] == 1
        return receipt

    def revert_data(self, sender: DevnetAccount, fn: ContractFunction, value: int = 0) -> bytes:
        """Revert bytes of ``fn`` from ``sender`` (eth_call); also checks the mined tx fails."""
        with pytest.raises(ContractLogicError) as info:
            fn.call({"from": sender.address, "value": value})
        data = info.value.data
        assert isinstance(data, str)
        receipt = self._send(sender, fn, value)
        assert receipt["status"] == 0
        assert receipt["logs"] == []
        return bytes.fromhex(data[2:])

    def reverts(
        self, sender: DevnetAccount, fn: ContractFunction, reason: str, value: int = 0
    ) -> None:
        """Assert ``fn`` reverts with ``Error(reason)``."""
        data = self.revert_data(sender, fn, value)
        assert data[:4] == ERROR_STRING_SELECTOR, f"not an Error(string): 0x{data.hex()}"
        (got,) = decode(["string"], data[4:])
        assert got == reason

    def reverts_custom(
        self, sender: DevnetAccount, fn: ContractFunction, error: str, *args: Any
    ) -> None:
        """Assert ``fn`` reverts with the custom error ``error(*args)`` of its contract's ABI."""
        data = self.revert_data(sender, fn)
        known = _custom_errors(fn.contract_abi)
        assert data[:4] in known, f"unknown error selector 0x{data[:4].hex()}"
        name, types = known[data[:4]]
        assert name == error
        values = [
            Web3.to_checksum_address(value) if kind == "address" else value
            for kind, value in zip(types, decode(types, data[4:]), strict=True)
        ]
        assert tuple(values) == args

    def events(self, receipt: TxReceipt, contract: Contract, name: str) -> list[dict[str, Any]]:
        """Decoded args of ``name`` events that ``contract`` emitted in ``receipt``."""
        event = contract.events[name]()
        out = []
        for log in receipt["logs"]:
            if log["address"] == contract.address and log["topics"][0] == HexBytes(event.topic):
                out.append(dict(event.process_log(log)["args"]))
        return out

    def event_names(self, receipt: TxReceipt, contract: Contract) -> list[str]:
        """Names of ``contract``'s events in ``receipt``, in log order."""
        by_topic = {}
        for entry in contract.abi:
            if entry["type"] == "event":
                by_topic[HexBytes(contract.events[entry["name"]]().topic)] = entry["name"]
        return [
            by_topic[log["topics"][0]]
            for log in receipt["logs"]
            if log["address"] == contract.address
        ]

    # ---- scenario helpers ----

    def deposit(self, account: DevnetAccount, amount: int) -> TxReceipt:
        return self.transact(account, self.vault.functions.deposit(account.address), value=amount)

    def source_params(self, owner: DevnetAccount, /, **overrides: Any) -> tuple[Any, ...]:
        fields = {
            "client": owner.address,
            "imageMetadataUrl": "http://127.0.0.1/ipfs/meta",
            "imageEnvironments": CPU | NVIDIA,
            "minPayment": 10**15,
            "minAvailableLockup": 0,
            "maxExpiryDuration": 3600,
            "privacyEnabled": False,
            "optionalParamsUrl": "",
            "deliveryMethod": MANUAL_CONFIRMATION,
            "lastUpdateTime": 0,
        }
        unknown = overrides.keys() - fields.keys()
        assert not unknown, unknown
        fields.update(overrides)
        return tuple(fields.values())

    def publish_source(self, client: DevnetAccount, **overrides: Any) -> Contract:
        receipt = self.transact(
            client, self.nexus.functions.publishSource(self.source_params(client, **overrides))
        )
        (event,) = self.events(receipt, self.nexus, "SourcePublished")
        return self.source(event["source"])

    def pair(self, master: DevnetAccount, provider: DevnetAccount, lockup: int = 2 * ETHER) -> None:
        self.transact(
            master,
            self.terminal.functions.announceProvider(provider.address, lockup),
            value=lockup,
        )
        self.transact(provider, self.terminal.functions.announceMaster(master.address))

    def register(
        self,
        sender: DevnetAccount,
        source: Contract,
        provider: DevnetAccount,
        env: int = CPU,
    ) -> TxReceipt:
        return self.transact(
            sender, self.nexus.functions.register(source.address, provider.address, env)
        )

    def task_params(
        self, source: Contract, payment: int, expires_in: int = 600, config: str = "cfg"
    ) -> tuple[Any, ...]:
        return (source.address, config, self.now() + expires_in, payment)

    def publish_task(
        self,
        client: DevnetAccount,
        source: Contract,
        payment: int = 10**16,
        expires_in: int = 600,
    ) -> Contract:
        receipt = self.transact(
            client,
            self.controller.functions.publishTask(self.task_params(source, payment, expires_in)),
        )
        (event,) = self.events(receipt, self.nexus, "TaskPublished")
        assert event["source"] == source.address
        return self.task(event["task"])

    def attempt(
        self, sender: DevnetAccount, task: Contract, provider: DevnetAccount, suggested: int = 0
    ) -> TxReceipt:
        return self.transact(
            sender, self.nexus.functions.attempt(task.address, provider.address, suggested)
        )

    def submit(
        self,
        sender: DevnetAccount,
        task: Contract,
        provider: DevnetAccount,
        data: str,
        payment: int = 0,
    ) -> tuple[Contract, TxReceipt]:
        receipt = self.transact(
            sender,
            self.nexus.functions.submitResponse((task.address, provider.address, data, payment)),
        )
        (event,) = self.events(receipt, self.nexus, "ResponseSubmitted")
        assert event["task"] == task.address
        return self.response(event["response"]), receipt

    def buckets(self, account: str) -> dict[str, int]:
        (found,) = self.all_buckets([account])
        return found

    def all_buckets(self, accounts: list[str]) -> list[dict[str, int]]:
        """The five Vault buckets of each account, read in one ``eth_call`` (the SDK's
        ``multicall.aggregate``: one EVM run for all the reads instead of one per read,
        which made the invariant check most of this folder's time)."""
        calls = [
            _Read(self.vault.address, HexBytes(self.vault.encode_abi(getter, [a])))
            for a in accounts
            for getter in BUCKETS.values()
        ]
        results = multicall.aggregate(self.w3, calls).results
        assert all(r.success for r in results)
        values = iter(decode(["uint256"], r.data)[0] for r in results)
        return [{name: next(values) for name in BUCKETS} for _ in accounts]

    # ---- invariant ----

    def check_vault_invariant(self) -> None:
        """Sum of every holder's buckets == vault coin balance == deposits - withdrawals.

        Deposits and withdrawals come from this Suite's own ledger of the test's
        transactions (all of them go through it): coin sent to the Vault and the
        Terminal, and the Withdrawn events in the receipts.
        """
        withdrawn = 0
        holders = {a.address for a in ALL_ACCOUNTS}
        events = {
            HexBytes(self.vault.events[e["name"]]().topic): self.vault.events[e["name"]]()
            for e in self.vault.abi
            if e["type"] == "event"
        }
        for log in self.vault_logs:
            event = events[log["topics"][0]]
            args = event.process_log(log)["args"]
            holders.add(args["account"])
            if event.event_name == "Withdrawn":
                withdrawn += args["amount"]
        buckets = self.all_buckets(sorted(holders))
        held = sum(sum(b.values()) for b in buckets)
        coin = self.w3.eth.get_balance(self.vault.address)
        assert held == coin == self.coin_in - withdrawn
        sanctioned = sum(b["sanction"] for b in buckets)
        assert self.vault.functions.sanctionedAmount().call() == sanctioned


@pytest.fixture
def suite(devnet: Devnet) -> Iterator[Suite]:
    s = Suite.build(devnet)
    yield s
    s.check_vault_invariant()
