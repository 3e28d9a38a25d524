"""``Source``: live proxy to a Source contract.

Its getters, ``load`` and the Nexus calls taking its address are generated
(``ogpu_bindings.protocol.source``, from ``abis/protocol.json``); the lists, the
metadata, the status check and the snapshot are here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ogpu_bindings import source as source_abi
from ogpu_bindings.protocol.source import SourceBase

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.protocol._common import transact
from ogpu.protocol._paging import ListGetter, Paging, read_list
from ogpu.types.enums import Role, SourceStatus
from ogpu.types.errors import InvalidEnumValueError
from ogpu.types.snapshots import SourceSnapshot

if TYPE_CHECKING:
    from ogpu_bindings.runtime import ContractCall

    from ogpu.manifest import SourceManifest
    from ogpu.protocol.task import Task
    from ogpu.types import Signer


class Source(SourceBase):
    """Live, stateless proxy to an on-chain Source; every getter is one ``eth_call``.

    ``Source(address)`` does no RPC; ``Source.load(address)`` checks the
    address holds a source. Reads raise ``SourceNotFoundError`` when the
    address turns out not to be a source, ``RPCError`` when the node fails.
    """

    __slots__ = ()

    def get_metadata(self) -> dict[str, Any]:
        """Fetch the metadata JSON at ``imageMetadataUrl``. One ``eth_call`` + one HTTP GET.

        Raises:
            IPFSFetchError: network error, timeout or invalid JSON.
            IPFSGatewayError: the gateway answered non-200.
        """
        from ogpu.ipfs import fetch_ipfs_json

        return fetch_ipfs_json(self.get_params().imageMetadataUrl)

    def get_manifest(self, *, timeout: float | None = None) -> SourceManifest | None:
        """The source's manifest (``ogpu.manifest``), or None when its metadata has none.

        Cost: one ``eth_call`` (the metadata URL), plus one HTTP GET the first time this
        source and metadata URL are seen (cached; an update's new URL is fetched anew).
        ``timeout`` bounds the GET, retries included (default 30 s).

        Raises:
            IPFSFetchError / IPFSGatewayError: the metadata could not be read.
            InvalidManifestError: the metadata holds a malformed manifest.
        """
        from ogpu.manifest import read_manifest

        return read_manifest(self.address, self.get_params().imageMetadataUrl, timeout=timeout)

    def get_tasks(self, lower: int = 0, upper: int | None = None) -> list[Task]:
        """Tasks in ``[lower, upper)`` (``upper=None``: all) as ``Task`` instances.

        ``getTasks`` pages from index 0 only (docs/MAINNET.md), so the list up to
        ``upper`` is read in one call and sliced; past ``_paging.SINGLE_CALL_ITEMS``
        tasks, or over the node's ``eth_call`` gas cap, index by index. Two requests
        (count, list), one when the range is empty, none when ``lower == upper``.

        Raises:
            InvalidAmountError: bad bounds. SourceNotFoundError: not a source.
            RPCError: the node failed.
        """
        from ogpu.protocol.task import Task

        tasks = self._from_zero(
            source_abi.get_task_count_call, source_abi.get_tasks_call, source_abi.tasks_call
        )
        return Task._decoded(read_list(tasks, lower, upper), self.chain)

    def get_registrants(self, lower: int = 0, upper: int | None = None) -> list[str]:
        """Registered provider addresses in ``[lower, upper)`` (``upper=None``: all).

        Read like ``get_tasks`` (``getRegistrants`` pages from index 0 only).

        Raises:
            InvalidAmountError: bad bounds. SourceNotFoundError: not a source.
            RPCError: the node failed.
        """
        registrants = self._from_zero(
            source_abi.get_registrant_count_call,
            source_abi.get_registrants_call,
            source_abi.registrants_call,
        )
        return read_list(registrants, lower, upper)

    def _from_zero(
        self,
        count: Callable[[str], ContractCall[int]],
        chunk: Callable[[str, int, int], ContractCall[list[str]]],
        item: Callable[[str, int], ContractCall[str]],
    ) -> ListGetter[str]:
        """An address list whose range getter pages from index 0 only (docs/MAINNET.md)."""
        return ListGetter(
            count=count(self.address),
            chunk=lambda lo, hi: chunk(self.address, lo, hi),
            paging=Paging.FROM_ZERO,
            item=lambda i: item(self.address, i),
            skip_zero=True,
            not_found=self._missing,
        )

    def set_status(self, status: SourceStatus, *, signer: Signer | None = None) -> Receipt:
        """Call ``Source.setStatus(status)`` as the owner (only ``INACTIVE`` is accepted on chain).

        Raises:
            InvalidEnumValueError: ``status`` is not a ``SourceStatus`` (before any RPC).
            NotSourceOwnerError: the signer does not own the source.
            SourceInactiveError: already inactive.
            MissingSignerError / InvalidSignerError (``CLIENT_PRIVATE_KEY``).
        """

        def build() -> Any:
            try:
                value = SourceStatus(status)
            except ValueError:
                raise InvalidEnumValueError(
                    f"status must be a SourceStatus, got {status!r}",
                    param="status",
                    enum_name="SourceStatus",
                ) from None
            return source_abi.set_status(self.address, value)

        return transact(build, signer, Role.CLIENT)

    def snapshot(self) -> SourceSnapshot:
        """Every non-paginated field, read from one block in ONE ``eth_call``.

        The reads are aggregated by ``ogpu.chain.multicall`` (a deployless
        multicall), not sent as several requests.

        Raises:
            SourceNotFoundError: not a source. RPCError: the node failed.
        """
        from ogpu.types.params import SourceParams, from_decoded

        fields = b.read_fields(self._snapshot_calls(), not_found=self._missing)
        fields["params"] = from_decoded(SourceParams, fields["params"])
        return SourceSnapshot(address=self.address, **fields)


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.ipfs.fetch import fetch_ipfs_json as fetch_ipfs_json
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.types.enums import Environment as Environment
    from ogpu.types.errors import SourceNotFoundError as SourceNotFoundError
    from ogpu.types.params import SourceParams as SourceParams
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
