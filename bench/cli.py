"""``python -m bench.cli``: the command line's user-facing costs, measured on real processes.

- start-up: ``ogpu --help`` and ``ogpu --version`` against ``python -c pass`` (the floor),
  median of interleaved runs, as a ratio and a difference in ms;
- Ctrl-C: seconds from SIGINT to exit of ``ogpu provider run`` (waiting for its service,
  and serving), ``ogpu task watch`` on an open task and ``ogpu devnet``;
- connection errors: the length of the error line (and the time to fail) for a refused
  port, a host that does not resolve, a node that never answers (the devnet behind
  ``bench/proxy.py`` holding every request) and a node of another chain.

Needs the devnet extra (it starts ``ogpu devnet`` on free ports). Writes
``bench/results/cli.json`` (``--output NAME`` for another name) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
KEYS = ("CLIENT_PRIVATE_KEY", "PROVIDER_PRIVATE_KEY", "MASTER_PRIVATE_KEY", "AGENT_PRIVATE_KEY")
SDK_ENV = ("OGPU_CHAIN", "OGPU_RPC_URL", "OGPU_DEVNET_DEPLOYMENT", "OGPU_IPFS_BACKEND")


def ogpu_command() -> list[str]:
    """The ``ogpu`` console script next to this interpreter, else ``python -m ogpu.cli``."""
    script = Path(sys.executable).with_name("ogpu")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ogpu.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS + SDK_ENV}
    env.update(extra)
    return env


def _run_once(argv: list[str]) -> float:
    begin = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - begin


def startup(reps: int) -> dict[str, Any]:
    """Median wall time of each command, interleaved so machine load hits all alike."""
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "ogpu --version": [*ogpu_command(), "--version"],
        "ogpu --help": [*ogpu_command(), "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for argv in cases.values():
        _run_once(argv)  # warm the file cache
    for _ in range(reps):
        for name, argv in cases.items():
            times[name].append(_run_once(argv))
    floor = statistics.median(times["python -c pass"])
    out: dict[str, Any] = {"reps": reps, "floor_ms": round(floor * 1000, 1)}
    for name in ("ogpu --version", "ogpu --help"):
        median = statistics.median(times[name])
        out[name] = {
            "median_ms": round(median * 1000, 1),
            "over_floor_ms": round((median - floor) * 1000, 1),
            "ratio": round(median / floor, 2),
        }
    return out


# -- a devnet and what the Ctrl-C cases need -------------------------------------------------------


class Devnet:
    def __init__(self, workdir: Path, state: Path | None = None, ports: tuple[int, int] = (0, 0)):
        argv = [
            *ogpu_command(),
            "devnet",
            "--port",
            str(ports[0]),
            "--store-port",
            str(ports[1]),
            "--json",
        ]
        if state is not None:
            argv += ["--state", str(state)]
        self.log = open(workdir / "devnet.err", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self.log, text=True, env=clean_env()
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"ogpu devnet did not start: {(workdir / 'devnet.err').read_text()}")
        self.info: dict[str, Any] = json.loads(line)

    @property
    def rpc_url(self) -> str:
        return str(self.info["rpc_url"])

    def env(self, **extra: str) -> dict[str, str]:
        keys = {a["label"]: a["private_key"] for a in self.info["accounts"]}
        return clean_env(
            OGPU_CHAIN="devnet",
            OGPU_RPC_URL=self.rpc_url,
            OGPU_IPFS_BACKEND="devnet",
            OGPU_IPFS_API_URL=str(self.info["store_url"]),
            CLIENT_PRIVATE_KEY=keys["CLIENT[0]"],
            PROVIDER_PRIVATE_KEY=keys["PROVIDER[0]"],
            MASTER_PRIVATE_KEY=keys["MASTER[0]"],
            **extra,
        )

    def stop(self) -> float:
        return interrupt(self.process, 0.0)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def interrupt(process: subprocess.Popen[Any], after: float) -> float:
    """SIGINT ``process`` after ``after`` s; seconds until it exited (killed after 60 s)."""
    time.sleep(after)
    begin = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return 60.0
    return time.perf_counter() - begin


def spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``argv`` with stdout (and stderr) piped as text."""
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def run_json(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:3])} failed: {done.stderr.strip()}")
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    """Lines ``process`` printed (stdout) until one contains ``needle``."""
    assert process.stdout is not None
    seen: list[str] = []
    box: list[bool] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if needle in line:
                box.append(True)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        raise RuntimeError(f"never saw {needle!r}; got {''.join(seen)[-2000:]}")
    return seen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def published_address(data: dict[str, Any], kind: str) -> str:
    return str(data.get("address") or data[kind])


