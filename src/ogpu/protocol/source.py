"""``Source``: live proxy to a Source contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings import source as source_abi

from ogpu.protocol import _bindings as b
from ogpu.protocol._common import transact
from ogpu.protocol._compat import official_names
from ogpu.protocol._instance import AddressBound
from ogpu.protocol._paging import ListGetter, Paging, read_list
from ogpu.types.enums import Environment, Role, SourceStatus
from ogpu.types.errors import InvalidEnumValueError, SourceNotFoundError
from ogpu.types.receipt import Receipt
from ogpu.types.snapshots import SourceSnapshot

if TYPE_CHECKING:
    from ogpu.manifest import SourceManifest
    from ogpu.protocol.task import Task
    from ogpu.types import Signer


class Source(AddressBound):
    """Live, stateless proxy to an on-chain Source; every getter is one ``eth_call``.

    ``Source(address)`` does no RPC; ``Source.load(address)`` checks the
    address holds a source. Reads raise ``SourceNotFoundError`` when the
    address turns out not to be a source, ``RPCError`` when the node fails.
    """

    __slots__ = ()

    def _missing(self) -> SourceNotFoundError:
        return SourceNotFoundError(
            message=f"no Source contract at {self.address}", address=self.address
        )

    @classmethod
    def load(cls, address: str, chain: object = None) -> Source:
        """Construct and probe the contract: ``getStatus()`` plus a view only this
        contract type has, aggregated in one ``eth_call``.

        Raises:
            SourceNotFoundError: the address does not answer like a source.
            InvalidAddressError: malformed address. RPCError: the node failed.
        """
        source = cls(address, chain)
        b.read_many(
            [
                source_abi.get_status_call(source.address),
                source_abi.get_registrant_count_call(source.address),
            ],
            not_found=source._missing,
        )
        return source

    def get_client(self) -> str:
        """Owner (publishing client) of the source."""
        return str(b.read(source_abi.get_client_call(self.address), not_found=self._missing))

    def get_status(self) -> SourceStatus:
        """``ACTIVE`` or ``INACTIVE``."""
        status = b.read(source_abi.get_status_call(self.address), not_found=self._missing)
        return SourceStatus(status)

    def get_params(self) -> SourceParams:
        """The on-chain ``SourceParams`` (no IPFS)."""
        from ogpu.types.params import SourceParams

        found = b.read(source_abi.get_source_params_call(self.address), not_found=self._missing)
        return SourceParams.from_struct(found)

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

    def get_task_count(self) -> int:
        """Number of tasks ever published against the source."""
        return int(b.read(source_abi.get_task_count_call(self.address), not_found=self._missing))

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

        getter = ListGetter(
            count=source_abi.get_task_count_call(self.address),
            chunk=lambda lo, hi: source_abi.get_tasks_call(self.address, lo, hi),
            paging=Paging.FROM_ZERO,
            item=lambda i: source_abi.tasks_call(self.address, i),
            skip_zero=True,
            not_found=self._missing,
        )
        return [Task(a, self.chain) for a in read_list(getter, lower, upper)]

    def get_registrant_count(self) -> int:
        """Number of providers registered to the source."""
        return int(
            b.read(source_abi.get_registrant_count_call(self.address), not_found=self._missing)
        )

    def get_registrants(self, lower: int = 0, upper: int | None = None) -> list[str]:
        """Registered provider addresses in ``[lower, upper)`` (``upper=None``: all).

        Read like ``get_tasks`` (``getRegistrants`` pages from index 0 only).

        Raises:
            InvalidAmountError: bad bounds. SourceNotFoundError: not a source.
            RPCError: the node failed.
        """
        getter = ListGetter(
            count=source_abi.get_registrant_count_call(self.address),
            chunk=lambda lo, hi: source_abi.get_registrants_call(self.address, lo, hi),
            paging=Paging.FROM_ZERO,
            item=lambda i: source_abi.registrants_call(self.address, i),
            skip_zero=True,
            not_found=self._missing,
        )
        return [str(a) for a in read_list(getter, lower, upper)]

    def get_registrant_id(self, provider: str) -> int:
        """1-based registrant slot of ``provider``, 0 when not registered."""
        call = source_abi.get_registrant_id_call(self.address, provider)
        return int(b.read(call, not_found=self._missing))

    def get_preferred_environment_of(self, provider: str) -> Environment:
        """Environment ``provider`` registered with (``Environment(0)`` when not registered)."""
        call = source_abi.preferred_environment_of_call(self.address, provider)
        return Environment(b.read(call, not_found=self._missing))

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

    def set_params(self, params: SourceParams, *, signer: Signer | None = None) -> Receipt:
        """Update the parameters through ``Nexus.updateSource`` (emits ``SourceUpdated``).

        Raises:
            NotSourceOwnerError, SourceInactiveError, MissingSignerError / InvalidSignerError,
            InvalidInputError subclasses.
        """
        from ogpu.types.params import source_struct

        return transact(
            lambda: nexus_abi.update_source(
                b.singleton("NEXUS"), self.address, source_struct(params)
            ),
            signer,
            Role.CLIENT,
        )

    def inactivate(self, *, signer: Signer | None = None) -> Receipt:
        """Inactivate through ``Nexus.inactivateSource`` (one-way).

        Raises:
            NotSourceOwnerError, SourceInactiveError, MissingSignerError / InvalidSignerError.
        """
        return transact(
            lambda: nexus_abi.inactivate_source(b.singleton("NEXUS"), self.address),
            signer,
            Role.CLIENT,
        )

    def snapshot(self) -> SourceSnapshot:
        """Every non-paginated field, read from one block in ONE ``eth_call``.

        The reads are aggregated by ``ogpu.chain.multicall`` (a deployless
        multicall), not sent as several requests.

        Raises:
            SourceNotFoundError: not a source. RPCError: the node failed.
        """
        block, (client, status, params, tasks, registrants) = b.read_many(
            [
                source_abi.get_client_call(self.address),
                source_abi.get_status_call(self.address),
                source_abi.get_source_params_call(self.address),
                source_abi.get_task_count_call(self.address),
                source_abi.get_registrant_count_call(self.address),
            ],
            not_found=self._missing,
        )
        from ogpu.types.params import SourceParams, from_decoded

        return SourceSnapshot(
            address=self.address,
            client=str(client),
            status=SourceStatus(status),
            params=from_decoded(SourceParams, params),
            task_count=int(tasks),
            registrant_count=int(registrants),
            block_number=block,
        )


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.ipfs.fetch import fetch_ipfs_json as fetch_ipfs_json
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.types.params import SourceParams as SourceParams
else:
    __getattr__, __dir__ = official_names(
        __name__, globals(), "SourceParams", "fetch_ipfs_json", "load_contract", "resolve_signer"
    )
