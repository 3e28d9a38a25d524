"""What test_hostile_surface.py walks: the callables in the packages' ``__all__`` (and their
classes' public classmethods), each with valid ``BASELINES`` arguments or a ``SKIP`` reason,
and the ``HOSTILE`` values fed to them one parameter at a time."""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Callable, Iterator
from enum import EnumMeta
from pathlib import PurePath
from typing import Any

from ogpu.chain import ChainId
from ogpu.events import PollerSettings
from ogpu.ipfs import IPFSConfig
from ogpu.ipfs.cid import Cid
from ogpu.manifest import FunctionManifest, SchemaValidator, SourceManifest
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    ResponseParams,
    ResponseStatus,
    SourceInfo,
    SourceParams,
    SourceStatus,
    TaskInfo,
    TaskInput,
    TaskParams,
    TaskStatus,
)

#: Modules whose ``__all__`` (or public names) make up the surface.
MODULES = (
    "ogpu.types.enums",
    "ogpu.types.metadata",
    "ogpu.types.params",
    "ogpu.types.receipt",
    "ogpu.types.snapshots",
    "ogpu.manifest",
    "ogpu.chain",
    "ogpu.client",
    "ogpu.ipfs",
    "ogpu.ipfs.cid",
    "ogpu.service.config",
    "ogpu.service",
    "ogpu.events",
)

ADDR = "0x" + "11" * 20
HASH = "0x" + "ab" * 32
KEY = "0x" + "4c" * 32
URL = "https://example.invalid/meta.json"
FN = {"input_schema": {"type": "object"}, "output_schema": {"type": "object"}}
MANIFEST = {"framework_version": "1", "functions": {"run": FN}}
_SOURCE = {
    "client": ADDR,
    "imageMetadataUrl": URL,
    "imageEnvironments": Environment.CPU,
    "minPayment": 1,
    "minAvailableLockup": 0,
    "maxExpiryDuration": 3600,
    "privacyEnabled": False,
    "optionalParamsUrl": "",
    "deliveryMethod": DeliveryMethod.MANUAL_CONFIRMATION,
    "lastUpdateTime": 0,
}
_TASK = {"source": ADDR, "config": URL, "expiryTime": 2_000_000_000, "payment": 1}
_WEB3_RECEIPT = {
    "transactionHash": HASH,
    "blockNumber": 1,
    "gasUsed": 21000,
    "status": 1,
    "logs": [],
    "from": ADDR,
    "to": ADDR,
    "blockHash": HASH,
    "effectiveGasPrice": 1,
}
_META = {"cpu": "", "nvidia": "", "amd": "", "name": "n", "description": "d", "logoUrl": ""}
_INFO = {
    "name": "n",
    "description": "d",
    "logoUrl": URL,
    "imageEnvs": ImageEnvironments(cpu="https://example.invalid/cpu.yml"),
    "minPayment": 1,
    "minAvailableLockup": 0,
    "maxExpiryDuration": 3600,
}
_STATS = {"balance": 1, "lockup": 0, "unbonding": 0, "total_earnings": 0, "frozen_payment": 0}
_FLAGS = {"is_eligible": True, "is_whitelisted": True}
_LOG = {"block_number": 1, "transaction_hash": HASH, "log_index": 0}
_EVENTS: dict[str, dict[str, Any]] = {
    "AttemptedEvent": {"task": ADDR, "provider": ADDR, "suggested_payment": 1},
    "RegisteredEvent": {"provider": ADDR, "registrant_id": 0, "source": ADDR},
    "ResponseStatusChangedEvent": {"response": ADDR, "status": ResponseStatus.CONFIRMED},
    "ResponseSubmittedEvent": {"response": ADDR, "task": ADDR},
    "TaskPublishedEvent": {"task": ADDR, "source": ADDR},
    "TaskStatusChangedEvent": {"task": ADDR, "status": TaskStatus.FINALIZED},
}
_RECEIPT = {"tx_hash": HASH, "block_number": 1, "gas_used": 1, "status": 1}