def ctrl_c(workdir: Path) -> dict[str, Any]:
    """Seconds from SIGINT to exit for the long-running commands."""
    cli = ogpu_command()
    devnet = Devnet(workdir)
    results: dict[str, Any] = {}
    service: subprocess.Popen[str] | None = None
    try:
        env = devnet.env()
        source = published_address(
            run_json(
                [*cli, "source", "publish", str(ROOT / "examples/source.toml"), "--json"], env
            ),
            "source",
        )
        run_json(
            [*cli, "vault", "deposit", "1 OGPU", "--role", "client", "--json"],
            env,
        )
        # provider run while its service is not up: it waits for GET /health
        run = [*cli, "provider", "run", "--source", source]
        waiting = spawn(
            [*run, "--service-url", f"http://127.0.0.1:{free_port()}", "--callback-port", "0"],
            env,
        )
        results["provider run, waiting for its service"] = round(interrupt(waiting, 3.0), 3)
        # provider run serving: the sample service up, the runtime watching
        service_port, callback_port = free_port(), free_port()
        service = subprocess.Popen(
            [sys.executable, str(ROOT / "examples/sentiment_source.py")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env
            | {
                "PORT": str(service_port),
                "CALLBACK_URL": f"http://127.0.0.1:{callback_port}/callback",
            },
        )
        url = f"http://127.0.0.1:{service_port}"
        serving = spawn(
            [*run, "--register", "--callback-port", str(callback_port), "--service-url", url],
            env,
        )
        wait_for_line(serving, "watching", 60)
        results["provider run, serving"] = round(interrupt(serving, 0.5), 3)
        task = published_address(
            run_json(
                [
                    *cli,
                    "task",
                    "publish",
                    str(ROOT / "examples/task.toml"),
                    "--source",
                    source,
                    "--json",
                ],
                env,
            ),
            "task",
        )
        watch = spawn([*cli, "task", "watch", task], env)
        wait_for_line(watch, "watching", 30)
        results["task watch"] = round(interrupt(watch, 1.0), 3)
    finally:
        if service is not None:
            service.terminate()
            service.wait()
        results["devnet"] = round(devnet.stop(), 3)
        devnet.close()
    return results


# -- connection errors ----------------------------------------------------------------------------


def error_line(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    begin = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)
    took = time.perf_counter() - begin
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return {"chars": len(last), "seconds": round(took, 2), "exit": done.returncode, "line": last}


def connection_errors(workdir: Path) -> dict[str, Any]:
    from bench.proxy import LatencyProxy

    cli = ogpu_command()
    address = "0x2b0cc6058313801d5feb184a539e3a0c5a87a6a1"
    show = [*cli, "vault", "show", address]
    out: dict[str, Any] = {}
    out["refused (--chain devnet, nothing on the port)"] = error_line(
        [*show, "--chain", "devnet", "--rpc", f"http://127.0.0.1:{free_port()}"], clean_env()
    )
    out["DNS failure (no --chain: mainnet's public RPC)"] = error_line(show, clean_env())
    out["DNS failure (--rpc with an unknown host)"] = error_line(
        [*show, "--chain", "devnet", "--rpc", "http://no-such-node.invalid:8545"], clean_env()
    )
    devnet = Devnet(workdir)
    try:
        # a node that never answers in time: the devnet behind a proxy holding each request
        with LatencyProxy(devnet.rpc_url, delay=120.0) as hung:
            out["timeout (a node that never answers)"] = error_line(
                [*show, "--chain", "devnet", "--rpc", hung.url], clean_env()
            )
        out["wrong chain id (--chain mainnet, a devnet node)"] = error_line(
            [*show, "--chain", "mainnet", "--rpc", devnet.rpc_url], clean_env()
        )
    finally:
        devnet.stop()
        devnet.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__)
    parser.add_argument("--reps", type=int, default=15, help="start-up runs per command")
    parser.add_argument("--output", default="cli", help="results file name under bench/results")
    parser.add_argument(
        "--only",
        choices=("startup", "ctrl_c", "errors"),
        action="append",
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args(argv)
    parts = args.only or ["startup", "ctrl_c", "errors"]
    results: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    workdir = Path(tempfile.mkdtemp(prefix="ogpu-bench-cli-"))
    try:
        if "startup" in parts:
            results["startup"] = startup(args.reps)
        if "ctrl_c" in parts:
            results["ctrl_c_seconds"] = ctrl_c(workdir)
        if "errors" in parts:
            results["connection_errors"] = connection_errors(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{args.output}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
