"""Thread-safe nonce reservation per (chain, address), and recovery helpers.

The first reservation for an account reads ``eth_getTransactionCount(pending)``;
later ones increment locally. A nonce that was never broadcast is handed
back with ``release`` (reused by the next reservation); after a rejection
that reveals the node disagrees (nonce too low/high) call ``resync``.

``NonceManager.account_lock`` returns the per-account lock; ``TxExecutor``
holds it from reservation through broadcast so transactions of one account
reach the node in nonce order (a node without a mempool, like the in-process
devnet, rejects a nonce from the future).

The official SDK's methods (``get_nonce``, ``reserve_nonce``, ``release_nonce``,
``increment_nonce``, ``reset_nonce``, ``get_cached_nonce(address, web3)``) work on the
same book: a nonce reserved by hand is never handed to ``TxExecutor`` and the reverse.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import check_address

from ogpu.chain.cancel import cancel_stuck, read_quantity, transaction_count
from ogpu.chain.context import NonceSlot as _Slot
from ogpu.chain.context import current
from ogpu.chain.web3 import WEB3 as WEB3  # the official module exposes it too
from ogpu.types.errors import InvalidInputError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3


def _take(slot: _Slot) -> int:
    """Hand out the lowest free nonce of a loaded slot (caller holds its lock)."""
    assert slot.next_nonce is not None
    if slot.released:
        nonce = min(slot.released)
        slot.released.discard(nonce)
        return nonce
    nonce = slot.next_nonce
    slot.next_nonce += 1
    return nonce


def _peek(slot: _Slot) -> int | None:
    """The nonce ``_take`` would hand out next, or None when not loaded."""
    return min(slot.released) if slot.released else slot.next_nonce


def _reconcile(slot: _Slot, pending: int) -> None:
    """Merge the chain's pending count into a slot (caller holds its lock): the chain
    wins when it is ahead (transactions sent elsewhere), the book while its
    reservations are in flight; released nonces the chain has used are dropped."""
    if slot.next_nonce is None or pending >= slot.next_nonce:
        slot.load(pending)
    else:
        slot.released = {n for n in slot.released if n >= pending}


_chain_ids: weakref.WeakKeyDictionary[Web3, int] = weakref.WeakKeyDictionary()
_chain_ids_lock = threading.Lock()


def _chain_of(w3: Web3) -> int:
    """Chain id of ``w3``: the active chain's for the SDK's own instance (no RPC), else
    ``eth_chainId`` once per instance.

    Raises:
        RPCError: the chain id cannot be read.
    """
    from ogpu.chain.config import ChainConfig
    from ogpu.chain.web3 import Web3Manager

    active = ChainConfig.get_current_chain()
    if w3 is Web3Manager.get_web3_instance(active):
        return int(active)
    with _chain_ids_lock:
        cached = _chain_ids.get(w3)
    if cached is None:
        cached = read_quantity(w3, "eth_chainId", [], "the chain id of the node")
        with _chain_ids_lock:
            _chain_ids[w3] = cached
    return cached


def _pending_count(w3: Web3, address: str) -> int:
    return transaction_count(w3, check_address(address, "address"), "pending")


class NonceManager:
    """Nonce bookkeeping, one slot per (chain id, checksummed address), in the current
    context's nonce book (:mod:`ogpu.chain.context`)."""

    @classmethod
    def _slot(cls, chain_id: int, address: str) -> _Slot:
        return current().nonces.slot(int(chain_id), check_address(address, "address"))

    @classmethod
    def account_lock(cls, chain_id: int, address: str) -> threading.RLock:
        """Return the re-entrant lock serializing one account's reservations. No RPC."""
        return cls._slot(chain_id, address).lock

    @classmethod
    def reserve(cls, w3: Web3, chain_id: int, address: str) -> int:
        """Reserve the next nonce. One RPC on the first use of an account, else none.

        Raises:
            RPCError: the pending nonce cannot be read.
            InvalidInputError: ``address`` is malformed.
        """
        slot = cls._slot(chain_id, address)
        with slot.lock:
            if slot.next_nonce is None:
                slot.load(_pending_count(w3, address))
            return _take(slot)

    @classmethod
    def release(cls, chain_id: int, address: str, nonce: int) -> None:
        """Hand back a reserved nonce that was never broadcast. No RPC."""
        slot = cls._slot(chain_id, address)
        with slot.lock:
            if slot.next_nonce is None or nonce >= slot.next_nonce:
                return
            if nonce == slot.next_nonce - 1:
                slot.next_nonce -= 1
                while slot.next_nonce - 1 in slot.released:
                    slot.next_nonce -= 1
                    slot.released.discard(slot.next_nonce)
            else:
                slot.released.add(nonce)

    @classmethod
    def resync(cls, w3: Web3, chain_id: int, address: str) -> int:
        """Reload the next nonce from ``eth_getTransactionCount(pending)``. One RPC.

        Raises:
            RPCError: the pending nonce cannot be read.
        """
        slot = cls._slot(chain_id, address)
        with slot.lock:
            pending = _pending_count(w3, address)
            slot.load(pending)
            return pending

    @classmethod
    def reset(cls, chain_id: int, address: str) -> None:
        """Forget an account's cached nonce; the next reservation reads the chain. No RPC."""
        slot = cls._slot(chain_id, address)
        with slot.lock:
            slot.load(None)

    @classmethod
    def get_cached_nonce(
        cls, address: str | int, web3: Web3 | str | None = None, *, chain_id: int | None = None
    ) -> int | None:
        """Return the next nonce this process would use, or None if not cached.

        Official form ``(address, web3)``; ours ``(chain_id, address)`` (or
        ``(address, chain_id=...)``) still works. No RPC, except ``eth_chainId`` once
        for a ``web3`` that is not the SDK's own instance of the active chain.

        Raises:
            InvalidInputError: malformed address, or neither ``web3`` nor ``chain_id``.
            RPCError: the chain id of ``web3`` cannot be read.
        """
        if isinstance(address, int) and not isinstance(address, bool):
            legacy_chain: int = address  # ours: (chain_id, address)
            address, web3, chain_id = str(web3), None, legacy_chain
        if chain_id is None:
            if web3 is None or isinstance(web3, str):
                raise InvalidInputError("pass web3 (or chain_id=)", param="web3")
            chain_id = _chain_of(web3)
        slot = cls._slot(chain_id, str(address))
        with slot.lock:
            return _peek(slot)

    # -- the official SDK's per-Web3 methods, on the same book --------------------------

    @classmethod
    def get_nonce(cls, address: str, web3: Web3, force_refresh: bool = False) -> int:
        """Return the next nonce to use without reserving it. One RPC (the pending count).

        The cache is reconciled with ``eth_getTransactionCount(pending)`` (replaced by
        it with ``force_refresh``). Sending with this nonce races ``TxExecutor``; use
        ``reserve_nonce`` when the SDK writes from the same account.

        Raises:
            InvalidAddressError: malformed address. RPCError: the node cannot be read.
        """
        slot = cls._slot(_chain_of(web3), address)
        with slot.lock:
            pending = _pending_count(web3, address)
            if force_refresh:
                slot.load(None)
            _reconcile(slot, pending)
            nonce = _peek(slot)
            assert nonce is not None
            return nonce

    @classmethod
    def reserve_nonce(cls, address: str, web3: Web3) -> int:
        """Reserve the next nonce for the caller alone and advance the book, in one step
        under the account's lock: concurrent callers (threads, ``TxExecutor``) never get
        the same nonce. One RPC: the reservation is reconciled with the pending count.

        Broadcasting consumes the nonce; hand it back with ``release_nonce`` if the
        transaction is not sent.

        Raises:
            InvalidAddressError: malformed address. RPCError: the node cannot be read.
        """
        slot = cls._slot(_chain_of(web3), address)
        with slot.lock:
            _reconcile(slot, _pending_count(web3, address))
            return _take(slot)

    @classmethod
    def release_nonce(cls, address: str, nonce: int, web3: Web3) -> None:
        """Hand back a reserved nonce that was never broadcast; the next reservation
        reuses it (other reservations are untouched). No RPC beyond ``_chain_of``.

        Raises:
            InvalidAddressError: malformed address.
        """
        cls.release(_chain_of(web3), address, nonce)

    @classmethod
    def increment_nonce(cls, address: str, web3: Web3) -> None:
        """Mark the cached next nonce (``get_nonce``'s value) as used by a transaction sent
        by hand. Nothing happens when nothing is cached. No RPC beyond ``_chain_of``.

        Raises:
            InvalidAddressError: malformed address.
        """
        slot = cls._slot(_chain_of(web3), address)
        with slot.lock:
            if slot.next_nonce is not None:
                _take(slot)

    @classmethod
    def reset_nonce(cls, address: str, web3: Web3) -> None:
        """Forget the account's cached nonce; the next use reads the chain. No RPC beyond
        ``_chain_of``.

        Raises:
            InvalidAddressError: malformed address.
        """
        cls.reset(_chain_of(web3), address)

    @classmethod
    def clear_all(cls) -> None:
        """Forget every cached nonce. No RPC."""
        for slot in current().nonces.slots():
            with slot.lock:
                slot.load(None)