def _kw(**kwargs: Any) -> Callable[[], dict[str, Any]]:
    return lambda: kwargs


#: callable key -> valid keyword arguments (built fresh per call).
BASELINES: dict[str, Callable[[], dict[str, Any]]] = {
    "ogpu.types.enums.Role": _kw(value="client"),
    "ogpu.types.enums.combine_environments": _kw(),
    "ogpu.types.enums.environment_names": _kw(mask=3),
    "ogpu.types.enums.parse_environments": _kw(mask=3),
    "ogpu_bindings.enums.DeliveryMethod": _kw(value=0),
    "ogpu_bindings.enums.Environment": _kw(value=1),
    "ogpu_bindings.enums.ResponseStatus": _kw(value=0),
    "ogpu_bindings.enums.SourceStatus": _kw(value=0),
    "ogpu_bindings.enums.TaskStatus": _kw(value=0),
    "ogpu.types.metadata.ImageEnvironments": _kw(),
    "ogpu.types.metadata.SourceInfo": lambda: dict(_INFO),
    "ogpu.types.metadata.SourceMetadata": lambda: dict(_META),
    "ogpu.types.metadata.SourceMetadata.from_dict": lambda: {"data": dict(_META)},
    "ogpu.types.metadata.TaskInfo": lambda: {
        "source": ADDR,
        "config": TaskInput("run", {"a": 1}),
        "expiryTime": 2_000_000_000,
        "payment": 1,
    },
    "ogpu.types.metadata.TaskInput": lambda: {"function_name": "run", "data": {"a": 1}},
    "ogpu.types.metadata.is_pydantic_model": _kw(value=1),
    "ogpu.types.params.SourceParams": lambda: dict(_SOURCE),
    "ogpu.types.params.TaskParams": lambda: dict(_TASK),
    "ogpu.types.params.source_struct": lambda: {"value": SourceParams(**_SOURCE)},
    "ogpu.types.params.task_struct": lambda: {"value": TaskParams(**_TASK)},
    "ogpu.types.receipt.RawLog": _kw(
        address=ADDR, topics=(), data=b"", log_index=0, block_number=1, transaction_hash=HASH
    ),
    "ogpu.types.receipt.Receipt": lambda: dict(_RECEIPT),
    "ogpu.types.receipt.Receipt.from_web3_receipt": lambda: {"receipt": dict(_WEB3_RECEIPT)},
    "ogpu.types.receipt.TxHash": lambda: {"receipt": Receipt(**_RECEIPT)},
    "ogpu.types.receipt.receipt_arg": lambda: {"value": Receipt(**_RECEIPT)},
    "ogpu_bindings.structs.ResponseParams": _kw(task=ADDR, provider=ADDR, data="x", payment=1),
    "ogpu_bindings.structs.ResponseParams.from_abi": _kw(values=(ADDR, ADDR, "x", 1)),
    "ogpu.types.snapshots.SourceSnapshot": lambda: {
        "address": ADDR,
        "client": ADDR,
        "status": SourceStatus.ACTIVE,
        "params": SourceParams(**_SOURCE),
        "task_count": 0,
        "registrant_count": 0,
    },
    "ogpu.types.snapshots.TaskSnapshot": lambda: {
        "address": ADDR,
        "source": ADDR,
        "status": TaskStatus.NEW,
        "params": TaskParams(**_TASK),
        "payment": 1,
        "expiry_time": 1,
        "delivery_method": DeliveryMethod.FIRST_RESPONSE,
        "attempt_count": 0,
        "winning_provider": None,
    },
    "ogpu.types.snapshots.ResponseSnapshot": lambda: {
        "address": ADDR,
        "task": ADDR,
        "params": ResponseParams(task=ADDR, provider=ADDR, data="x", payment=1),
        "data": "x",
        "status": ResponseStatus.SUBMITTED,
        "timestamp": 0,
        "confirmed": False,
    },
    "ogpu.types.snapshots.ProviderSnapshot": lambda: {
        "address": ADDR,
        "master": ADDR,
        "base_data": "",
        "live_data": "",
        "is_provider": True,
        "default_agent_disabled": False,
        "unbonding_timestamp": 0,
        "sanction": 0,
        **_STATS,
        **_FLAGS,
    },
    "ogpu.types.snapshots.MasterSnapshot": lambda: {
        "address": ADDR,
        "provider": ADDR,
        "is_master": True,
        **_STATS,
        **_FLAGS,
    },
    "ogpu.manifest.model.FunctionManifest": lambda: dict(FN),
    "ogpu.manifest.model.SourceManifest": lambda: {
        "framework_version": "1",
        "functions": {"run": FunctionManifest(**FN)},
    },
    "ogpu.manifest.model.SourceManifest.parse": lambda: {"document": dict(MANIFEST)},
    "ogpu.manifest.schema.SchemaValidator": _kw(schema={"type": "object"}),
    "ogpu.manifest.store.clear_manifest_cache": _kw(),
    "ogpu.manifest.store.manifest_from_metadata": lambda: {"metadata": {}},
    "ogpu.manifest.store.recently_unreadable": _kw(source=ADDR, metadata_url=URL, within=1.0),
    "ogpu.manifest.store.remember_unreadable": _kw(source=ADDR, metadata_url=URL),
    "ogpu.chain.config.ChainConfig": _kw(),
    "ogpu.chain.config.ChainConfig.get_all_supported_chains": _kw(),
    "ogpu.chain.config.ChainConfig.get_chain_abi_directory": _kw(),
    "ogpu.chain.config.ChainConfig.get_contract_address": _kw(contract_name="NEXUS", chain=None),
    "ogpu.chain.config.ChainConfig.get_current_chain": _kw(),
    "ogpu.chain.config.ChainConfig.get_network": _kw(chain=None),
    "ogpu.chain.config.ChainConfig.get_rpc": _kw(chain=None),
    "ogpu.chain.config.ChainConfig.load_abi": _kw(abi_name="NexusAbi"),
    "ogpu.chain.config.ChainConfig.register_contracts": lambda: {
        "chain": ChainId.OGPU_DEVNET,
        "addresses": {k: ADDR for k in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")},
    },
    "ogpu.chain.config.ChainConfig.reset_rpc": _kw(chain=None),
    "ogpu.chain.config.ChainConfig.set_chain": _kw(chain_id=ChainId.OGPU_MAINNET),
    # an invalid URL: rejected before the probe, so the chain argument is all that is tried
    "ogpu.chain.config.ChainConfig.set_rpc": _kw(url="ftp://nowhere", chain=None),
    "ogpu.chain.config.ChainConfig.use_devnet": _kw(deployment=None, rpc=None),
    "ogpu.chain.context.reset": _kw(),
    "ogpu.chain.context.using": _kw(chain=None),
    "ogpu.chain.networks.ChainId": _kw(value=int(ChainId.OGPU_MAINNET)),
    "ogpu.chain.signer.resolve_signer": _kw(signer=KEY, role=None),
    "ogpu.chain.web3.WEB3": _kw(),
    "ogpu.chain.web3.Web3Manager": _kw(),
    "ogpu.chain.web3.Web3Manager.clear": _kw(),
    "ogpu.chain.web3.Web3Manager.get_endpoint": _kw(chain_id=None),
    "ogpu.chain.web3.Web3Manager.get_web3_instance": _kw(chain_id=None),
    "ogpu.chain.web3.get_web3_for_chain": _kw(chain_id=ChainId.OGPU_MAINNET),
    "ogpu.chain.nonce.clear_all_nonce_caches": _kw(),
    "ogpu.ipfs.cid.Cid": _kw(version=1, codec=0x55, hash_code=0x12, digest=b"\0" * 32),
    "ogpu.ipfs.cid.Cid.of": _kw(block=b"x"),
    "ogpu.ipfs.cid.cid_for_bytes": _kw(data=b"x"),
    "ogpu.ipfs.cid.cid_from_bytes": lambda: {"raw": Cid.of(b"x").to_bytes()},
    "ogpu.ipfs.cid.decode_varint": _kw(data=b"\x01", offset=0),
    "ogpu.ipfs.cid.encode_varint": _kw(value=1),
    "ogpu.ipfs.cid.parse_cid": lambda: {"text": str(Cid.of(b"x"))},
    "ogpu.ipfs.config.IPFSConfig": _kw(
        backend="node", api_url="http://127.0.0.1:5001", gateway_url="https://ipfs.io"
    ),
    "ogpu.ipfs.config.fetch_policy": _kw(allow=()),
    "ogpu.ipfs.config.resolve_config": _kw(backend=None),
    "ogpu.ipfs.fetch.resolve_ipfs_url": lambda: {"url": f"ipfs://{Cid.of(b'x')}", "gateway": None},
    "ogpu.ipfs.backends.make_backend": lambda: {
        "config": IPFSConfig(
            backend="node", api_url="http://127.0.0.1:5001", gateway_url="https://ipfs.io"
        )
    },
    "ogpu.net.policy.RetryPolicy": _kw(),
    "ogpu.net.policy.Timeout": _kw(),
    "ogpu.net.policy.Timeout.coerce": _kw(value=5.0),
    "ogpu.errors.shown": _kw(value=1),
    "ogpu.service.config.ServiceConfig": _kw(),
    "ogpu.service.config.ServiceConfig.from_env": _kw(environ={}),
    "ogpu.service.decorators.expose": _kw(timeout=None),
    "ogpu.service.decorators.init": _kw(func=None),
    "ogpu.service.service.Service": _kw(),
    "ogpu.service.service.get_default_service": _kw(),
    "ogpu.service.reset": _kw(),
    "ogpu.service.server.create_app": _kw(service=None, config=None),
    "ogpu.service.execute.TaskFailure": _kw(
        function="run", status="failed", error="e", error_type="ValueError"
    ),
    "ogpu.service.execute.TaskOutcome": _kw(function="run", status="success", seconds=0.1),
    "ogpu.events._settings.PollerSettings": _kw(),
    "ogpu.events._settings.get_poller_settings": _kw(),
    "ogpu.events._settings.set_poller_settings": lambda: {"settings": PollerSettings()},
    **{f"ogpu.events.types.{name}": lambda kw=kw: {**kw, **_LOG} for name, kw in _EVENTS.items()},
    # bound methods of valid instances (not found by introspection: listed here)
    "SourceInfo.to_source_params": lambda: {"client_address": ADDR, "image_metadata_url": URL},
    "TaskInfo.to_task_params": lambda: {"config_url": URL},
    "SourceManifest.check_task": _kw(function_name="run", data={}),
    "SourceManifest.function": _kw(name="run"),
    "SchemaValidator.first_error": _kw(value={}),
    "Receipt.events": lambda: {"event_type": Receipt},
}

_IO = "does I/O (RPC, HTTP or files); its bad input is tested in test_bad_input.py"
#: callable key -> why it is not walked.
SKIP: dict[str, str] = {
    **{
        f"ogpu.client.{m}": _IO
        for m in (
            "agents.revoke_agent",
            "agents.set_agent",
            "sources.inactivate_source",
            "sources.publish_source",
            "sources.update_source",
            "tasks.cancel_task",
            "tasks.confirm_response",
            "tasks.get_task_responses",
            "tasks.publish_task",
            "tasks.publish_tasks",
        )
    },
    **{
        f"ogpu.chain.nonce.{n}": "reads the nonce over RPC"
        for n in (
            "fix_nonce",
            "get_nonce_info",
            "reset_nonce_cache",
            "NonceManager",
        )
    },
    **{
        f"ogpu.chain.nonce.NonceManager.{n}": "reads or keeps the nonce of a Web3"
        for n in (
            "account_lock",
            "clear_all",
            "get_cached_nonce",
            "get_nonce",
            "increment_nonce",
            "release",
            "release_nonce",
            "reserve",
            "reserve_nonce",
            "reset",
            "reset_nonce",
            "resync",
        )
    },
    "ogpu.chain.web3.Web3Manager.probe_chain_id": "sends eth_chainId",
    "ogpu.events.poller.EventPoller": "polls the chain",
    "ogpu.events.poller.EventPoller.shared": "polls the chain",
    **{
        f"ogpu.events.watchers.watch_{name}": "polls the chain"
        for name in (
            "attempted",
            "registered",
            "response_status_changed",
            "response_submitted",
            "task_published",
            "task_status_changed",
        )
    },
    "ogpu.service.server.start": "serves HTTP",
    "ogpu.chain.web3.Web3Manager.session": "opens an HTTP session",
    "ogpu.chain.web3.Web3Manager.set_web3_instance": "pins any object as the Web3 (by design)",
    "ogpu.chain.web3.Web3Manager.update_rpc_url": "0.2.3's unchecked setter (set_rpc checks)",
    "ogpu.ipfs.backends.DevnetStoreBackend": "a client of a content store server",
    "ogpu.ipfs.backends.IPFSBackend": "abstract",
    "ogpu.ipfs.backends.IPFSNodeBackend": "a client of an IPFS node",
    "ogpu.ipfs.backends.OGPUPinningBackend": "a client of the pinning service",
    "ogpu.ipfs.backends.default_backend": "reads the environment once, cached",
    "ogpu.ipfs.fetch.fetch_ipfs_bytes": "HTTP",
    "ogpu.ipfs.fetch.fetch_ipfs_json": "HTTP",
    "ogpu.ipfs.publish.publish_to_ipfs": "HTTP",
    "ogpu.manifest.model.SourceManifest.load": "reads a file",
    "ogpu.manifest.store.read_manifest": "HTTP",
    "ogpu.protocol.response.Response": "a contract handle: its reads are RPC",
    "ogpu.protocol.source.Source": "a contract handle: its reads are RPC",
    "ogpu.protocol.task.Task": "a contract handle: its reads are RPC",
}

#: key -> parameters not walked: None there means "upload it first" (HTTP).
UPLOADS: dict[str, set[str]] = {
    "SourceInfo.to_source_params": {"image_metadata_url"},
    "TaskInfo.to_task_params": {"config_url"},
}

#: bound methods: key -> builds the instance whose method is walked.
INSTANCES: dict[str, Callable[[], Any]] = {
    "SourceInfo.to_source_params": lambda: SourceInfo(**_INFO),
    "TaskInfo.to_task_params": lambda: TaskInfo(ADDR, TaskInput("run", {}), 2_000_000_000, 1),
    "SourceManifest.check_task": lambda: SourceManifest.parse(MANIFEST),
    "SourceManifest.function": lambda: SourceManifest.parse(MANIFEST),
    "SchemaValidator.first_error": lambda: SchemaValidator({"type": "object"}),
    "Receipt.events": lambda: Receipt(**_RECEIPT),
}


def _public(module: str) -> Iterator[Any]:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
    for name in names:
        yield getattr(mod, name)


def surface() -> dict[str, Callable[..., Any]]:
    """Every public callable of ``MODULES`` (classes, functions, classmethods), by key."""
    found: dict[str, Callable[..., Any]] = {}
    for module in MODULES:
        for obj in _public(module):
            if not callable(obj) or (isinstance(obj, type) and issubclass(obj, BaseException)):
                continue
            if obj.__module__.split(".")[0] not in ("ogpu", "ogpu_bindings"):
                continue
            key = f"{obj.__module__}.{obj.__qualname__}"
            found.setdefault(key, obj)
            for name, attr in vars(obj).items() if isinstance(obj, type) else ():
                if not name.startswith("_") and isinstance(attr, (classmethod, staticmethod)):
                    found.setdefault(f"{key}.{name}", getattr(obj, name))
    for key, build in INSTANCES.items():
        found[key] = getattr(build(), key.split(".")[1])
    return found


def parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters a hostile value can be put in (``*args`` as one positional value)."""
    if isinstance(fn, EnumMeta):  # its signature also shows the functional API's names
        return [inspect.Parameter("value", inspect.Parameter.POSITIONAL_ONLY)]
    params = inspect.signature(fn).parameters.values()
    return [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]


def call(
    fn: Callable[..., Any], baseline: dict[str, Any], slot: inspect.Parameter, value: Any
) -> None:
    """``fn(**baseline)`` with ``value`` in ``slot``; enters a returned context manager."""
    args: tuple[Any, ...] = ()
    kwargs = dict(baseline)
    if slot.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
        kwargs.pop(slot.name, None)
        args = (value,)
    else:
        kwargs[slot.name] = value
    enter(fn(*args, **kwargs))


def enter(result: Any) -> None:
    """Enter and leave ``result`` if it is a context manager (``using`` returns one)."""
    if isinstance(result, contextlib.AbstractContextManager) and not isinstance(result, PurePath):
        with result:
            pass


class _RaisingStr:
    def __str__(self) -> str:
        raise RuntimeError("__str__ of the caller's object failed")

    __repr__ = __str__


class _RaisingInt:
    def __int__(self) -> int:
        raise RuntimeError("__int__ of the caller's object failed")

    __index__ = __int__


def _nested(depth: int, wrap: Callable[[Any], Any]) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = wrap(value)
    return value


#: label -> builds one hostile value (fresh: some are mutable).
HOSTILE: dict[str, Callable[[], Any]] = {
    "None": lambda: None,
    "zero": lambda: 0,
    "negative": lambda: -1,
    "huge int": lambda: 10**80,
    "bool": lambda: True,
    "nan": lambda: float("nan"),
    "inf": lambda: float("inf"),
    "float": lambda: 1.5,
    "empty str": lambda: "",
    "lone surrogate": lambda: "\ud800",
    "10^6 chars": lambda: "a" * 10**6,
    "bytes": lambda: b"\x00\xff",
    "list": lambda: [1, "a"],
    "dict of junk": lambda: {"a": object()},
    "nested lists": lambda: _nested(5000, lambda v: [v]),
    "nested dicts": lambda: _nested(5000, lambda v: {"a": v}),
    "raising __str__": _RaisingStr,
    "raising __int__": _RaisingInt,
    "object": object,
    "set": lambda: {1},
    "enum member": lambda: Environment.CPU,
}

_REPR = (
    "Python's Enum call formats repr(value) for its own message before raising the typed "
    "error of _missing_ (errors.not_a_member); the SDK coerces through types.enums.member"
)

#: key -> (the parameters, or "parameter=hostile label"s, whose raw escapes are left, why);
#: the test fails for any other escape, and when a listed one no longer escapes.
KNOWN: dict[str, tuple[str, str]] = {
    **{
        key: ("value=raising __str__", _REPR)
        for key in (
            "ogpu.chain.networks.ChainId",
            "ogpu.types.enums.Role",
            "ogpu_bindings.enums.DeliveryMethod",
            "ogpu_bindings.enums.Environment",
            "ogpu_bindings.enums.ResponseStatus",
            "ogpu_bindings.enums.SourceStatus",
            "ogpu_bindings.enums.TaskStatus",
        )
    },
    "ogpu_bindings.structs.ResponseParams.from_abi": ("values", "decoded ABI output only"),
}
