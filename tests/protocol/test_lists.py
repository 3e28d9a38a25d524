"""The fast list builder (``lists.fast_fill``) leaves the storage the contracts' own pushes
leave: same arrays, same lengths, same mapping entries (timestamps aside, which are each
item's block time either way)."""

from __future__ import annotations

import pytest

from ogpu.devnet import CLIENTS
from ogpu.devnet.chain import Devnet

from .lists import PROBED_SLOTS, ListBuilder, _array_slot, _mapping_slot, _Storage

pytestmark = pytest.mark.slow

N = 25
SLOTS = 24  # Source and Task keep their state in the first few slots


def words(storage: _Storage, address: str, items: list[str]) -> dict[tuple[str, int, int], int]:
    """Every probed slot, the first ``N + 2`` elements of an array at each, and each
    item's entry in a mapping at each."""
    out = {}
    assert SLOTS <= PROBED_SLOTS
    for slot in range(SLOTS):
        out[("slot", slot, 0)] = storage.read(address, slot)
        for i in range(N + 2):
            out[("element", slot, i)] = storage.read(address, _array_slot(slot, i))
        for item in items:
            key = int(item, 16)
            out[("entry", slot, key)] = storage.read(address, _mapping_slot(slot, key))
    return out


Words = dict[tuple[str, int, int], int]


def renamed(found: Words, names: dict[str, int]) -> Words:
    """``found`` with each address in ``names`` (contracts each builder made) replaced by
    its name, so two builders' storage compares."""
    by_value = {int(address, 16): name for address, name in names.items()}
    return {key: by_value.get(value, value) for key, value in found.items()}


def same_but_times(real: Words, fast: Words, now: int) -> None:
    differ = {k for k in real if real[k] != fast[k]}
    for key in differ:  # only block timestamps may differ
        assert abs(real[key] - now) < 3600 and abs(fast[key] - now) < 3600, key


def test_fast_fill_writes_what_the_pushes_write(devnet: Devnet) -> None:
    storage = _Storage(devnet)
    real = ListBuilder(devnet.w3, CLIENTS[0].address)
    fast = ListBuilder(devnet.w3, CLIENTS[0].address, devnet)
    sources = [builder.source(N, N) for builder in (real, fast)]
    assert sources[0].tasks == sources[1].tasks
    assert sources[0].registrants == sources[1].registrants
    items = sources[0].tasks + sources[0].registrants
    names = [{builder.contract.address: -1} for builder in (real, fast)]
    found = [
        renamed(words(storage, s.address, items), n) for s, n in zip(sources, names, strict=True)
    ]
    same_but_times(*found, devnet.timestamp())

    tasks = [builder.task(sources[0].address, N, respond_every=5) for builder in (real, fast)]
    assert tasks[0].attempters == tasks[1].attempters
    # the responses are contracts at different addresses: name them by their slot
    for task, n in zip(tasks, names, strict=True):
        n.update({r: -2 - i for i, r in enumerate(task.responses) if int(r, 16)})
    found = [
        renamed(words(storage, t.address, tasks[0].attempters), n)
        for t, n in zip(tasks, names, strict=True)
    ]
    same_but_times(*found, devnet.timestamp())
    responses = {v for v in found[1].values() if v <= -2}
    assert len(responses) == len({r for r in tasks[1].responses if int(r, 16)}) == 6
