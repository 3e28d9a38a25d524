"""The SDK's process state in one object, and scoped overrides of it.

A :class:`Context` holds what the official SDK spreads over class variables: the
active chain, the RPC URL and singleton addresses of each chain, the pinned and
cached ``Web3`` instances, the JSON-RPC transports and the nonce book.
``ChainConfig``, ``Web3Manager`` and ``NonceManager`` are facades over :func:`current`.

One root context serves the whole process. ``with using(chain=..., rpc=...):``
gives the calling thread (or asyncio task) a copy of the current context with the
overrides; changes made inside the block (``ChainConfig.set_chain``...) stay in
it, other threads do not see it, and leaving the block restores what was there.
A thread started inside a block starts from the root context unless its target
is wrapped with :func:`carry` (the SDK's own worker threads are). :func:`reset`
puts the root back to the built-in defaults, for tests.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from ogpu_bindings.runtime import check_address

from ogpu.chain.networks import (
    DEFAULT_RPC_URLS,
    SINGLETONS,
    ChainId,
    coerce_chain,
    default_contracts,
)
from ogpu.types.errors import (
    ChainNotSupportedError,
    InvalidInputError,
    InvalidRpcUrlError,
    shown,
)

if TYPE_CHECKING:
    from web3 import Web3

    from ogpu.chain.transport import HttpTransport, TransportKey

__all__ = [
    "Context",
    "NonceBook",
    "NonceSlot",
    "carry",
    "check_rpc_url",
    "current",
    "normalize_contracts",
    "reset",
    "using",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass
class NonceSlot:
    """One account's nonce state on one chain."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    next_nonce: int | None = None
    released: set[int] = field(default_factory=set)

    def load(self, next_nonce: int | None) -> None:
        """Set the next nonce (None: read it on next use), forgetting released ones; the
        caller holds ``lock``. No I/O."""
        self.next_nonce = next_nonce
        self.released.clear()


class NonceBook:
    """Nonce slots per (chain id, checksummed address); thread-safe."""

    def __init__(self) -> None:
        self._slots: dict[tuple[int, str], NonceSlot] = {}
        self._lock = threading.Lock()

    def slot(self, chain_id: int, address: str) -> NonceSlot:
        """The slot of an account (``address`` already checksummed), created on first use."""
        key = (int(chain_id), address)
        with self._lock:
            found = self._slots.get(key)
            if found is None:
                found = self._slots[key] = NonceSlot()
            return found

    def slots(self) -> list[NonceSlot]:
        """Every slot so far."""
        with self._lock:
            return list(self._slots.values())


@dataclass(eq=False)
class Context:
    """The SDK's mutable state; change it through the facades (``ChainConfig``...)."""

    chain: ChainId = ChainId.OGPU_MAINNET
    rpc_urls: dict[ChainId, str] = field(default_factory=lambda: dict(DEFAULT_RPC_URLS))
    contracts: dict[ChainId, dict[str, str]] = field(default_factory=default_contracts)
    #: Web3 instances pinned per chain (an in-process provider), used instead of the URL.
    pinned: dict[ChainId, Web3] = field(default_factory=dict)
    #: Web3 instances built per (chain, RPC URL).
    web3s: dict[tuple[ChainId, str], Web3] = field(default_factory=dict)
    #: The web3-free JSON-RPC transports (connection pools) built per endpoint.
    transports: dict[TransportKey, HttpTransport] = field(default_factory=dict)
    nonces: NonceBook = field(default_factory=NonceBook)
    #: The devnet content store registered by ``connect_devnet(store_url=...)``.
    ipfs_store: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def child(self, *, own_nonces: bool) -> Context:
        """A copy whose tables can change without touching this one; the Web3 and
        transport caches are shared (their keys name the endpoint), the nonce book too
        unless ``own_nonces``."""
        with self.lock:
            return Context(
                chain=self.chain,
                rpc_urls=dict(self.rpc_urls),
                contracts={chain: dict(table) for chain, table in self.contracts.items()},
                pinned=dict(self.pinned),
                web3s=self.web3s,
                transports=self.transports,
                nonces=NonceBook() if own_nonces else self.nonces,
                ipfs_store=self.ipfs_store,
            )

    def restore_defaults(self) -> None:
        """Put every field back to the built-in defaults, in place."""
        fresh = Context()
        with self.lock:
            for name in (f.name for f in fields(self) if f.name != "lock"):
                setattr(self, name, getattr(fresh, name))


