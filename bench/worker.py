"""Benchmark worker: runs workloads with one SDK side, driven by JSON lines on stdin.

    python bench/worker.py --side ours|official|web3            # command loop
    python bench/worker.py --side S --oneshot < commands.jsonl   # run the commands, exit

Runs as a plain script under either interpreter: the main venv (``ours`` = this
repository's ``ogpu``; ``web3`` = hand-written web3.py calls, the floor) or the
official SDK's venv (``official`` = ``ogpu==0.2.3``, pointed at the devnet by
``official_shim``). It imports only the standard library at start-up; the SDK is
imported by the first command that needs it, so ``import`` timings are clean.

Protocol: each command is one JSON object per line; each answer is one line
``@@bench@@ {json}`` on stdout (other output is ignored by the harness). A
workload that is not available in this side answers ``{"unavailable": reason}``.
Keys arrive on stdin only and are never echoed.

``ours`` and ``official`` run the *same* workload code: both packages expose the
official public API (``ogpu.protocol.Task``, ``ogpu.client.publish_task``,
``ogpu.events.watch_task_published``...); only ``configure`` differs.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

MARK = "@@bench@@"
_print_lock = threading.Lock()


def emit(payload: dict[str, Any]) -> None:
    line = MARK + " " + json.dumps(payload, default=str)
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Unavailable(Exception):
    """This side cannot run the workload (missing module or function)."""


def _rss_kib(field: str = "VmRSS") -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _norm_hash(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex()
    elif hasattr(value, "hex") and not isinstance(value, str):
        text = str(value.hex())
    else:
        text = str(value)
    text = text.lower()
    return text[2:] if text.startswith("0x") else text


def _plain(value: Any) -> Any:
    """Enum members to their value, addresses to lower case, for cross-side comparison."""
    if value is None or isinstance(value, (bool, int)):
        return int(value) if isinstance(value, bool) else value
    inner = getattr(value, "value", None)
    if inner is not None and not isinstance(value, str):
        return _plain(inner)
    if isinstance(value, str):
        return value.lower()
    return str(value)


def _need(module: str, *names: str) -> Any:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{module} not importable ({exc})") from None
    for name in names:
        if not hasattr(mod, name):
            raise Unavailable(f"{module}.{name} does not exist")
    return mod


# -- shared state ---------------------------------------------------------------------------


class State:
    def __init__(self, side: str) -> None:
        self.side = side
        self.rpc = ""
        self.store = ""
        self.contracts: dict[str, str] = {}
        self.chain_id = 0
        self.w3: Any = None
        self.abis: dict[str, Any] = {}
        self.session: Any = None


ABI_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "abis")


def _abi(state: State, name: str) -> Any:
    if name not in state.abis:
        with open(os.path.join(ABI_DIR, "mainnet", f"{name}Abi.json")) as fh:
            state.abis[name] = json.load(fh)
    return state.abis[name]


# -- configure ------------------------------------------------------------------------------


def op_configure(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    state.rpc, state.store = cmd["rpc"], cmd["store"]
    state.contracts = dict(cmd["contracts"])
    state.chain_id = int(cmd["chain_id"])
    if state.side == "official":
        import importlib

        official_shim = importlib.import_module("official_shim")  # next to this script
        official_shim.configure(state.rpc, state.store, state.contracts)
        return {"overrides": official_shim.overrides()}
    if state.side == "ours":
        chain = _need("ogpu.chain", "ChainConfig")
        if not hasattr(chain.ChainConfig, "use_devnet"):
            raise Unavailable("ogpu.chain.ChainConfig.use_devnet does not exist")
        chain.ChainConfig.use_devnet(
            {k.lower(): v for k, v in state.contracts.items()}, rpc=state.rpc
        )
        os.environ["OGPU_IPFS_BACKEND"] = "ogpu"
        os.environ["OGPU_IPFS_API_URL"] = state.store
        os.environ["OGPU_IPFS_GATEWAY"] = state.store
        return {"chain": str(chain.ChainConfig.get_current_chain())}
    import requests
    from requests.adapters import HTTPAdapter
    from web3 import Web3

    state.session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
    state.session.mount("http://", adapter)
    # cache_allowed_requests: eth_chainId once, not before every call (web3's default)
    provider = Web3.HTTPProvider(state.rpc, session=state.session, cache_allowed_requests=True)
    state.w3 = Web3(provider)
    return {"web3": True}


# -- snapshot -------------------------------------------------------------------------------

_SNAPSHOT_FIELDS = (
    ("source", "getSource"),
    ("status", "getStatus"),
    ("params", "taskParams"),
    ("payment", "getPayment"),
    ("expiry_time", "getExpiryTime"),
    ("delivery_method", "getDeliveryMethod"),
    ("attempt_count", "getAttemptCount"),
    ("winning_provider", "winningProvider"),
)


def _snapshot_fn(state: State, task: str) -> Callable[[], dict[str, Any]]:
    if state.side == "web3":
        contract = state.w3.eth.contract(
            state.w3.to_checksum_address(task), abi=_abi(state, "Task")
        )
        zero = "0x" + "00" * 20

        def floor() -> dict[str, Any]:
            with state.w3.batch_requests() as batch:
                for _, fn in _SNAPSHOT_FIELDS:
                    batch.add(getattr(contract.functions, fn)())
                values = batch.execute()
            out = dict(zip([f for f, _ in _SNAPSHOT_FIELDS], values, strict=True))
            if str(out["winning_provider"]).lower() == zero:
                out["winning_provider"] = None
            return out

        return floor
    protocol = _need("ogpu.protocol", "Task")
    if not hasattr(protocol.Task, "snapshot"):
        raise Unavailable("ogpu.protocol.Task.snapshot does not exist")
    instance = protocol.Task(task)

    def sdk() -> dict[str, Any]:
        snap = instance.snapshot()
        return {f: getattr(snap, f) for f, _ in _SNAPSHOT_FIELDS}

    return sdk


def _digest(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in snapshot.items() if k != "params"}


def op_snapshot(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    fn = _snapshot_fn(state, cmd["task"])
    times: list[float] = []
    last: dict[str, Any] = {}
    for _ in range(int(cmd["n"])):
        t0 = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - t0)
    return {"times": times, "digest": _digest(last) if last else {}}


# -- first result ---------------------------------------------------------------------------

#: Stacks the time-to-first-result path of ours should not load (reported, not asserted).
_HEAVY = ("web3", "eth_abi", "eth_account", "eth_utils", "eth_hash", "requests", "pydantic")


def op_first_result(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """In a fresh worker: import the side's SDK (``configure``), then one snapshot."""
    t0 = time.perf_counter()
    op_configure(state, cmd)
    snapshot = _snapshot_fn(state, cmd["task"])()
    seconds = time.perf_counter() - t0
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)  # the whole process, start-up included
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "digest": _digest(snapshot),
        "loaded": [m for m in _HEAVY if m in sys.modules],
    }


