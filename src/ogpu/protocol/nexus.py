"""Nexus: sources, provider registrations and attempts.

Writes cost one transaction (see ``TxExecutor.execute``); reads one
``eth_call`` unless noted. Invalid arguments raise ``InvalidInputError``
subclasses before any RPC.

The functions that are one Nexus call are generated from ``abis/protocol.json``
(``ogpu_bindings.protocol.nexus``); the list read and the receipt helper are here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import nexus as nexus_abi
from ogpu_bindings.protocol import nexus as _generated
from ogpu_bindings.protocol.nexus import *  # noqa: F403 (the functions, listed in its __all__)

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.protocol._paging import ListGetter, Paging, read_list
from ogpu.types.errors import SourceNotFoundError
from ogpu.types.receipt import receipt_arg

if TYPE_CHECKING:
    from ogpu.protocol.source import Source

__all__ = [*_generated.__all__, "extract_source_address", "get_sources"]


def get_sources(lower: int = 0, upper: int | None = None) -> list[Source]:
    """Published sources in ``[lower, upper)`` (``upper=None``: all), as ``Source`` instances.

    How ``getSources`` pages on mainnet is not recorded (docs/MAINNET.md): its bounds
    are read correctly whether inclusive or half-open, never asking past the end; the
    first read on a Web3 learns which, at no extra cost (one more request when the list
    is half-open and read to its end). Two requests (count, chunks of 100 at once).

    Raises:
        InvalidAmountError: bad bounds. RPCError: the node failed.
    """
    from ogpu.protocol.source import Source

    address = b.singleton("NEXUS")
    getter = ListGetter(
        count=nexus_abi.get_source_count_call(address),
        chunk=lambda lo, hi: nexus_abi.get_sources_call(address, lo, hi),
        paging=Paging.EITHER,
        skip_zero=True,
    )
    return [Source(a) for a in read_list(getter, lower, upper)]


def extract_source_address(receipt: Receipt) -> str:
    """Address of the source a ``publish_source`` receipt created. No RPC.

    Raises:
        SourceNotFoundError: the receipt has no ``SourcePublished`` event.
        InvalidReceiptError: ``receipt`` is no Receipt.
    """
    for log in receipt_arg(receipt).logs:
        if isinstance(log, nexus_abi.SourcePublishedEvent):
            return log.source
    raise SourceNotFoundError(
        message=f"transaction {receipt.tx_hash} published no source", address=""
    )


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.types.enums import Role as Role
    from ogpu.types.params import SourceParams as SourceParams
    from ogpu.types.receipt import Receipt as Receipt
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