_ROOT = Context()
_SCOPE: contextvars.ContextVar[Context | None] = contextvars.ContextVar("ogpu_scope", default=None)


def current() -> Context:
    """The context in force here: the innermost ``using`` block's, else the root. No I/O."""
    scoped = _SCOPE.get()
    return _ROOT if scoped is None else scoped


def normalize_contracts(source: object) -> dict[str, str]:
    """The four singleton addresses, checksummed, from a mapping (keys ``NEXUS`` or
    ``nexus``...) or an object with ``nexus``... attributes (a devnet ``Deployment``). No I/O.

    Raises:
        InvalidInputError: a singleton is missing or an address is malformed.
    """
    table: dict[str, str] = {}
    for name in SINGLETONS:
        if isinstance(source, Mapping):
            value = source.get(name, source.get(name.lower()))
        else:
            value = getattr(source, name.lower(), None)
            value = value if isinstance(value, str) else None
        if value is None:
            raise InvalidInputError(f"{name} address missing", param=name.lower())
        table[name] = check_address(value, name.lower())
    return table


def check_rpc_url(url: object) -> str:
    """``url`` if it is an http(s) URL. No I/O.

    Raises:
        InvalidRpcUrlError: anything else.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidRpcUrlError(message=f"RPC URL must be an http(s) URL, got {shown(url)}")
    return url


def _scoped(
    chain: ChainId | int | None,
    rpc: str | None,
    web3: Web3 | None,
    contracts: object,
) -> Context:
    parent = current()
    target = parent.chain if chain is None else coerce_chain(chain)
    if rpc is not None:
        check_rpc_url(rpc)
    table = None if contracts is None else normalize_contracts(contracts)
    scope = parent.child(own_nonces=rpc is not None or web3 is not None)
    if table is not None:
        scope.contracts[target] = table
    if target not in scope.contracts:
        raise ChainNotSupportedError(message=f"{target.name} has no contract addresses")
    scope.chain = target
    if rpc is not None:
        scope.rpc_urls[target] = rpc
        scope.pinned.pop(target, None)
    if web3 is not None:
        scope.pinned[target] = web3
    return scope


@contextlib.contextmanager
def using(
    chain: ChainId | int | None = None,
    *,
    rpc: str | None = None,
    web3: Web3 | None = None,
    contracts: object = None,
) -> Iterator[Context]:
    """Run a block on ``chain`` (default: the current one) with overrides, for this
    thread or asyncio task only. No RPC.

    ``rpc`` is the chain's RPC URL inside the block, ``web3`` a Web3 to use instead
    (an in-process provider), ``contracts`` its singleton addresses (a mapping or a
    devnet ``Deployment``, as for ``ChainConfig.use_devnet``).
    Blocks nest; leaving one restores the enclosing state. A block that sets ``rpc``
    or ``web3`` keeps its own nonce book (the endpoint may be another chain with the
    same id); otherwise nonces are shared with the enclosing context.

    Raises:
        ChainNotSupportedError: unknown chain, or one without contract addresses.
        InvalidRpcUrlError: ``rpc`` is not an http(s) URL.
        InvalidInputError: ``contracts`` lacks a singleton or has a malformed address.
    """
    token = _SCOPE.set(_scoped(chain, rpc, web3, contracts))
    try:
        yield current()
    finally:
        _SCOPE.reset(token)


def reset() -> None:
    """Restore the built-in defaults (mainnet, default RPC URLs and addresses, no
    pinned or cached Web3, no transport and what it learnt of its endpoint, no cached
    nonce, no registered content store) and leave
    any ``using`` block of the calling context. For tests. No I/O."""
    _ROOT.restore_defaults()
    _SCOPE.set(None)


def carry(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` bound to the context in force now, for running in another thread. No I/O."""
    scope = _SCOPE.get()

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        token = _SCOPE.set(scope)
        try:
            return fn(*args, **kwargs)
        finally:
            _SCOPE.reset(token)

    return run
