"""Run one of the SDK's JSON servers in its own process (test support).

``python json_server.py service|devnet|callback`` starts the server on a free
loopback port, prints its POST URL on one line, and serves until stdin closes.
``import eth_account`` comes first, as in any process using the SDK's chain layer:
it raises the interpreter's recursion limit to 100 000 (py_ecc does), which
changes how deeply nested JSON is handled.
"""

from __future__ import annotations

import sys

from pydantic import BaseModel


class In(BaseModel):
    text: str


def main(kind: str) -> int:
    import eth_account  # noqa: F401  (the recursion limit of every SDK process)

    if kind == "service":
        from ogpu.service import Service, ServiceConfig
        from ogpu.service.testing import serve_in_thread

        service = Service()

        @service.expose()
        def upper(data: In) -> In:
            return In(text=data.text.upper())

        with serve_in_thread(service, ServiceConfig(host="127.0.0.1", port=0)) as running:
            running.wait_ready()
            print(running.url("/run/upper/0x1"), flush=True)
            sys.stdin.read()
        return 0
    if kind == "devnet":
        from ogpu.devnet.serve import start_services

        services = start_services(port=0, store_port=0)
        try:
            print(services.rpc_url, flush=True)
            sys.stdin.read()
        finally:
            services.stop(save=False)
        return 0
    if kind == "callback":
        from ogpu.provider import CallbackServer

        server = CallbackServer()
        server.start()
        try:
            print(server.url + "/0x" + "ab" * 20, flush=True)
            sys.stdin.read()
        finally:
            server.stop()
        return 0
    raise SystemExit(f"unknown server {kind!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
