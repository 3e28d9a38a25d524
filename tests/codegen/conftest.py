"""Shared fixtures for the code generator tests: paths, models, fixture ABI trees, and a real
in-process EVM (eth-tester / py-evm) with tiny hand-assembled contracts."""

from __future__ import annotations

import importlib.util
import itertools
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `codegen` lives at the repo root, outside the installed package
    sys.path.insert(0, str(ROOT))

from codegen.loader import load_model  # noqa: E402
from codegen.model import Model  # noqa: E402

ABIS = ROOT / "abis"
GENERATED = ROOT / "generated"
FIXTURE_ABIS = Path(__file__).resolve().parent / "fixtures" / "abis"

_alias_counter = itertools.count()


@pytest.fixture(scope="session")
def real_model() -> Model:
    return load_model(ABIS)


def make_fixture_abis(dest: Path) -> Path:
    """Copy the fixture ABI tree to `dest` plus the real errors.json; return `dest`."""
    shutil.copytree(FIXTURE_ABIS, dest)
    shutil.copy(ABIS / "errors.json", dest / "errors.json")
    return dest


@pytest.fixture
def fixture_abis(tmp_path: Path) -> Path:
    return make_fixture_abis(tmp_path / "abis")


def import_generated(pkg_dir: Path) -> ModuleType:
    """Import a generated ogpu_bindings tree under a unique alias (its imports are relative)."""
    alias = f"_fixture_bindings_{next(_alias_counter)}"
    spec = importlib.util.spec_from_file_location(
        alias, pkg_dir / "__init__.py", submodule_search_locations=[str(pkg_dir)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


def import_sub(pkg: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{pkg.__name__}.{name}")


@pytest.fixture(scope="session")
def fixture_bindings(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The fixture ABIs generated once and imported under an alias."""
    from codegen.cli import main

    base = tmp_path_factory.mktemp("fixture-gen")
    abis = make_fixture_abis(base / "abis")
    assert main(["--abis", str(abis), "--out", str(base / "out")]) == 0
    return import_generated(base / "out" / "ogpu_bindings")


@pytest.fixture(scope="session")
def fixture_model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    base = tmp_path_factory.mktemp("fixture-model")
    return load_model(make_fixture_abis(base / "abis"))


# -- a real EVM ------------------------------------------------------------------------------------


class Chain:
    """eth-tester chain plus deployers for minimal contracts that return, revert with or log
    a fixed payload (assembled by hand: no compiler needed)."""

    def __init__(self) -> None:
        from web3 import EthereumTesterProvider, Web3

        self.w3 = Web3(EthereumTesterProvider())
        self.sender = self.w3.eth.accounts[0]

    def deploy(self, runtime: bytes) -> str:
        n = len(runtime)
        # PUSH2 n DUP1 PUSH2 13 PUSH1 0 CODECOPY PUSH1 0 RETURN (13 bytes of init code)
        init = bytes([0x61, n >> 8, n & 255, 0x80, 0x61, 0, 13, 0x60, 0, 0x39, 0x60, 0, 0xF3])
        tx = self.w3.eth.send_transaction({"from": self.sender, "data": init + runtime})
        address = self.w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        assert address is not None
        return str(address)

    def _copy_payload(self, payload: bytes, tail: bytes) -> bytes:
        n = len(payload)
        prefix_len = 8 + len(tail)
        # PUSH2 n PUSH1 off PUSH1 0 CODECOPY <tail> <payload>
        code = bytes([0x61, n >> 8, n & 255, 0x60, prefix_len, 0x60, 0, 0x39]) + tail
        assert len(code) == prefix_len
        return code + payload

    def returner(self, payload: bytes) -> str:
        """Contract answering every call with `payload`."""
        n = len(payload)
        return self.deploy(
            self._copy_payload(payload, bytes([0x61, n >> 8, n & 255, 0x60, 0, 0xF3]))
        )

    def reverter(self, payload: bytes) -> str:
        """Contract reverting every call with `payload` as revert data."""
        n = len(payload)
        return self.deploy(
            self._copy_payload(payload, bytes([0x61, n >> 8, n & 255, 0x60, 0, 0xFD]))
        )

    def logger(self, topics: list[bytes], data: bytes) -> str:
        """Contract emitting one log (`topics`, `data`) per transaction."""
        n = len(data)
        push_topics = b"".join(b"\x7f" + t for t in reversed(topics))
        log_op = bytes([0xA0 + len(topics)])
        tail = push_topics + bytes([0x61, n >> 8, n & 255, 0x60, 0]) + log_op + b"\x00"
        return self.deploy(self._copy_payload(data, tail))

    def transact(self, to: str, data: bytes = b"", value: int = 0) -> Any:
        tx = self.w3.eth.send_transaction(
            {"from": self.sender, "to": to, "data": data, "value": value}
        )
        return self.w3.eth.wait_for_transaction_receipt(tx)


@pytest.fixture(scope="session")
def chain() -> Chain:
    return Chain()


@pytest.fixture
def returner(chain: Chain) -> Callable[[bytes], str]:
    return chain.returner


@pytest.fixture
def reverter(chain: Chain) -> Callable[[bytes], str]:
    return chain.reverter


@pytest.fixture
def restore_sys_modules() -> Iterator[None]:
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("_fixture_bindings_"):
            del sys.modules[name]
