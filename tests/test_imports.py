"""Structural guard for import cost: importing the SDK's packages must not load the heavy
third-party stacks (web3, eth-account, eth-abi, requests, pydantic...) nor the SDK modules that
wrap them; those load on first use. Each case runs in a fresh interpreter and inspects
``sys.modules`` (no timing: speed is measured in bench/)."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from .helpers.child import python_json

#: Third-party stacks imported on first use only (first RPC, signature, upload, watcher...).
THIRD_PARTY = (
    "web3",
    "eth_account",
    "eth_abi",
    "eth_utils",
    "eth_hash",
    "eth_keys",
    "eth_typing",
    "hexbytes",
    "requests",
    "urllib3",
    "aiohttp",
    "pydantic",
)
#: SDK modules wrapping them, loaded on first access to one of their names.
DEFERRED = (
    *THIRD_PARTY,
    "ogpu.protocol._executor",
    "ogpu.events.poller",
    "ogpu.events.watchers",
    "ogpu.ipfs.backends",
    "ogpu.ipfs.fetch",
)


def _loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the DEFERRED modules it left loaded."""
    probe = (
        f"import json, sys\n{code}\n"
        f"print(json.dumps([m for m in {list(DEFERRED)!r} if m in sys.modules]))"
    )
    loaded: list[str] = python_json(probe)
    return loaded


@pytest.mark.parametrize(
    "modules",
    [
        "ogpu",
        "ogpu.types",
        "ogpu.chain",
        "ogpu.ipfs",
        "ogpu.protocol",
        "ogpu.events",
        "ogpu_bindings",
        "ogpu.manifest",
        "ogpu.provider",
        "ogpu.abi",
        "ogpu, ogpu.protocol, ogpu.events, ogpu.types, ogpu.chain, ogpu.ipfs",
    ],
)
def test_import_loads_no_heavy_module(modules: str) -> None:
    assert _loaded_after(f"import {modules}") == []


def test_import_client_loads_no_heavy_module() -> None:
    loaded = _loaded_after("import ogpu, ogpu.protocol, ogpu.client, ogpu.events")
    assert [m for m in loaded if m in THIRD_PARTY] == []


@pytest.mark.slow
def test_building_values_needs_no_web3() -> None:
    # Validating an address (keccak) and encoding calldata use the SDK's own codec (ogpu.abi).
    code = (
        "from ogpu.protocol import Task\n"
        "from ogpu_bindings import task as task_abi\n"
        "task = Task('0x2b0cc6058313801d5feb184a539e3a0c5a87a6a1')\n"
        "assert task.address == '0x2b0cC6058313801D5feb184a539e3a0C5A87a6a1'\n"
        "assert task_abi.get_status_call(task.address).data.hex() == '4e69d560'\n"
    )
    loaded = set(_loaded_after(code))
    assert not {"web3", "eth_account", "eth_abi", "eth_hash", "requests"} & loaded
    assert "ogpu.protocol._executor" not in loaded


def test_task_input_from_a_dict_needs_no_pydantic() -> None:
    code = (
        "from ogpu.types import TaskInfo, TaskInput\n"
        "config = TaskInput('f', {'a': 1})\n"
        "assert config.to_dict() == {'function_name': 'f', 'data': {'a': 1}}\n"
        "TaskInfo(source='0x2b0cc6058313801d5feb184a539e3a0c5a87a6a1', config=config,\n"
        "         expiryTime=2_000_000_000, payment=1)\n"
    )
    assert "pydantic" not in _loaded_after(code)


