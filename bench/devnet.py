"""The benchmark chain: an ``ogpu devnet`` subprocess, its seeding, and the event driver.

Everything here talks to the devnet directly (never through the latency proxy)
with plain web3.py and locally signed transactions, so setting up the chain and
generating events costs the measured SDKs nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

__all__ = ["BenchChain", "DevnetProcess", "DevnetUnavailable", "Seed", "start_devnet"]

ROOT = Path(__file__).resolve().parent.parent
ABI_DIR = ROOT / "abis" / "mainnet"
# A test fixture contract (contracts/test/ListFixtures.sol): fills a real Source's task
# list with synthetic addresses, 1,000 per transaction instead of one task each.
LIST_BUILDER = ROOT / "tests" / "fixtures" / "artifacts" / "ListBuilder.json"
PAYMENT = 10**15
DEPOSIT = 200 * 10**18
SEED_BATCH = 100
TASK_PUBLISHED = "TaskPublished(address,address)"
SOURCE_PUBLISHED = "SourcePublished(address)"


class DevnetUnavailable(RuntimeError):
    """The ``ogpu devnet`` command is missing or did not start."""


def _abi(name: str) -> Any:
    return json.loads((ABI_DIR / f"{name}Abi.json").read_text())


@dataclass
class DevnetProcess:
    """A running ``python -m ogpu.cli devnet`` child and what it printed at start-up."""

    process: subprocess.Popen[str]
    info: dict[str, Any]
    log_path: Path

    @property
    def rpc_url(self) -> str:
        return str(self.info["rpc_url"])

    @property
    def store_url(self) -> str:
        return str(self.info["store_url"])

    @property
    def contracts(self) -> dict[str, str]:
        deployment = self.info["deployment"]
        return {k: str(deployment[k]) for k in ("nexus", "controller", "terminal", "vault")}

    @property
    def chain_id(self) -> int:
        return int(self.info["chain_id"])

    def key(self, label: str) -> str:
        for account in self.info["accounts"]:
            if account["label"] == label:
                return str(account["private_key"])
        raise KeyError(label)

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system, all threads) the devnet process has used; None off Linux.

        Unlike the time a proxy sees a request take, it does not grow when the machine is
        busy with other work or when a side's requests wait on each other."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Terminate the devnet (kill after 15 s) and delete its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log_path.unlink(missing_ok=True)


def start_devnet(timeout: float = 90.0) -> DevnetProcess:
    """Start ``ogpu devnet --port 0 --store-port 0 --json``; wait for its start-up line.

    Raises ``DevnetUnavailable`` when the command is missing, exits, or prints no JSON.
    """
    log_path = Path(tempfile.gettempdir()) / f"ogpu-bench-devnet-{time.monotonic_ns()}.log"
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "ogpu.cli", "devnet", "--port", "0", "--store-port", "0"]
    process = subprocess.Popen(
        [*cmd, "--json"], stdout=subprocess.PIPE, stderr=log, text=True, cwd=tempfile.gettempdir()
    )
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        found.append(process.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    line = found[0] if found else ""
    try:
        info = json.loads(line)
        if not isinstance(info, dict) or "rpc_url" not in info:
            raise ValueError("no rpc_url")
    except ValueError:
        process.kill()
        process.wait(5)
        log.close()
        tail = log_path.read_text()[-600:].strip()
        raise DevnetUnavailable(
            f"`{' '.join(cmd[2:])} --json` did not start ({tail or 'no output'})"
        ) from None
    log.close()
    return DevnetProcess(process, info, log_path)


@dataclass
class Seed:
    """What the seeding created; addresses are checksummed."""

    main_source: str
    main_tasks: int
    snapshot_task: str
    publish_source: str
    long_source: str
    watch_sources: list[str]
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


class BenchChain:
    """Plain-web3 access to the devnet for seeding, checks and event generation."""

    def __init__(self, devnet: DevnetProcess) -> None:
        self.devnet = devnet
        self.provider = HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 300})
        self.w3 = Web3(self.provider)
        c = devnet.contracts
        self.nexus = self.w3.eth.contract(Web3.to_checksum_address(c["nexus"]), abi=_abi("Nexus"))
        self.controller = self.w3.eth.contract(
            Web3.to_checksum_address(c["controller"]), abi=_abi("Controller")
        )
        self.vault = self.w3.eth.contract(Web3.to_checksum_address(c["vault"]), abi=_abi("Vault"))
        self.source_abi = _abi("Source")
        self.admin: LocalAccount = Account.from_key(devnet.key("ADMIN[0]"))
        self.chain_id = devnet.chain_id
        self._nonce = -1
        self._gas_price = 0
        self._config_link = ""
        self._lock = threading.Lock()

    # -- low level ----------------------------------------------------------------------------

    def _signed(self, call: Any, gas: int, value: int = 0) -> str:
        tx = call.build_transaction(
            {
                "from": self.admin.address,
                "nonce": self._nonce,
                "gas": gas,
                "gasPrice": self._gas_price,
                "chainId": self.chain_id,
                "value": value,
            }
        )
        self._nonce += 1
        return "0x" + bytes(self.admin.sign_transaction(tx).raw_transaction).hex()

    def _sync(self) -> None:
        self._nonce = self.w3.eth.get_transaction_count(self.admin.address, "pending")
        self._gas_price = int(self.w3.eth.gas_price)

    def _batch(self, method: str, params: list[list[Any]]) -> list[dict[str, Any]]:
        answer: Any = self.provider.make_batch_request([(RPCEndpoint(method), p) for p in params])
        if not isinstance(answer, list):
            raise RuntimeError(f"batch {method} failed: {answer}")
        return [dict(item) for item in answer]

    def _send_batch(self, raws: list[str]) -> list[dict[str, Any]]:
        """Send signed transactions in one JSON-RPC batch, then fetch the receipts in another."""
        sent = self._batch("eth_sendRawTransaction", [[r] for r in raws])
        errors = [r["error"] for r in sent if "error" in r]
        if errors:
            raise RuntimeError(f"seeding transaction rejected: {errors[0]}")
        got = self._batch("eth_getTransactionReceipt", [[r["result"]] for r in sent])
        receipts = [r.get("result") for r in got]
        for receipt in receipts:
            if not receipt or int(receipt["status"], 16) != 1:
                raise RuntimeError(f"seeding transaction failed: {receipt}")
        return [dict(r) for r in receipts if r]

    def _logged(self, receipts: list[dict[str, Any]], signature: str) -> list[str]:
        topic = "0x" + bytes(Web3.keccak(text=signature)).hex()
        found: list[str] = []
        for receipt in receipts:
            for log in receipt["logs"]:
                if log["topics"] and log["topics"][0].lower() == topic:
                    found.append(Web3.to_checksum_address("0x" + log["data"][26:66]))
        return found

    def upload(self, body: dict[str, Any], name: str) -> str:
        answer = requests.post(
            self.devnet.store_url.rstrip("/") + "/file/create",
            files={"file": (name, json.dumps(body), "application/json")},
            timeout=30,
        )
        answer.raise_for_status()
        return str(answer.json()["link"])

    def _source_params(self, link: str) -> tuple[Any, ...]:
        return (self.admin.address, link, 1, PAYMENT, 0, 86400, False, "", 1, 0)

    def _task_call(self, source: str, tag: int) -> Any:
        expiry = int(time.time()) + 3600
        return self.controller.functions.publishTask((source, self._config_link, expiry, PAYMENT))

    # -- seeding ------------------------------------------------------------------------------

    def seed(self, *, main_tasks: int, watch_sources: int, clients: list[str]) -> Seed:
        """Fund the vault, publish the sources and ``main_tasks`` tasks on the main source."""
        started = time.perf_counter()
        with self._lock:
            self._sync()
            metadata = {"name": "bench", "description": "benchmark source", "cpu": "x"}
            meta_link = self.upload(metadata, "imageMetadata.json")
            self._config_link = self.upload(
                {"function_name": "bench", "data": {"seed": True}}, "taskConfig.json"
            )
            funded = [self.admin.address, *clients]
            raws = [self._signed(self.vault.functions.deposit(a), 200_000, DEPOSIT) for a in funded]
            self._send_batch(raws)
            publish = self.nexus.functions.publishSource(self._source_params(meta_link))
            source_gas = int(publish.estimate_gas({"from": self.admin.address}) * 1.3)
            total_sources = 3 + watch_sources
            raws = [self._signed(publish, source_gas) for _ in range(total_sources)]
            sources = self._logged(self._send_batch(raws), SOURCE_PUBLISHED)
            if len(sources) != total_sources:
                raise RuntimeError(f"expected {total_sources} sources, saw {len(sources)}")
            main, publish_target, long_source, *watched = sources
            task_gas = int(
                self._task_call(main, 0).estimate_gas({"from": self.admin.address}) * 1.3
            )
            self._task_gas = task_gas
            tasks: list[str] = []
            for lo in range(0, main_tasks, SEED_BATCH):
                batch = [
                    self._signed(self._task_call(main, i), task_gas)
                    for i in range(lo, min(lo + SEED_BATCH, main_tasks))
                ]
                tasks += self._logged(self._send_batch(batch), TASK_PUBLISHED)
        if len(tasks) != main_tasks or self.task_count(main) != main_tasks:
            raise RuntimeError(f"seeded {len(tasks)} tasks, expected {main_tasks}")
        return Seed(
            main_source=main,
            main_tasks=main_tasks,
            snapshot_task=tasks[0],
            publish_source=publish_target,
            long_source=long_source,
            watch_sources=watched,
            seconds=time.perf_counter() - started,
        )

    def seed_big_source(self, tasks: int) -> str:
        """A real Source whose task list holds ``tasks`` synthetic addresses (``ListBuilder``)."""
        art = json.loads(LIST_BUILDER.read_text())
        with self._lock:
            self._sync()
            self._gas_price *= 20  # blocks of 29M gas raise the base fee quickly
            constructor = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
            (deployed,) = self._send_batch([self._signed(constructor.constructor(), 10_000_000)])
            builder = self.w3.eth.contract(
                Web3.to_checksum_address(deployed["contractAddress"]), abi=art["abi"]
            )
            new = builder.functions.newSource(self._source_params("https://example.invalid/b"))
            source = str(new.call({"from": self.admin.address}))
            self._send_batch([self._signed(new, 8_000_000)])
            fill = [
                self._signed(
                    builder.functions.addTasks(source, 0x1000_0000 + i, min(1000, tasks - i)),
                    29_000_000,
                )
                for i in range(0, tasks, 1000)
            ]
            self._send_batch(fill)
        if self.task_count(source) != tasks:
            raise RuntimeError(f"seeded {self.task_count(source)} tasks, expected {tasks}")
        return source

    # -- checks -------------------------------------------------------------------------------

    def task_count(self, source: str) -> int:
        contract = self.w3.eth.contract(Web3.to_checksum_address(source), abi=self.source_abi)
        return int(contract.functions.getTaskCount().call())

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def mine_empty_block(self) -> int:
        """Mine an empty block (``evm_mine``) and return its number.

        Watchers start at this block: it holds no events, and it is not in the
        future (the devnet, unlike geth, refuses filters starting past the head).
        """
        answer = self.provider.make_request(RPCEndpoint("evm_mine"), [])
        if "error" in answer:
            raise RuntimeError(f"evm_mine failed: {answer['error']}")
        return self.block_number()

    def task_addresses(self, source: str) -> list[str]:
        contract = self.w3.eth.contract(Web3.to_checksum_address(source), abi=self.source_abi)
        count = contract.functions.getTaskCount().call()
        if count == 0:
            return []
        # Both bounds inclusive, from index 0 only (docs/MAINNET.md).
        return [str(a).lower() for a in contract.functions.getTasks(0, count - 1).call()]

    # -- event driver -------------------------------------------------------------------------

    def drive(self, sources: list[str], count: int) -> dict[str, float]:
        """Publish ``count`` tasks round-robin over ``sources``, one transaction at a time.

        Returns transaction hash (lower-case hex, no 0x) -> wall-clock time at which the
        devnet answered the send (it mines every transaction before answering).
        """
        mined: dict[str, float] = {}
        with self._lock:
            self._sync()
            for i in range(count):
                raw = self._signed(self._task_call(sources[i % len(sources)], i), self._task_gas)
                answer = self.provider.make_request(RPCEndpoint("eth_sendRawTransaction"), [raw])
                stamp = time.time()
                if "error" in answer:
                    raise RuntimeError(f"driver transaction rejected: {answer['error']}")
                mined[str(answer["result"]).lower().removeprefix("0x")] = stamp
        return mined