# -- get_tasks ------------------------------------------------------------------------------


def op_get_tasks(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    source = cmd["source"]
    if state.side == "web3":
        contract = state.w3.eth.contract(
            state.w3.to_checksum_address(source), abi=_abi(state, "Source")
        )

        def fn() -> list[str]:
            count = contract.functions.getTaskCount().call()
            if count == 0:
                return []
            # Both bounds inclusive, from index 0 only (docs/MAINNET.md).
            return [str(a) for a in contract.functions.getTasks(0, count - 1).call()]

    else:
        protocol = _need("ogpu.protocol", "Source")
        if not hasattr(protocol.Source, "get_tasks"):
            raise Unavailable("ogpu.protocol.Source.get_tasks does not exist")
        instance = protocol.Source(source)

        def fn() -> list[str]:
            return [str(t.address) for t in instance.get_tasks()]

    times: list[float] = []
    found: list[str] = []
    for _ in range(int(cmd["n"])):
        t0 = time.perf_counter()
        found = fn()
        times.append(time.perf_counter() - t0)
    return {
        "times": times,
        "count": len(found),
        "unique": len({a.lower() for a in found}),
        "first": found[0].lower() if found else None,
        "last": found[-1].lower() if found else None,
    }


# -- publish_task ---------------------------------------------------------------------------


def _publish_floor(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """Hand-written pipeline: uploads in parallel, one batch of sends, one batch of receipts."""
    from concurrent.futures import ThreadPoolExecutor

    from eth_account import Account

    w3 = state.w3
    account = Account.from_key(cmd["key"])
    count, tag = int(cmd["count"]), str(cmd["tag"])
    controller = w3.eth.contract(
        w3.to_checksum_address(state.contracts["controller"]), abi=_abi(state, "Controller")
    )
    nexus = w3.eth.contract(
        w3.to_checksum_address(state.contracts["nexus"]), abi=_abi(state, "Nexus")
    )
    source = w3.to_checksum_address(cmd["source"])
    expiry = int(time.time()) + 3600
    url = state.store.rstrip("/") + "/file/create"

    def upload(i: int) -> str:
        body = json.dumps({"function_name": "bench", "data": {"i": i, "tag": tag}})
        answer = state.session.post(url, files={"file": ("taskConfig.json", body)}, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["link"])

    started = time.perf_counter()
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_transaction_count(account.address, "pending"))
        batch.add(w3.eth.gas_price)
        nonce, gas_price = batch.execute()
    with ThreadPoolExecutor(8) as pool:
        links = list(pool.map(upload, range(count)))
    payment = int(cmd["payment"])
    calls = [controller.functions.publishTask((source, link, expiry, payment)) for link in links]
    gas = int(calls[0].estimate_gas({"from": account.address}) * 1.2)
    raws = []
    for i, call in enumerate(calls):
        tx = call.build_transaction(
            {
                "from": account.address,
                "nonce": nonce + i,
                "gas": gas,
                "gasPrice": gas_price,
                "chainId": state.chain_id,
            }
        )
        raws.append("0x" + bytes(account.sign_transaction(tx).raw_transaction).hex())
    sent = w3.provider.make_batch_request([("eth_sendRawTransaction", [raw]) for raw in raws])
    hashes = [r["result"] for r in sent if "result" in r]
    errors = [str(r["error"]) for r in sent if "error" in r]
    receipts = w3.provider.make_batch_request([("eth_getTransactionReceipt", [h]) for h in hashes])
    topic = "0x" + _norm_hash(w3.keccak(text="TaskPublished(address,address)"))
    addresses = []
    for answer in receipts:
        receipt = answer.get("result") or {}
        if int(receipt.get("status", "0x0"), 16) != 1:
            errors.append("receipt missing or failed")
            continue
        for log in receipt["logs"]:
            if (
                log["topics"]
                and log["topics"][0].lower() == topic
                and (log["address"].lower() == nexus.address.lower())
            ):
                addresses.append("0x" + log["data"][26:66])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "published": len(addresses),
        "unique": len(set(addresses)),
        "errors": errors[:5],
        "n_errors": len(errors),
    }