def _resolve_address(address: str | None, private_key: str | None) -> str:
    if address is not None:
        return check_address(address, "address")
    from ogpu.chain.signer import resolve_signer
    from ogpu.types.enums import Role

    key = private_key if private_key is not None else os.environ.get("CLIENT_PRIVATE_KEY")
    if private_key is None and key is None:
        raise InvalidInputError("pass address= or private_key=, or set CLIENT_PRIVATE_KEY")
    return resolve_signer(key, role=Role.CLIENT).address


def _counts(address: str | None, private_key: str | None) -> tuple[str, Web3, int, int, int]:
    """(account, web3 and id of the active chain, mined count, pending count). Two RPCs."""
    from ogpu.chain.config import ChainConfig
    from ogpu.chain.web3 import Web3Manager

    account = _resolve_address(address, private_key)
    chain = ChainConfig.get_current_chain()
    w3 = Web3Manager.get_web3_instance(chain)
    mined = transaction_count(w3, account, "latest")
    return account, w3, int(chain), mined, _pending_count(w3, account)


def get_nonce_info(address: str | None = None, private_key: str | None = None) -> dict[str, Any]:
    """Summarize mined, pending and cached nonces of an account on the active chain. Two RPCs.

    The account is ``address``, else the key's address, else ``CLIENT_PRIVATE_KEY``'s.

    Raises:
        InvalidInputError: no account given, or a malformed address.
        InvalidSignerError: a malformed key.
        RPCError: the node cannot be queried.
    """
    account, _, chain_id, mined, pending = _counts(address, private_key)
    return {
        "address": account,
        "chain_id": chain_id,
        "mined_nonce": mined,
        "pending_nonce": pending,
        "cached_nonce": NonceManager.get_cached_nonce(account, chain_id=chain_id),
        "has_pending": pending > mined,
        "pending_count": pending - mined,
    }


