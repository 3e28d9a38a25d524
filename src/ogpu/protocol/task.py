"""``Task``: live proxy to a Task contract.

Its getters, ``load`` and ``cancel`` are generated (``ogpu_bindings.protocol.task``, from
``abis/protocol.json``); the lists, what derives from the getters and the snapshot are here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ogpu_bindings import response as response_abi
from ogpu_bindings import task as task_abi
from ogpu_bindings.protocol.task import TaskBase
from ogpu_bindings.runtime import ContractCall

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.protocol._common import task_params
from ogpu.protocol._paging import ListGetter, Paging, read_list
from ogpu.types.errors import InvalidParamsError
from ogpu.types.snapshots import TaskSnapshot

T = TypeVar("T")

if TYPE_CHECKING:
    from ogpu.protocol.response import Response
    from ogpu.protocol.source import Source


class Task(TaskBase):
    """Live, stateless proxy to an on-chain Task; every getter is one ``eth_call``.

    ``Task(address)`` does no RPC; ``Task.load(address)`` checks the address
    holds a task. Reads raise ``TaskNotFoundError`` when it does not,
    ``RPCError`` when the node fails.
    """

    __slots__ = ()

    def get_source(self) -> Source:
        """The parent source, as a ``Source``."""
        from ogpu.protocol.source import Source

        return Source(str(self._read(task_abi.get_source_call(self.address))), self.chain)

    def get_metadata(self) -> dict[str, Any]:
        """Fetch the task config JSON at ``TaskParams.config``. One ``eth_call`` + one HTTP GET.

        Raises:
            IPFSFetchError / IPFSGatewayError: the fetch failed.
        """
        from ogpu.ipfs import fetch_ipfs_json

        return fetch_ipfs_json(self.get_params().config)

    def get_attempters(self, lower: int = 0, upper: int | None = None) -> list[str]:
        """Attempting providers in ``[lower, upper)`` (``upper=None``: all).

        Two requests (count, then every chunk of 100 at once), one when the range is
        empty, none when ``lower == upper``.

        Raises:
            InvalidAmountError: bad bounds. RPCError: the node failed.
        """
        return [
            str(a)
            for a in read_list(self._attempt_list(task_abi.get_attempters_call), lower, upper)
        ]

    def get_attempt_timestamps(self, lower: int = 0, upper: int | None = None) -> list[int]:
        """Attempt times, index-aligned with ``get_attempters``; costs as ``get_attempters``.

        Raises:
            InvalidAmountError: bad bounds. RPCError: the node failed.
        """
        getter = self._attempt_list(task_abi.get_attempt_timestamps_call, skip_zero=False)
        return [int(t) for t in read_list(getter, lower, upper)]

    def get_responses(self, lower: int = 0, upper: int | None = None) -> list[Response]:
        """Responses of the attempters in slots ``[lower, upper)`` (``upper=None``: all).

        ``getResponsesOf`` lists, per attempter slot, its response or the zero address
        (docs/MAINNET.md), so the bounds count attempters, as in official 0.2.3, and
        attempters without a response are skipped. Costs as ``get_attempters``.

        Raises:
            InvalidAmountError: bad bounds. RPCError: the node failed.
        """
        from ogpu.protocol.response import Response

        found = read_list(self._attempt_list(task_abi.get_responses_of_call), lower, upper)
        return [Response(a, self.chain) for a in found]

    def get_response_of(self, provider: str) -> Response | None:
        """The response ``provider`` submitted for this task (``Task.responseOf``), or None.

        Raises:
            InvalidAddressError: malformed ``provider`` (before any RPC).
        """
        from ogpu.protocol.response import Response

        who = b.checksum(provider, "provider")
        found = str(self._read(task_abi.response_of_call(self.address, who)))
        return None if found == b.ZERO_ADDRESS else Response(found, self.chain)

    def _attempt_list(
        self, chunk: Callable[[str, int, int], ContractCall[list[T]]], *, skip_zero: bool = True
    ) -> ListGetter[T]:
        """A list indexed by attempter slot (inclusive paging, docs/MAINNET.md)."""
        return ListGetter(
            count=task_abi.get_attempt_count_call(self.address),
            chunk=lambda lo, hi: chunk(self.address, lo, hi),
            paging=Paging.INCLUSIVE,
            skip_zero=skip_zero,
            not_found=self._missing,
        )

    def get_confirmed_response(self) -> Response | None:
        """The confirmed response, or None. Two requests (list, then all statuses at once)."""
        responses = self.get_responses()
        if not responses:
            return None
        _, flags = b.read_many([response_abi.confirmed_final_call(r.address) for r in responses])
        for response, confirmed in zip(responses, flags, strict=True):
            if confirmed:
                return response
        return None

    def get_winning_provider(self) -> str | None:
        """Provider whose response was confirmed, or None before finalization."""
        winner = str(self._read(task_abi.winning_provider_call(self.address)))
        return None if winner == b.ZERO_ADDRESS else winner

    def is_already_submitted(self, hash_bytes: bytes) -> bool:
        """Whether a response with this 32-byte data hash was submitted.

        Raises:
            InvalidParamsError: ``hash_bytes`` is not 32 bytes (before any RPC).
        """
        if not isinstance(hash_bytes, (bytes, bytearray)) or len(hash_bytes) != 32:
            raise InvalidParamsError("hash_bytes must be 32 bytes", param="hash_bytes")
        return bool(self._read(task_abi.is_already_submitted_call(self.address, bytes(hash_bytes))))

    def snapshot(self) -> TaskSnapshot:
        """Every non-paginated field, read from one block in ONE ``eth_call``.

        The eight reads run inside a single ``eth_call`` (``ogpu.chain.multicall``:
        init code that STATICCALLs each getter; nothing is deployed), so they
        share one block's state by construction and cost one HTTP request. A
        JSON-RPC batch would not do: nodes do not evaluate batches atomically,
        and pinning every call to one explicit block needs the block number
        first (a second round trip).

        Raises:
            TaskNotFoundError: not a task. RPCError: the node failed.
        """
        fields = b.read_fields(self._snapshot_calls(), not_found=self._missing)
        fields["params"] = task_params(fields["params"])
        if fields["winning_provider"] == b.ZERO_ADDRESS:
            fields["winning_provider"] = None
        return TaskSnapshot(address=self.address, **fields)


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.ipfs.fetch import fetch_ipfs_json as fetch_ipfs_json
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._bindings import ZERO_ADDRESS as ZERO_ADDRESS
    from ogpu.types.enums import DeliveryMethod as DeliveryMethod
    from ogpu.types.enums import TaskStatus as TaskStatus
    from ogpu.types.errors import TaskNotFoundError as TaskNotFoundError
    from ogpu.types.params import TaskParams as TaskParams
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
