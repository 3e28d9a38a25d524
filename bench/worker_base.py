"""What every worker module shares: the answer channel, the worker's state, SDK and ABI lookups.

Imported by ``worker.py`` (a plain script: this directory is on its ``sys.path``) and by
the op modules it loads; standard library only, so a worker's start-up stays light.
"""

from __future__ import annotations

import json
import os
import sys
import threading
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


def rss_kib(field: str = "VmRSS") -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def norm_hash(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex()
    elif hasattr(value, "hex") and not isinstance(value, str):
        text = str(value.hex())
    else:
        text = str(value)
    text = text.lower()
    return text[2:] if text.startswith("0x") else text


def plain(value: Any) -> Any:
    """Enum members to their value, addresses to lower case, for cross-side comparison."""
    if value is None or isinstance(value, (bool, int)):
        return int(value) if isinstance(value, bool) else value
    inner = getattr(value, "value", None)
    if inner is not None and not isinstance(value, str):
        return plain(inner)
    if isinstance(value, str):
        return value.lower()
    return str(value)


def need(module: str, *names: str) -> Any:
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


def load_abi(state: State, name: str) -> Any:
    if name not in state.abis:
        with open(os.path.join(ABI_DIR, "mainnet", f"{name}Abi.json")) as fh:
            state.abis[name] = json.load(fh)
    return state.abis[name]