def fix_nonce(
    address: str | None = None, private_key: str | None = None, *, wait: float = 3.0
) -> int:
    """Cancel the account's stuck pending transactions and resync its nonce; return the
    next nonce (0.2.3's meaning). Two RPCs plus the resync when nothing is pending.

    For every nonce between the mined and the pending count, a 0-value self-transfer at
    1.2x the gas price replaces the stuck transaction (this pays gas); the counts are then
    polled for at most ``wait`` seconds and the cached nonce is re-read from the chain.
    The key is ``private_key``, else ``CLIENT_PRIVATE_KEY``, needed only when something
    is pending.

    Raises:
        InvalidInputError / InvalidSignerError: as for ``get_nonce_info``; a key of
            another account than ``address``; a ``wait`` outside [0, 3600) seconds.
        MissingSignerError: transactions are pending and no key is available.
        RPCError: the node cannot be queried.
    """
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait < 3600:
        raise InvalidInputError(f"wait must be seconds in [0, 3600), got {wait!r}")
    account, w3, chain_id, mined, pending = _counts(address, private_key)
    if pending > mined:
        signer = _cancel_signer(account, private_key)
        cancel_stuck(w3, chain_id, signer, mined, pending, wait=wait)
    return NonceManager.resync(w3, chain_id, account)


def _cancel_signer(account: str, private_key: str | None) -> LocalAccount:
    from ogpu.chain.signer import resolve_signer
    from ogpu.types.enums import Role

    signer = resolve_signer(private_key, role=Role.CLIENT)  # None: CLIENT_PRIVATE_KEY
    if signer.address != account:
        raise InvalidInputError(
            f"the key signs for {signer.address}, not for {account}: pass the account's own key"
        )
    return signer


def reset_nonce_cache(address: str | None = None, private_key: str | None = None) -> None:
    """Forget an account's cached nonce on the active chain. No RPC.

    Raises:
        InvalidInputError / InvalidSignerError: as for ``get_nonce_info``.
    """
    account = _resolve_address(address, private_key)
    from ogpu.chain.config import ChainConfig

    NonceManager.reset(int(ChainConfig.get_current_chain()), account)


def clear_all_nonce_caches() -> None:
    """Forget every cached nonce of every account. No RPC."""
    NonceManager.clear_all()
