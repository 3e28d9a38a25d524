"""A separate process publishing tasks with the shared ``CLIENT_PRIVATE_KEY``.

Run as ``python nonce_worker.py CONFIG.json``; the key comes from the
environment (never argv). Each process has its own ``NonceManager``. The worker:

1. selects the devnet through the proxy and calls ``fix_nonce()``, so its nonce
   cache starts at the node's pending nonce;
2. prints ``{"ready": ...}`` and, with ``"wait": true``, waits for a line on stdin
   (the parent releases every worker at once, so they all start from the same
   cached nonce and collide);
3. publishes ``count`` tasks with the documented recovery: the executor
   resynchronizes by itself after a "nonce too low"; if collisions outlast its
   retries it raises ``NonceError`` (nothing landed), and the worker calls
   ``fix_nonce()`` and publishes again;
4. prints ``{"tasks": [...], "nonce_errors": n, "fixes": n}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())

    from ogpu.chain import ChainConfig, fix_nonce
    from ogpu.client import TaskInfo, TaskInput, publish_task
    from ogpu.types import NonceError

    ChainConfig.use_devnet(config["deployment"], rpc=config["rpc"])
    start = fix_nonce()
    print(json.dumps({"ready": True, "nonce": start}), flush=True)
    if config.get("wait"):
        sys.stdin.readline()

    tasks: list[str] = []
    nonce_errors = 0
    fixes = 0
    for index in range(config["count"]):
        info = TaskInfo(
            source=config["source"],
            config=TaskInput(function_name="predict", data={"worker": config["name"], "n": index}),
            expiryTime=config["expiry"],
            payment=config["payment"],
        )
        for _ in range(20):
            try:
                tasks.append(publish_task(info).address)
                break
            except NonceError:
                nonce_errors += 1
                fix_nonce()
                fixes += 1
        else:
            print(json.dumps({"error": "collisions never cleared"}), flush=True)
            return 1
    print(json.dumps({"tasks": tasks, "nonce_errors": nonce_errors, "fixes": fixes}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
