"""Client workflows on sources: publish, update, inactivate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings.runtime import check_address

from ogpu._compat import ignore_extra
from ogpu.client._checks import check_source_info, read_source, require_active, require_owner
from ogpu.client._common import (
    DEFAULT_IPFS_TIMEOUT,
    DEFAULT_RECEIPT_TIMEOUT,
    Budget,
    choose_signer,
    positive_seconds,
    send,
    singleton,
    upload_json,
)
from ogpu.client._manifest import manifest_document
from ogpu.protocol import Source, nexus
from ogpu.types import Receipt, Role, SourceInfo, SourceNotFoundError

if TYPE_CHECKING:
    from ogpu.manifest import SourceManifest
    from ogpu.types import Signer

__all__ = ["inactivate_source", "publish_source", "update_source"]

_METADATA_FILE = "imageMetadata.json"


def _published_source(receipt: Receipt) -> str:
    event_type = nexus_abi.SourcePublishedEvent
    emitter = singleton("NEXUS").lower()
    for log in receipt.logs:
        if isinstance(log, event_type) and str(log.address).lower() == emitter:
            return str(log.source)
    raise SourceNotFoundError(
        message=f"transaction {receipt.tx_hash} emitted no SourcePublished event from Nexus",
        address="",
    )


def _metadata(
    info: SourceInfo, manifest: SourceManifest | dict[str, Any] | str | None
) -> dict[str, Any]:
    """The metadata JSON object, with the manifest under ``ogpu.manifest.METADATA_KEY``."""
    document = info.to_metadata().to_dict()
    attached = manifest_document(manifest)
    if attached is not None:
        from ogpu.manifest import METADATA_KEY

        document[METADATA_KEY] = attached
    return document


def publish_source(
    source_info: SourceInfo,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    ipfs_timeout: float = DEFAULT_IPFS_TIMEOUT,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    timeout: float | None = None,
    manifest: SourceManifest | dict[str, Any] | str | None = None,
    **_ignored: Any,
) -> Source:
    """Pin the source metadata, call ``Nexus.publishSource`` and return the new live ``Source``.

    The signer (``private_key=`` or ``signer=``, else ``CLIENT_PRIVATE_KEY``)
    becomes the source's owner. Everything is validated before the upload.
    ``manifest`` (a ``SourceManifest``, its JSON object or text; see
    ``ogpu.manifest``) is stored in the metadata under ``"ogpuManifest"``: tasks
    are then checked against it before they are paid. ``ipfs_timeout`` bounds the
    upload (retries included), ``receipt_timeout`` the wait for the receipt,
    ``timeout`` (optional) the whole call. Other keyword arguments are ignored
    with an ``IgnoredArgumentsWarning``.

    Cost: one upload (HTTP POST), one transaction (see ``TxExecutor.execute``).

    Raises:
        InvalidInputError subclasses: bad ``source_info`` (empty name, no image
            environment, bad URL or amount), timeouts, or a ``manifest`` that is not
            one (``InvalidManifestError``). Nothing is pinned or sent.
        MissingSignerError / InvalidSignerError: no usable key.
        IPFSUploadError: the metadata upload failed (nothing sent).
        TxError: ``timeout`` ran out before sending.
        ReceiptTimeoutError: no receipt in time (carries ``tx_hash``).
        TxRevertError subclasses, RPCError: the chain refused or the node failed.
    """
    ignore_extra("publish_source", _ignored)
    budget = Budget.of(timeout)
    ipfs_seconds = positive_seconds("ipfs_timeout", ipfs_timeout)
    receipt_seconds = positive_seconds("receipt_timeout", receipt_timeout)
    info = check_source_info(source_info)
    metadata = _metadata(info, manifest)
    account = choose_signer(private_key, signer, Role.CLIENT)
    url = upload_json(metadata, _METADATA_FILE, ipfs_seconds, budget)
    params = info.to_source_params(account.address, url).to_struct()
    request = nexus_abi.publish_source(singleton("NEXUS"), params)
    receipt = send(request, account, receipt_seconds, budget)
    return Source(_published_source(receipt))


def update_source(
    source: str | Source,
    new_info: SourceInfo,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    ipfs_timeout: float = DEFAULT_IPFS_TIMEOUT,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    timeout: float | None = None,
    manifest: SourceManifest | dict[str, Any] | str | None = None,
    **_ignored: Any,
) -> Receipt:
    """Replace a source's parameters through ``Nexus.updateSource`` (emits ``SourceUpdated``).

    ``source`` is an address or a ``Source``. The new metadata is pinned first;
    ``new_info`` carries every field, changed or not, and so does ``manifest``:
    the new metadata holds the manifest given here, or none (pass it again to
    keep tasks checked). Timeouts and extra keyword arguments as in
    ``publish_source``.

    Cost: one aggregated ``eth_call`` (checks), one upload, one transaction.

    Raises:
        InvalidInputError subclasses: bad address, ``new_info``, timeouts or manifest.
        SourceNotFoundError: the address is not a source (nothing pinned or sent).
        NotSourceOwnerError: the signer does not own the source (nothing pinned or sent).
        MissingSignerError / InvalidSignerError, IPFSUploadError, TxError,
        ReceiptTimeoutError, TxRevertError subclasses, RPCError: as ``publish_source``.
    """
    ignore_extra("update_source", _ignored)
    address = check_address(str(source), "source")
    budget = Budget.of(timeout)
    ipfs_seconds = positive_seconds("ipfs_timeout", ipfs_timeout)
    receipt_seconds = positive_seconds("receipt_timeout", receipt_timeout)
    info = check_source_info(new_info)
    metadata = _metadata(info, manifest)
    account = choose_signer(private_key, signer, Role.CLIENT)
    state = read_source(address)
    require_owner(state, account.address, ("Nexus", "updateSource"))
    url = upload_json(metadata, _METADATA_FILE, ipfs_seconds, budget)
    params = info.to_source_params(account.address, url).to_struct()
    request = nexus_abi.update_source(singleton("NEXUS"), address, params)
    return send(request, account, receipt_seconds, budget)


def inactivate_source(
    source: str | Source,
    private_key: Signer | None = None,
    *,
    signer: Signer | None = None,
    **_ignored: Any,
) -> Receipt:
    """Close a source (an address or a ``Source``) to new tasks through
    ``Nexus.inactivateSource`` (one-way). Extra keyword arguments as in ``publish_source``.

    Cost: one aggregated ``eth_call`` (checks), one transaction.

    Raises:
        InvalidAddressError: malformed address.
        SourceNotFoundError: the address is not a source (nothing sent).
        NotSourceOwnerError: the signer does not own the source (nothing sent).
        SourceInactiveError: already inactive (nothing sent).
        MissingSignerError / InvalidSignerError, TxRevertError subclasses, RPCError.
    """
    ignore_extra("inactivate_source", _ignored)
    address = check_address(str(source), "source")
    account = choose_signer(private_key, signer, Role.CLIENT)
    operation = ("Nexus", "inactivateSource")
    state = read_source(address)
    require_owner(state, account.address, operation)
    require_active(state, operation, "it is already closed to new tasks")
    return nexus.inactivate_source(address, signer=account)
