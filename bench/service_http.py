"""The wire and the processes of the service bench (``bench/service_load.py``).

A minimal HTTP/1.1 client (keep-alive, no retries), an asyncio callback
receiver, and one side's service process serving the bench's source.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from bench.sides import SCRATCH, worker_env

__all__ = ["Connection", "Receiver", "Server"]

_SOURCE = """
import ogpu.service
from pydantic import BaseModel
{prelude}

class Job(BaseModel):
    n: int


class Result(BaseModel):
    n: int
    square: int


@ogpu.service.expose()
def square(data: Job) -> Result:
    return Result(n=data.n, square=data.n * data.n)


ogpu.service.start()
"""
# 0.2.3 hard-codes 0.0.0.0:5555 (ogpu/service/config.py) and start() reads the names
# server.py imported; set them before start().
_OFFICIAL_PRELUDE = """
import os
import ogpu.service.server as _server
_server.SERVICE_HOST = "127.0.0.1"
_server.SERVICE_PORT = int(os.environ["BENCH_SERVICE_PORT"])
"""
# ours reads its bind address from the environment like a container does
_READY_PATH = {"ours": "/health", "official": "/openapi.json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a minimal HTTP/1.1 client and callback receiver (no retries, keep-alive) -----------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, bool]:
        """One request; returns (status, body, server closes the connection)."""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = dict(
            (k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines[1:] if x)
        )
        data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, data, headers.get("connection", "").lower() == "close"

    def close(self) -> None:
        self.writer.close()


@dataclass
class Callback:
    at: float
    path: str
    body: Any


class Receiver:
    """An asyncio HTTP server recording POSTs to ``/{side}/{task_address}``; answers 200."""

    def __init__(self) -> None:
        self.calls: dict[str, list[Callback]] = {}
        self.total = 0
        self.changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length, close = 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection":
                        close = value.strip().lower() == "close"
                data = await reader.readexactly(length)
                try:
                    body: Any = json.loads(data)
                except ValueError:
                    body = data
                task = path.rstrip("/").rsplit("/", 1)[-1]
                self.calls.setdefault(task, []).append(Callback(time.monotonic(), path, body))
                self.total += 1
                self.changed.set()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the sender went away, or the receiver is stopping
        finally:
            writer.close()


# -- the servers ------------------------------------------------------------------------------


class Server:
    """One side's service process, logging to a temporary file."""

    def __init__(self, side: str, python: str, callback_url: str, env: dict[str, str]) -> None:
        self.side = side
        self.port = _free_port()
        prelude = _OFFICIAL_PRELUDE if side == "official" else ""
        run_env = {**worker_env(), **env, "CALLBACK_URL": callback_url}
        if side == "official":
            run_env["BENCH_SERVICE_PORT"] = str(self.port)
        else:
            run_env.update(OGPU_SERVICE_HOST="127.0.0.1", OGPU_SERVICE_PORT=str(self.port))
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [python, "-c", _SOURCE.format(prelude=prelude)],
            env=run_env,
            cwd=SCRATCH,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = await Connection.open(self.port)
                try:
                    status, _, _ = await conn.request("GET", _READY_PATH[self.side])
                finally:
                    conn.close()
                if status == 200:
                    return
            except (OSError, asyncio.IncompleteReadError, ValueError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.side} service did not become ready: {self.tail()}")
            await asyncio.sleep(0.05)

    def tail(self, limit: int = 1500) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-limit:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