@pytest.mark.slow
@pytest.mark.parametrize(
    "module", ["ogpu", "ogpu.types", "ogpu.protocol", "ogpu.events", "ogpu.ipfs", "ogpu.manifest"]
)
def test_lazy_names_resolve_and_are_listed(module: str) -> None:
    code = (
        "import importlib\n"
        f"m = importlib.import_module({module!r})\n"
        "extra = ['Signer'] if m.__name__ == 'ogpu.types' else []\n"
        "names = list(getattr(m, '__all__', [])) + extra\n"
        "missing = [n for n in names if n not in dir(m)]\n"
        "assert not missing, missing\n"
        "values = {n: getattr(m, n) for n in names}\n"
        "assert all(getattr(m, n) is v for n, v in values.items())\n"
        "try:\n"
        "    m.no_such_name\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('unknown attribute resolved')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_lazy_names_are_the_real_objects() -> None:
    from eth_account.signers.local import LocalAccount

    import ogpu.events
    import ogpu.events.poller
    import ogpu.events.watchers
    import ogpu.ipfs
    import ogpu.ipfs.fetch
    import ogpu.protocol
    import ogpu.protocol._executor
    import ogpu.types

    assert ogpu.protocol.execute_request is ogpu.protocol._executor.execute_request
    assert ogpu.protocol.TxExecutor is ogpu.protocol._executor.TxExecutor
    assert ogpu.events.watch_task_published is ogpu.events.watchers.watch_task_published
    assert ogpu.events.PollerSettings is ogpu.events.poller.PollerSettings
    assert ogpu.ipfs.fetch_ipfs_json is ogpu.ipfs.fetch.fetch_ipfs_json
    assert ogpu.types.Signer == typing.Union[str, LocalAccount]  # noqa: UP007
    assert ogpu.protocol.Signer is ogpu.types.Signer


def _bindings_after(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; return the ``ogpu_bindings`` modules it loaded."""
    probe = (
        f"import json, sys\n{code}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ogpu_bindings'))))"
    )
    return set(python_json(probe))


#: Contract modules; each one's events live in ``ogpu_bindings.events.<module>``.
CONTRACT_MODULES = (
    "controller",
    "manager",
    "nexus",
    "response",
    "source",
    "task",
    "terminal",
    "vault",
)


def _contracts(loaded: set[str]) -> set[str]:
    return {m for m in CONTRACT_MODULES if f"ogpu_bindings.{m}" in loaded}


def _events(loaded: set[str]) -> set[str]:
    return {m for m in CONTRACT_MODULES if f"ogpu_bindings.events.{m}" in loaded}


def test_the_package_loads_no_contract_module() -> None:
    loaded = _bindings_after("import ogpu_bindings")
    assert _contracts(loaded) == set() and _events(loaded) == set()
    assert "ogpu_bindings._revert" not in loaded  # revert decoding loads on the first revert


def test_a_contract_module_loads_only_itself() -> None:
    loaded = _bindings_after("import ogpu_bindings.vault")
    assert _contracts(loaded) == {"vault"}
    assert _events(loaded) == set()  # the event classes load on first access
    # nexus re-exports OwnershipTransferred, defined with the Controller events
    loaded = _bindings_after(
        "import ogpu_bindings.nexus as nexus\nassert nexus.OwnershipTransferredEvent.NAME"
    )
    assert _contracts(loaded) == {"nexus"}
    assert _events(loaded) == {"nexus", "controller"}


@pytest.mark.slow
def test_event_decoders_load_the_events_modules_only() -> None:
    loaded = _bindings_after("import ogpu_bindings as pkg\nassert len(pkg.EVENT_DECODERS) > 20")
    assert _contracts(loaded) == set()
    assert {"nexus", "vault", "terminal", "manager", "controller"} <= _events(loaded)
    loaded = _bindings_after("import ogpu_bindings as pkg\nassert len(pkg.CONTRACTS) == 8")
    assert _contracts(loaded) == set(CONTRACT_MODULES)


@pytest.mark.slow
def test_watchers_load_only_the_nexus_events() -> None:
    loaded = _bindings_after("import ogpu.events.watchers")
    assert _contracts(loaded) == set()
    assert _events(loaded) == {"nexus", "controller"}
    assert "ogpu_bindings._revert" not in loaded


@pytest.mark.slow
def test_revert_decoding_loads_on_first_use() -> None:
    loaded = _bindings_after(
        "import ogpu_bindings.errors as E, ogpu.types\n"
        "assert 'ogpu_bindings._revert' not in sys.modules\n"
        "err = E.decode_revert(b'')\n"
        "assert type(err) is E.TxRevertError and 'without a reason' in str(err)"
    )
    assert "ogpu_bindings._revert" in loaded


def test_connect_devnet_lives_in_ogpu_devnet_and_loads_no_web3() -> None:
    # ogpu.devnet.connect_devnet (ogpu.provider re-exports it) reads the deterministic
    # addresses without web3 or eth-account; the accounts and Devnet load on first access.
    assert _loaded_after("from ogpu.devnet import connect_devnet, load_deployment") == []
    code = (
        "import ogpu.devnet, ogpu.provider, ogpu.provider.devnet\n"
        "assert ogpu.provider.connect_devnet is ogpu.devnet.connect_devnet\n"
        "assert ogpu.provider.devnet.connect_devnet is ogpu.devnet.connect_devnet"
    )
    assert _loaded_after(code) == []