def op_publish(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    if state.side == "web3":
        return _publish_floor(state, cmd)
    client = _need("ogpu.client", "publish_task", "TaskInfo", "TaskInput")
    count, tag, key = int(cmd["count"]), str(cmd["tag"]), str(cmd["key"])
    concurrency = int(cmd.get("concurrency", 1))
    expiry = int(time.time()) + 3600

    def info(i: int) -> Any:
        return client.TaskInfo(
            source=cmd["source"],
            config=client.TaskInput(function_name="bench", data={"i": i, "tag": tag}),
            expiryTime=expiry,
            payment=int(cmd["payment"]),
        )

    def one(i: int) -> str:
        return str(client.publish_task(info(i), private_key=key).address)

    addresses: list[str] = []
    errors: list[str] = []
    if cmd.get("mode") == "many" and state.side == "ours":
        # the pipelined path: every check first, then batched estimates, sends and receipts
        publish_tasks = _need("ogpu.client", "publish_tasks").publish_tasks
        infos = [info(i) for i in range(count)]
        started = time.perf_counter()
        try:
            addresses = [str(t.address) for t in publish_tasks(infos, private_key=key)]
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        return _published(time.perf_counter() - started, addresses, errors)

    def guarded(i: int) -> None:
        try:
            addresses.append(one(i))
        except Exception as exc:  # recorded, the run continues
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    started = time.perf_counter()
    if concurrency <= 1:
        for i in range(count):
            guarded(i)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(guarded, range(count)))
    return _published(time.perf_counter() - started, addresses, errors)


