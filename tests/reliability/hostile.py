"""Hostile HTTP servers on loopback (test support): they hang, drip and redirect.

``HostileServer(mode)`` listens on 127.0.0.1 with a raw socket and a thread per
connection, and answers every request (any method, any path) the way ``mode`` says:

- ``hang``: read the request, never answer (the connection stays open).
- ``silent``: accept and never read nor answer.
- ``drip-status``: send the status line one byte per ``interval``.
- ``drip-headers``: send a status line, then an endless header one byte per ``interval``.
- ``drip-body``: send complete headers (``Content-Length`` 1 MB), then the body one
  byte per ``interval``.
- ``drip-chunked``: chunked encoding, one 1-byte chunk per ``interval``, never the end.
- ``drip-json``: a valid JSON document ``payload`` dripped one byte per ``interval``
  with a correct ``Content-Length`` (it completes, late).
- ``slow-redirect``: wait ``interval``, then redirect to the same path (forever).
- ``json``: answer ``payload`` at once (a well-behaved server, for controls).

``backlog_full()`` returns a listening socket whose accept queue is full, so a new
``connect`` never completes (a connect that hangs).

Counters: ``connections`` accepted, ``requests`` whose head was read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

__all__ = ["MODES", "HostileServer", "backlog_full"]

MODES = (
    "hang",
    "silent",
    "drip-status",
    "drip-headers",
    "drip-body",
    "drip-chunked",
    "drip-json",
    "slow-redirect",
    "json",
)


class HostileServer:
    def __init__(
        self, mode: str, *, interval: float = 1.0, payload: bytes = b'{"ok": true}'
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.interval = interval
        self.payload = payload
        self.connections = 0
        self.requests = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self._thread = threading.Thread(target=self._accept, name=f"hostile-{mode}", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)  # a closed listener does not wake a blocked accept()
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                self.connections += 1
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.mode == "silent":
                self._stop.wait()
                return
            head = _read_head(sock)
            if head is None:
                return
            with self._lock:
                self.requests += 1
            getattr(self, "_" + self.mode.replace("-", "_"))(sock, head)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def _drip(self, sock: socket.socket, data: bytes) -> None:
        for byte in data:
            if self._stop.wait(self.interval):
                return
            sock.sendall(bytes([byte]))

    def _forever(self, sock: socket.socket, unit: bytes) -> None:
        while not self._stop.wait(self.interval):
            sock.sendall(unit)

    def _hang(self, sock: socket.socket, head: bytes) -> None:
        self._stop.wait()

    def _drip_status(self, sock: socket.socket, head: bytes) -> None:
        self._drip(sock, b"HTTP/1.1 200 OK\r\n" * 1000)

    def _drip_headers(self, sock: socket.socket, head: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: ")
        self._forever(sock, b"a")

    def _drip_body(self, sock: socket.socket, head: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        sock.sendall(b"Content-Length: 1000000\r\n\r\n{")
        self._forever(sock, b" ")

    def _drip_chunked(self, sock: socket.socket, head: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
        self._forever(sock, b"1\r\n \r\n")

    def _drip_json(self, sock: socket.socket, head: bytes) -> None:
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(self.payload)}\r\n\r\n".encode()
        )
        self._drip(sock, self.payload)

    def _slow_redirect(self, sock: socket.socket, head: bytes) -> None:
        if self._stop.wait(self.interval):
            return
        path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
        sock.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + path + b"\r\nContent-Length: 0\r\n\r\n")
        self._stop.wait()

    def _json(self, sock: socket.socket, head: bytes) -> None:
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(self.payload)}\r\n\r\n".encode()
            + self.payload
        )


def _read_head(sock: socket.socket) -> bytes | None:
    """The request line and headers (the body, if any, is left unread)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    return data


def backlog_full() -> tuple[socket.socket, list[socket.socket], Any]:
    """A listener that never accepts, with its queue filled: ``connect`` to it hangs.

    Returns ``(listener, fillers, address)``; close them all when done.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError, OSError):
            filler.connect(address)
        fillers.append(filler)
    time.sleep(0.05)
    return listener, fillers, address
