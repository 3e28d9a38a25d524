"""The state file: exact round trip of the chain database, and clear errors for bad files."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import pytest

from ogpu.devnet.serve import (
    STATE_VERSION,
    DevnetServices,
    StateFileError,
    read_state,
    start_services,
    write_state,
)


@pytest.fixture(scope="module")
def saved(services: DevnetServices, tmp_path_factory: pytest.TempPathFactory) -> Path:
    services.store.put(b'{"saved": 1}')
    return services.save_state(tmp_path_factory.mktemp("state") / "devnet.state")


def test_read_back_what_was_saved(saved: Path, services: DevnetServices) -> None:
    info = read_state(saved)
    assert info.chain_id == 1337
    assert info.deployment == services.devnet.deployment
    with services.devnet.lock:
        head = services.devnet.tester.backend.chain.get_canonical_head()
    assert info.head_number <= head.block_number
    assert len(info.records) > 100
    assert b'{"saved": 1}' in info.blobs


def _rewrite(source: Path, target: Path, **changes: object) -> Path:
    info = dataclasses.replace(read_state(source), **changes)  # type: ignore[arg-type]
    write_state(
        target,
        chain_id=info.chain_id,
        head_hash=info.head_hash,
        head_number=info.head_number,
        deployment=info.deployment,
        time_offset=info.time_offset,
        records=info.records,
        blobs=info.blobs,
    )
    return target


def test_corrupt_files_are_rejected(saved: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.state"
    with pytest.raises(StateFileError, match="does not exist"):
        read_state(missing)

    truncated = tmp_path / "truncated.state"
    truncated.write_bytes(gzip.compress(gzip.decompress(saved.read_bytes())[:-100]))
    with pytest.raises(StateFileError, match="truncated"):
        read_state(truncated)

    foreign = tmp_path / "foreign.state"
    foreign.write_bytes(gzip.compress(b'{"format": "something-else"}\n'))
    with pytest.raises(StateFileError, match="not a devnet state file"):
        read_state(foreign)

    future = tmp_path / "future.state"
    header = {"format": "ogpu-devnet-state", "version": STATE_VERSION + 1}
    future.write_bytes(gzip.compress(json.dumps(header).encode() + b"\n"))
    with pytest.raises(StateFileError, match="version"):
        read_state(future)

    garbage = tmp_path / "garbage.state"
    garbage.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(StateFileError, match="cannot read"):
        read_state(garbage)

    broken = tmp_path / "broken.state"
    header = {"format": "ogpu-devnet-state", "version": STATE_VERSION, "records": "many"}
    broken.write_bytes(gzip.compress(json.dumps(header).encode() + b"\n"))
    with pytest.raises(StateFileError, match="malformed header"):
        read_state(broken)


@pytest.mark.slow
def test_state_from_another_deployment_is_refused(saved: Path, tmp_path: Path) -> None:
    info = read_state(saved)
    other = dataclasses.replace(info.deployment, nexus="0x" + "12" * 20)
    mismatched = _rewrite(saved, tmp_path / "other.state", deployment=other)
    with pytest.raises(StateFileError, match="different contract addresses"):
        start_services(port=0, store_port=0, state_file=mismatched)
    wrong_head = _rewrite(saved, tmp_path / "head.state", head_hash=b"\x01" * 32)
    with pytest.raises(StateFileError, match="chain head"):
        start_services(port=0, store_port=0, state_file=wrong_head)


@pytest.mark.slow
def test_loading_restores_chain_and_store(saved: Path) -> None:
    info = read_state(saved)
    services = start_services(port=0, store_port=0, state_file=saved)
    try:
        assert services.loaded_state is True
        assert services.block_number() == info.head_number
        assert len(services.store) == len(info.blobs)
    finally:
        services.stop(save=False)
    assert read_state(saved).head_hash == info.head_hash


def test_bad_arguments() -> None:
    from ogpu.devnet import DevnetInputError

    for kwargs in ({"port": -1}, {"store_port": 70000}, {"block_time": 0}, {"max_upload": 0}):
        with pytest.raises(DevnetInputError):
            start_services(**kwargs)  # type: ignore[arg-type]
