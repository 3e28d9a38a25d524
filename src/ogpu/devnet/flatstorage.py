"""Storage reads of the devnet's py-evm chain from a flat cache keyed by storage root.

py-evm reads a storage slot by walking the account's storage trie from its root,
decoding every node on the way, and keeps what it read only for the life of one
state object: every ``eth_call`` starts over, so ``getTasks(0, 2999)`` walked 3,000
trie paths per call (about 300 ms of the ~450 ms the devnet spent on it). geth reads
storage from a flat snapshot (one lookup per slot) instead; this is the devnet's
counterpart.

Why it cannot go stale: a storage root is the hash of an account's whole storage, so
the value at ``(root, slot)`` never changes. A write makes a new root once py-evm
commits it, and until then the lookup has a write trie, whose reads bypass the cache;
writes inside a transaction never reach this layer (py-evm's journal answers them
first). A reverted transaction, ``evm_revert`` or a snapshot revert only brings back
an older root, whose entries are still right. Failed lookups (missing trie nodes)
are not cached. ``tests/devnet_chain/test_flat_storage.py`` pins the writes, reverts
and snapshots on real transactions; the write-trie bypass is defensive (py-evm's own
per-state cache above this layer answers those reads first, so no test reaches it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth.db.account import AccountDB
from eth.db.storage import StorageLookup
from lru import LRU

if TYPE_CHECKING:
    from eth.abc import AccountStorageDatabaseAPI
    from eth_typing import Address

__all__ = ["CACHE_SLOTS", "flat_vm_configuration", "stats"]

#: Most (root, slot) entries kept, least recently used dropped first (~275 bytes of
#: Python objects each plus the LRU's node: at most ~40 MB); a 10,000-item list takes
#: 10,000.
CACHE_SLOTS = 100_000

_READS: LRU[tuple[bytes, bytes], bytes] = LRU(CACHE_SLOTS)


def stats() -> tuple[int, int]:
    """Hits and misses of the cache since the process started (no RPC)."""
    hits, misses = _READS.get_stats()
    return int(hits), int(misses)


class _FlatStorageLookup(StorageLookup):
    def __getitem__(self, key: bytes) -> bytes:
        if self._write_trie is not None:  # uncommitted writes: only the trie has them
            return super().__getitem__(key)
        entry = (self._starting_root_hash, key)
        value = _READS.get(entry)
        if value is None:
            value = super().__getitem__(key)
            _READS[entry] = value
        return value


class _FlatAccountDB(AccountDB):
    def _get_address_store(self, address: Address) -> AccountStorageDatabaseAPI:
        store = super()._get_address_store(address)
        lookup = getattr(store, "_storage_lookup", None)
        # Exactly py-evm's class: another py-evm layout is left alone (uncached).
        if type(lookup) is StorageLookup:
            lookup.__class__ = _FlatStorageLookup
        return store


def flat_vm_configuration(configuration: Any) -> tuple[tuple[int, type], ...]:
    """``configuration`` (a py-evm chain's ``vm_configuration``) with every VM's state
    reading storage through the cache; the VMs behave otherwise exactly as given."""
    flat = []
    for block_number, vm_class in configuration:
        state_class = vm_class.get_state_class()
        state = type(state_class.__name__, (state_class,), {"account_db_class": _FlatAccountDB})
        flat.append((block_number, type(vm_class.__name__, (vm_class,), {"_state_class": state})))
    return tuple(flat)