def _published(seconds: float, addresses: list[str], errors: list[str]) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "published": len(addresses),
        "unique": len({a.lower() for a in addresses}),
        "errors": errors[:5],
        "n_errors": len(errors),
    }


# -- watchers -------------------------------------------------------------------------------


class _Sampler:
    """Samples this process's RSS every ``interval`` seconds in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - start, _rss_kib()))
            self._stop.wait(self._interval)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)


def _watch_floor(
    state: State,
    sources: list[str],
    from_block: int,
    poll_interval: float,
    expected: int,
    timeout: float,
    settle: float,
    record: Callable[[str, str, str], None],
    done: Callable[[], bool],
) -> None:
    """One ``eth_getLogs`` per poll from a block cursor; logs fanned out to every watcher."""
    w3 = state.w3
    nexus = w3.to_checksum_address(state.contracts["nexus"])
    topic = "0x" + _norm_hash(w3.keccak(text="TaskPublished(address,address)"))
    wanted = {s.lower() for s in sources}
    seen: set[tuple[int, int]] = set()
    cursor = from_block
    ready_at = time.monotonic() + settle
    announced = False
    deadline = time.monotonic() + timeout + settle
    while time.monotonic() < deadline and not done():
        logs = w3.provider.make_request(
            "eth_getLogs",
            [{"address": nexus, "topics": [topic], "fromBlock": hex(cursor), "toBlock": "latest"}],
        ).get("result", [])
        for log in logs:
            key = (int(log["blockNumber"], 16), int(log["logIndex"], 16))
            if key in seen:
                continue
            seen.add(key)
            cursor = max(cursor, key[0])
            data = log["data"][2:]
            task, source = "0x" + data[24:64], "0x" + data[88:128]
            if source.lower() in wanted:
                record(_norm_hash(log["transactionHash"]), source.lower(), task.lower())
        if not announced and time.monotonic() >= ready_at:
            emit({"ready": True})
            announced = True
        time.sleep(poll_interval)


def op_watch(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """Run one watcher per source until each saw ``expected`` events (or ``timeout``)."""
    sources = [s for s in cmd["sources"]]
    from_block = int(cmd["from_block"])
    poll_interval = float(cmd["poll_interval"])
    expected = int(cmd["expected_per_source"])
    timeout = float(cmd["timeout"])
    settle = float(cmd.get("settle", 1.0))
    events: list[tuple[str, str, str, float]] = []
    counts = {s.lower(): 0 for s in sources}
    lock = threading.Lock()

    def record(tx_hash: str, source: str, task: str) -> None:
        with lock:
            events.append((tx_hash, source, task, time.time()))
            counts[source] = counts.get(source, 0) + 1

    def done() -> bool:
        return all(v >= expected for v in counts.values())

    baseline = _rss_kib()
    with _Sampler() as sampler:
        if state.side == "web3":
            _watch_floor(
                state, sources, from_block, poll_interval, expected, timeout, settle, record, done
            )
        else:
            events_mod = _need("ogpu.events", "watch_task_published")
            import asyncio

            async def follow(source: str) -> None:
                got = 0
                async for event in events_mod.watch_task_published(
                    source, from_block=from_block, poll_interval=poll_interval
                ):
                    record(
                        _norm_hash(event.transaction_hash),
                        str(event.source).lower(),
                        str(event.task).lower(),
                    )
                    got += 1
                    if got >= expected:
                        return

            async def main() -> None:
                tasks = [asyncio.ensure_future(follow(s)) for s in sources]
                await asyncio.sleep(settle)
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                emit({"ready": True})
                finished, pending = await asyncio.wait(tasks, timeout=timeout)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                for task in finished:
                    if task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]

            asyncio.run(main())
    return {
        "events": events,
        "counts": counts,
        "rss_baseline_kib": baseline,
        "rss_peak_kib": _rss_kib("VmHWM"),
        "rss_samples": sampler.samples,
    }


# -- import time ----------------------------------------------------------------------------


def op_import(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    import importlib

    modules = list(cmd["modules"])
    before = len(sys.modules)
    t0 = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "modules_loaded": len(sys.modules) - before}


# -- probe ----------------------------------------------------------------------------------


def op_probe(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    """Which workloads this side can run (imports, no RPC)."""
    if state.side == "web3":
        _need("web3", "Web3")
        return {
            "snapshot": True,
            "get_tasks": True,
            "publish_task": True,
            "publish_tasks": True,
            "watchers": True,
            "long_watch": True,
            "import": True,
        }
    checks: dict[str, tuple[str, tuple[str, ...]]] = {
        "configure": ("ogpu.chain", ("ChainConfig",)),
        "snapshot": ("ogpu.protocol", ("Task",)),
        "get_tasks": ("ogpu.protocol", ("Source",)),
        "publish_task": ("ogpu.client", ("publish_task", "TaskInfo", "TaskInput")),
        "watchers": ("ogpu.events", ("watch_task_published",)),
        "import": ("ogpu", ()),
        "service": ("ogpu.service", ("expose", "start")),
    }
    out: dict[str, Any] = {}
    for name, (module, attrs) in checks.items():
        try:
            _need(module, *attrs)
            out[name] = True
        except Unavailable as exc:
            out[name] = str(exc)
    if out.get("snapshot") is True:
        task_cls = _need("ogpu.protocol").Task
        if not hasattr(task_cls, "snapshot"):
            out["snapshot"] = "ogpu.protocol.Task.snapshot does not exist"
    if out.get("get_tasks") is True and not hasattr(_need("ogpu.protocol").Source, "get_tasks"):
        out["get_tasks"] = "ogpu.protocol.Source.get_tasks does not exist"
    if (
        state.side == "ours"
        and out.get("configure") is True
        and not hasattr(_need("ogpu.chain").ChainConfig, "use_devnet")
    ):
        out["configure"] = "ogpu.chain.ChainConfig.use_devnet does not exist"
    out["long_watch"] = out["watchers"]
    # ours pipelines with publish_tasks; the official SDK's fastest safe way is its loop
    out["publish_tasks"] = out["publish_task"]
    if state.side == "ours" and out["publish_task"] is True:
        try:
            _need("ogpu.client", "publish_tasks")
        except Unavailable as exc:
            out["publish_tasks"] = str(exc)
    try:
        from importlib.metadata import version

        out["version"] = version("ogpu")
    except Exception:
        out["version"] = None
    return out


OPS: dict[str, Callable[[State, dict[str, Any]], dict[str, Any]]] = {
    "configure": op_configure,
    "snapshot": op_snapshot,
    "get_tasks": op_get_tasks,
    "publish": op_publish,
    "watch": op_watch,
    "import": op_import,
    "first_result": op_first_result,
    "probe": op_probe,
}


def run(state: State, cmd: dict[str, Any]) -> dict[str, Any]:
    op = OPS.get(str(cmd.get("op")))
    if op is None:
        return {"error": f"unknown op {cmd.get('op')!r}"}
    try:
        return op(state, cmd)
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    except Exception as exc:
        return {
            "error": f"{type(exc).__name__}: {exc}"[:500],
            "traceback": traceback.format_exc(limit=8)[-3000:],
        }


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--side", choices=("ours", "official", "web3"), required=True)
    parser.add_argument(
        "--oneshot", action="store_true", help="read every command until EOF first, run, exit"
    )
    args = parser.parse_args(argv)
    state = State(args.side)
    if args.oneshot:
        commands = [json.loads(line) for line in sys.stdin.read().splitlines() if line.strip()]
        for cmd in commands:
            answer = run(state, cmd)
            emit(answer)
            if "error" in answer or "unavailable" in answer:
                return 1
        return 0
    emit({"hello": args.side, "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "exit":
            break
        emit(run(state, cmd))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
