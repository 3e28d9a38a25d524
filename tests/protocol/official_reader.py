"""Run by the official SDK's interpreter (``ogpu==0.2.3``): read lists, print them as JSON.

``python official_reader.py`` reads one JSON object on stdin:
``{"rpc", "store", "contracts", "reads": [{"kind", "address", "lower", "upper"}]}``
and prints one JSON line: a list with, per read, ``{"items": [...]}`` or
``{"error": "<type>: <message>"}``. The official package is pointed at the devnet by
``bench/official_shim.py`` (configuration only; its code is not changed).
Standard library only, besides the official ``ogpu``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def _plain(value: Any) -> Any:
    address = getattr(value, "address", None)
    return str(address) if address is not None else value


def main() -> None:
    request = json.loads(sys.stdin.read())
    import official_shim  # type: ignore[import-not-found]

    official_shim.configure(request["rpc"], request["store"], request["contracts"])
    from ogpu.protocol import Source, Task  # the official package

    out: list[dict[str, Any]] = []
    for read in request["reads"]:
        kind, lower, upper = read["kind"], read["lower"], read["upper"]
        owner = Source(read["address"]) if kind in ("get_tasks", "get_registrants") else None
        target = owner if owner is not None else Task(read["address"])
        try:
            items = getattr(target, kind)(lower, upper)
            out.append({"items": [_plain(item) for item in items]})
        except Exception as exc:  # the oracle's failures are data here
            out.append({"error": f"{type(exc).__name__}: {exc}"[:300]})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
