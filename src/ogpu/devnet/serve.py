"""Run the devnet as services: the chain over JSON-RPC plus the content store, with a state file.

:func:`start_services` builds a :class:`~ogpu.devnet.Devnet` (suite deployed),
optionally loads a state file over it, and serves it on two ports (JSON-RPC,
default 127.0.0.1:8545; content store, default 127.0.0.1:5001).
:meth:`DevnetServices.stop` stops both and writes the state file.

The state file is an exact copy of the chain database (every block, receipt
and state trie node), the content store's blobs and the clock offset, so a
restarted devnet continues with identical block hashes and timestamps. Format:
gzip of one JSON header line followed by length-prefixed records.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import struct
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ogpu import __version__
from ogpu.devnet.deploy import Deployment, DevnetError, DevnetInputError
from ogpu.devnet.faults import MainnetFaults
from ogpu.devnet.store import DEFAULT_MAX_UPLOAD, DEFAULT_STORE_PORT, ContentStore, StoreServer

if TYPE_CHECKING:
    from ogpu.devnet.chain import Devnet
    from ogpu.devnet.server import JsonRpcDispatcher, RpcServer

__all__ = [
    "DEFAULT_RPC_PORT",
    "DEFAULT_STORE_PORT",
    "STATE_FORMAT",
    "STATE_VERSION",
    "DevnetServices",
    "ListenError",
    "StateFileError",
    "StateInfo",
    "read_state",
    "start_services",
]

DEFAULT_RPC_PORT = 8545
STATE_FORMAT = "ogpu-devnet-state"
STATE_VERSION = 1
_LENGTH = struct.Struct(">I")


class StateFileError(DevnetError):
    """A devnet state file is unreadable, corrupt, or from an incompatible devnet."""


class ListenError(DevnetError, OSError):
    """A devnet server cannot bind its address (also an ``OSError``).

    ``service``: ``"JSON-RPC server"`` or ``"content store"``; ``host``, ``port``: the address
    asked for; ``reason``: the operating system's words (e.g. "Address already in use").
    """

    def __init__(self, service: str, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port} for the {service}: {reason}")
        self.service = service
        self.host = host
        self.port = port
        self.reason = reason


@dataclass(frozen=True)
class StateInfo:
    """What a state file holds: its header fields plus the database and blobs."""

    chain_id: int
    head_hash: bytes
    head_number: int
    deployment: Deployment
    time_offset: int
    records: dict[bytes, bytes]
    blobs: list[bytes]


def _write_record(stream: gzip.GzipFile, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)


def _read_exact(stream: gzip.GzipFile, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise StateFileError("state file is truncated")
    return data


def _read_record(stream: gzip.GzipFile) -> bytes:
    (size,) = _LENGTH.unpack(_read_exact(stream, _LENGTH.size))
    return _read_exact(stream, size)


def write_state(
    path: Path,
    *,
    chain_id: int,
    head_hash: bytes,
    head_number: int,
    deployment: Deployment,
    time_offset: int,
    records: dict[bytes, bytes],
    blobs: list[bytes],
) -> None:
    """Write a state file atomically (temp file + rename). Raises StateFileError on I/O errors."""
    header = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "ogpu": __version__,
        "chain_id": chain_id,
        "head_hash": "0x" + head_hash.hex(),
        "head_number": head_number,
        "deployment": json.loads(deployment.to_json()),
        "time_offset": time_offset,
        "records": len(records),
        "blobs": len(blobs),
    }
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        try:
            with os.fdopen(handle, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as stream:
                    stream.write(json.dumps(header).encode("utf-8") + b"\n")
                    for key, value in records.items():
                        _write_record(stream, key)
                        _write_record(stream, value)
                    for blob in blobs:
                        _write_record(stream, blob)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
    except OSError as exc:
        raise StateFileError(f"cannot write state file {path}: {exc.strerror or exc}") from None


def read_state(path: Path) -> StateInfo:
    """Read and check a state file. Raises StateFileError (missing, corrupt, wrong format)."""
    try:
        with gzip.open(path, "rb") as stream:
            header_line = stream.readline(1024 * 1024)
            try:
                header = json.loads(header_line)
            except ValueError:
                raise StateFileError(f"{path} is not a devnet state file") from None
            if not isinstance(header, dict) or header.get("format") != STATE_FORMAT:
                raise StateFileError(f"{path} is not a devnet state file")
            if header.get("version") != STATE_VERSION:
                raise StateFileError(
                    f"{path} has state format version {header.get('version')!r}; "
                    f"this ogpu reads version {STATE_VERSION}"
                )
            try:
                count = int(header["records"])
                blob_count = int(header["blobs"])
                info_fields = (
                    int(header["chain_id"]),
                    bytes.fromhex(str(header["head_hash"])[2:]),
                    int(header["head_number"]),
                    Deployment.from_json(json.dumps(header["deployment"])),
                    int(header["time_offset"]),
                )
            except (KeyError, TypeError, ValueError, DevnetError) as exc:
                raise StateFileError(f"{path} has a malformed header: {exc}") from None
            records: dict[bytes, bytes] = {}
            for _ in range(count):
                key = _read_record(stream)
                records[key] = _read_record(stream)
            blobs = [_read_record(stream) for _ in range(blob_count)]
            if stream.read(1):
                raise StateFileError(f"{path} has trailing data")
    except FileNotFoundError:
        raise StateFileError(f"state file {path} does not exist") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise StateFileError(f"cannot read state file {path}: {exc}") from None
    chain_id, head_hash, head_number, deployment, time_offset = info_fields
    return StateInfo(chain_id, head_hash, head_number, deployment, time_offset, records, blobs)


def _database_records(chain: Any) -> dict[bytes, bytes]:
    from eth.db.backends.memory import MemoryDB

    wrapped = getattr(chain.chaindb.db, "wrapped_db", None)
    if not isinstance(wrapped, MemoryDB):
        raise StateFileError("the chain database is not an in-memory database; cannot save it")
    return {key: wrapped[key] for key in wrapped}


def _load_chain(devnet: Devnet, info: StateInfo, path: Path) -> None:
    from eth.db.atomic import AtomicDB
    from eth.db.backends.memory import MemoryDB
    from eth.exceptions import CanonicalHeadNotFound, HeaderNotFound

    if info.chain_id != devnet.chain_id:
        raise StateFileError(
            f"{path} holds chain id {info.chain_id}, this devnet is {devnet.chain_id}"
        )
    saved = info.deployment
    fresh = devnet.deployment
    if (saved.nexus, saved.controller, saved.terminal, saved.vault, saved.manager) != (
        fresh.nexus,
        fresh.controller,
        fresh.terminal,
        fresh.vault,
        fresh.manager,
    ):
        raise StateFileError(
            f"{path} was written by a devnet with different contract addresses; "
            "delete it to start over"
        )
    with devnet.lock:
        chain_class = type(devnet.tester.backend.chain)
        try:
            chain = chain_class(AtomicDB(MemoryDB(dict(info.records))))
            head = chain.get_canonical_head()
        except (CanonicalHeadNotFound, HeaderNotFound, KeyError) as exc:
            raise StateFileError(f"{path} holds an incomplete chain database: {exc}") from None
        if head.hash != info.head_hash or head.block_number != info.head_number:
            raise StateFileError(f"{path}: the chain head does not match the file's header")
        devnet.tester.backend.chain = chain


@dataclass
class DevnetServices:
    """A running devnet: chain, JSON-RPC server, content store server, optional state file."""

    devnet: Devnet
    dispatcher: JsonRpcDispatcher
    rpc_server: RpcServer
    store: ContentStore
    store_server: StoreServer
    state_file: Path | None = None
    loaded_state: bool = False
    block_time: float | None = None
    _miner: threading.Thread | None = None
    _stopping: threading.Event | None = None
    _stopped: bool = False

    @property
    def rpc_url(self) -> str:
        """The JSON-RPC URL actually bound."""
        return self.rpc_server.url

    @property
    def store_url(self) -> str:
        """The content store's URL actually bound (API and gateway)."""
        return self.store_server.url

    @property
    def gateway_url(self) -> str:
        """The base of the links ``/file/create`` answers with."""
        return self.store_server.gateway_url

    def block_number(self) -> int:
        """The latest block number (in process, no RPC)."""
        return self.devnet.block_number()

    def save_state(self, path: Path | None = None) -> Path:
        """Write the state file (default: the configured one); return its path.

        Holds the chain lock while copying the database. Raises StateFileError.
        """
        target = path or self.state_file
        if target is None:
            raise DevnetInputError("no state file configured")
        with self.devnet.lock:
            chain = self.devnet.tester.backend.chain
            head = chain.get_canonical_head()
            records = _database_records(chain)
            time_offset = self.dispatcher.time_offset
        write_state(
            target,
            chain_id=self.devnet.chain_id,
            head_hash=head.hash,
            head_number=int(head.block_number),
            deployment=self.devnet.deployment,
            time_offset=time_offset,
            records=records,
            blobs=self.store.blobs(),
        )
        return target

    def _mine_forever(self, interval: float, stopping: threading.Event) -> None:
        while not stopping.wait(interval):
            self.dispatcher.mine(1)

    def start(self) -> None:
        """Start serving (and interval mining when ``block_time`` is set)."""
        self.rpc_server.start()
        self.store_server.start()
        if self.block_time and self._miner is None:
            self._stopping = threading.Event()
            self._miner = threading.Thread(
                target=self._mine_forever,
                args=(self.block_time, self._stopping),
                name="ogpu-devnet-miner",
                daemon=True,
            )
            self._miner.start()

    def stop(self, *, save: bool = True) -> Path | None:
        """Stop mining and both servers; write the state file if configured. Idempotent.

        Returns the state file written, if any. Raises StateFileError when saving fails.
        """
        if self._stopped:
            return None
        self._stopped = True
        if self._stopping is not None and self._miner is not None:
            self._stopping.set()
            self._miner.join()
        self.rpc_server.stop()
        self.store_server.stop()
        if save and self.state_file is not None:
            return self.save_state()
        return None

    def __enter__(self) -> DevnetServices:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_services(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_RPC_PORT,
    store_port: int = DEFAULT_STORE_PORT,
    state_file: str | os.PathLike[str] | None = None,
    block_time: float | None = None,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    gateway_url: str | None = None,
    call_gas_cap: int | None = None,
    mainnet_faults: MainnetFaults | None = None,
) -> DevnetServices:
    """Build the devnet (or load ``state_file`` if it exists), bind both ports and start serving.

    ``call_gas_cap``: most gas one ``eth_call`` may use (geth's ``--rpc.gascap``;
    default ``server.DEFAULT_CALL_GAS_CAP``, 50,000,000).
    ``mainnet_faults``: answer some requests like the public RPC (``ogpu.devnet.faults``).

    Cost: one suite deployment in process (about a second). Raises
    DevnetInputError for bad arguments, StateFileError for an unusable state
    file, ListenError (an OSError) when a port cannot be bound.
    """
    for name, value in (("port", port), ("store_port", store_port)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise DevnetInputError(f"{name} must be an int between 0 and 65535, got {value!r}")
    if block_time is not None and not block_time > 0:
        raise DevnetInputError(f"block_time must be positive, got {block_time!r}")
    if isinstance(max_upload, bool) or not isinstance(max_upload, int) or max_upload <= 0:
        raise DevnetInputError(f"max_upload must be a positive int, got {max_upload!r}")
    if call_gas_cap is not None and (
        isinstance(call_gas_cap, bool) or not isinstance(call_gas_cap, int) or call_gas_cap < 1
    ):
        raise DevnetInputError(f"call_gas_cap must be a positive int, got {call_gas_cap!r}")
    path = Path(state_file) if state_file is not None else None
    info = read_state(path) if path is not None and path.exists() else None

    from ogpu.devnet.chain import Devnet
    from ogpu.devnet.server import DEFAULT_CALL_GAS_CAP, JsonRpcDispatcher, RpcServer

    devnet = Devnet()
    store = ContentStore()
    dispatcher = JsonRpcDispatcher(
        devnet.tester,
        devnet.lock,
        unlocked=[account.account for account in devnet.accounts],
        client_version=f"ogpu-devnet/{__version__}/py-evm",
        call_gas_cap=DEFAULT_CALL_GAS_CAP if call_gas_cap is None else call_gas_cap,
    )
    if info is not None and path is not None:
        _load_chain(devnet, info, path)
        dispatcher.time_offset = info.time_offset
        store.load(info.blobs)
    try:
        rpc_server = RpcServer(dispatcher, host, port, faults=mainnet_faults)
    except OSError as exc:
        raise ListenError("JSON-RPC server", host, port, exc.strerror or str(exc)) from None
    try:
        store_server = StoreServer(
            host, store_port, store=store, max_upload=max_upload, gateway_url=gateway_url
        )
    except OSError as exc:
        rpc_server.server_close()
        raise ListenError("content store", host, store_port, exc.strerror or str(exc)) from None
    except BaseException:
        rpc_server.server_close()
        raise
    services = DevnetServices(
        devnet=devnet,
        dispatcher=dispatcher,
        rpc_server=rpc_server,
        store=store,
        store_server=store_server,
        state_file=path,
        loaded_state=info is not None,
        block_time=block_time,
    )
    services.start()
    return services


def iter_accounts(services: DevnetServices) -> Iterator[tuple[str, str, str]]:
    """(label, address, key hex) of each funded devnet account. DEVNET KEYS ONLY."""
    for account in services.devnet.accounts:
        yield f"{account.role.value.upper()}[{account.index}]", account.address, account.key_hex
