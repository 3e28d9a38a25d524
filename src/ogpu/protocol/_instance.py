"""Base of the address-bound instance classes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from ogpu.protocol import _bindings as b

_Bound = TypeVar("_Bound", bound="AddressBound")


class AddressBound:
    """Holds only a checksummed ``address`` and an optional ``chain``; no cached state.

    Equality and hashing use the address case-insensitively (and the class),
    so instances work as dict keys and in sets. ``repr``/``str`` do no I/O.
    ``chain`` is stored for callers that track it; reads and writes use the
    chain active in ``ChainConfig``.
    """

    __slots__ = ("address", "chain")

    def __init__(self, address: str, chain: object = None) -> None:
        """Bind to ``address`` (checksummed; no RPC).

        Raises:
            InvalidAddressError: ``address`` is not a valid address.
        """
        self.address: str = b.checksum(address, "address")
        self.chain: object = chain

    @classmethod
    def _decoded(cls: type[_Bound], addresses: Iterable[str], chain: object = None) -> list[_Bound]:
        """Instances for addresses the ABI decoder already checked and checksummed
        (``ogpu_bindings.runtime.as_address``), without checking each a second time:
        a list of 3,000 tasks spent half its client CPU there. No RPC, raises nothing."""
        out = []
        for address in addresses:
            item = cls.__new__(cls)
            item.address = address
            item.chain = chain
            out.append(item)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AddressBound) or type(other) is not type(self):
            return NotImplemented
        return self.address.lower() == other.address.lower()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.address.lower()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address!r})"

    def __str__(self) -> str:
        return self.address

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.address, self.chain))
