"""The blocking steps of one task in :class:`~ogpu.provider.runtime.ProviderRuntime`.

Each step is bounded by wall clock: reads and the config fetch by ``fetch_timeout``
(one budget for both), the ``/run`` request by ``dispatch_timeout``, the service
health probe by ``service_ready_timeout``; transactions by the executor's receipt
timeout; the pin by ``ogpu.ipfs``'s default budget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ogpu_bindings import nexus as nexus_abi

from ogpu import agent, net
from ogpu._routing import function_name_problem
from ogpu.chain import ChainConfig, Web3Manager, rpc
from ogpu.ipfs import fetch_ipfs_json, publish_to_ipfs
from ogpu.protocol import Task, execute_request, nexus
from ogpu.provider.callback import CallbackResult
from ogpu.provider.settings import ProviderRuntimeError, RuntimeSettings
from ogpu.types import ResponseParams, RPCError, TaskStatus
from ogpu.types.snapshots import TaskSnapshot

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["Prepared", "Steps"]

_OPEN = (TaskStatus.NEW, TaskStatus.ATTEMPTED)


@dataclass(frozen=True)
class Prepared:
    """A task worth running: its snapshot and the call its config asks for."""

    snapshot: TaskSnapshot
    function: str
    data: dict[str, Any]


def task_config(config: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(config, Mapping):
        raise ProviderRuntimeError("the task config is not a JSON object")
    function = config.get("function_name")
    problem = function_name_problem(function)
    if problem is not None or not isinstance(function, str):
        raise ProviderRuntimeError(f"the task config cannot be dispatched: {problem}")
    data = config.get("data", {})
    if not isinstance(data, Mapping):
        raise ProviderRuntimeError("the task config's data is not a JSON object")
    return function, dict(data)


def failure_text(result: CallbackResult) -> str:
    body = result.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        return str(body["error"])
    return f"the handler reported {result.status}"


class Steps:
    """The provider's side of one task, step by step (blocking; run on a thread pool)."""

    def __init__(
        self, settings: RuntimeSettings, provider: LocalAccount, scheduler: LocalAccount
    ) -> None:
        self.settings = settings
        self._provider = provider
        self._scheduler = scheduler

    @property
    def provider_address(self) -> str:
        return str(self._provider.address)

    def prepare(self, task: str) -> Prepared | str:
        """Read the task and fetch its config, within ``fetch_timeout`` in all. Returns
        what to run, or why the task is skipped. Cost: one aggregated ``eth_call``, one
        bounded GET (no RPC)."""
        budget = net.Budget.after(self.settings.fetch_timeout)
        with budget.scope():
            snapshot = Task(task).snapshot()
        if snapshot.status not in _OPEN:
            return f"task is {snapshot.status.name}"
        if snapshot.expiry_time <= time.time():
            return "task expired"
        config = fetch_ipfs_json(
            snapshot.params.config,
            timeout=max(budget.remaining(), 0.001),
            allow=self.settings.fetch_allow,
            budget=budget,
        )
        function, data = task_config(config)
        return Prepared(snapshot, function, data)

    def attempted(self, task: str) -> bool:
        """Whether ``task`` was already attempted for this provider. One ``eth_call``."""
        return bool(Task(task).get_attempter_id(self.provider_address))

    def attempt(self, task: str, payment: int) -> str:
        """Attempt ``task``; return the transaction hash. One transaction."""
        if self._scheduler is self._provider:
            receipt = nexus.attempt(task, self.provider_address, payment, signer=self._provider)
        else:
            receipt = agent.attempt(task, self.provider_address, payment, signer=self._scheduler)
        return receipt.tx_hash

    def dispatch(self, function: str, ticket: str, data: dict[str, Any]) -> int:
        """``POST {service_url}/run/{function}/{ticket}``; the status code (2xx).
        At most ``dispatch_timeout`` seconds whatever the service does."""
        url = f"{self.settings.service_url}/run/{function}/{ticket}"
        seconds = self.settings.dispatch_timeout
        try:
            answer = net.request(
                "POST",
                url,
                body=json.dumps(data).encode("utf-8"),
                headers={"Content-Type": "application/json"},
                timeout=net.Timeout(connect=min(5.0, seconds), read=seconds, total=seconds),
                max_bytes=1024 * 1024,
            )
        except net.NetError as exc:
            cause = exc.message.split(": ", 1)[-1]
            raise ProviderRuntimeError(f"cannot reach the source service: {cause}") from exc
        if not 200 <= answer.status < 300:
            detail = answer.body[:300].decode("utf-8", "replace").replace("\n", " ")
            raise ProviderRuntimeError(
                f"the source service refused /run/{function}: {answer.status} {detail}"
            )
        return answer.status

    def head(self) -> int:
        """The chain's head block number. One ``eth_blockNumber``.

        Raises:
            RPCError: the node failed.
        """
        try:
            return rpc.to_int(rpc.request(Web3Manager.get_endpoint(), "eth_blockNumber", []))
        except (rpc.NodeError, rpc.TransportError) as exc:
            raise RPCError(
                f"RPC eth_blockNumber failed: {exc}", method="eth_blockNumber", cause=str(exc)
            ) from None

    def wait_for_service(self) -> None:
        """Poll ``GET /health`` until the service answers, up to ``service_ready_timeout``.

        Raises:
            ProviderRuntimeError: it did not.
        """
        deadline = time.monotonic() + self.settings.service_ready_timeout
        while True:
            last = self.service_ready()
            if last is None:
                return
            if time.monotonic() >= deadline:
                raise ProviderRuntimeError(
                    f"the source service at {self.settings.service_url} is not ready after "
                    f"{self.settings.service_ready_timeout:g}s ({last})"
                )
            time.sleep(0.1)

    def service_ready(self) -> str | None:
        """None when ``GET {service_url}/health`` answers (anything but 503), else why
        not. At most 5 s."""
        try:
            answer = net.request(
                "GET",
                f"{self.settings.service_url}/health",
                timeout=net.Timeout(connect=5.0, read=5.0, total=5.0),
                max_bytes=64 * 1024,
            )
        except net.NetError as exc:
            return type(exc).__name__
        return None if answer.status != 503 else "503 (still initialising)"

    def pin(self, body: Any) -> str:
        """Pin the result JSON; return its URL. One HTTP POST per attempt."""
        try:
            content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ProviderRuntimeError(f"the result is not serialisable JSON: {exc}") from None
        return publish_to_ipfs(
            content.encode("utf-8"),
            filename="response.json",
            content_type="application/json",
            backend=self.settings.ipfs_backend,
        )

    def submit(self, task: str, url: str, payment: int) -> tuple[str, str]:
        """Submit the response; return (response address, tx hash). One transaction."""
        params = ResponseParams(
            task=task, provider=self.provider_address, data=url, payment=int(payment)
        )
        request = nexus_abi.submit_response(ChainConfig.get_contract_address("NEXUS"), params)
        receipt = execute_request(request, self._provider)
        for log in receipt.logs:
            if isinstance(log, nexus_abi.ResponseSubmittedEvent):
                return str(log.response), receipt.tx_hash
        raise ProviderRuntimeError(f"transaction {receipt.tx_hash} submitted no response")
