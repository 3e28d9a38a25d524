"""The seam between hand-written code and the bindings is typed end to end: mypy --strict,
run on snippets written as ``ogpu.client`` code is, rejects a wrong argument type or a wrong
use of a result, and accepts the right ones (nothing crosses as Any)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

HEADER = """\
from ogpu_bindings import controller, nexus, vault
from ogpu_bindings.enums import TaskStatus
from ogpu_bindings.runtime import TxRequest
from ogpu_bindings.structs import TaskParams

from ogpu.protocol import Provider, Task
from ogpu.protocol import vault as protocol_vault

NEXUS = "0x" + "11" * 20
"""

GOOD = """
request: TxRequest = controller.publish_task(NEXUS, TaskParams(NEXUS, "ipfs://x", 1, 2))
balance: int = vault.balance_of_call(NEXUS, NEXUS).decode(b"")
event = nexus.decode_task_published({})
task: str = event.task
refund: TxRequest = vault.cancel_unbonding(NEXUS, network="mainnet")
held: int = protocol_vault.get_balance_of(NEXUS)
status: TaskStatus = Task(NEXUS).get_status()
staked = Provider(NEXUS).stake(1, signer="0x" + "11" * 32)
"""

#: Each snippet and the mypy error code it must produce.
BAD = {
    'vault.lock(NEXUS, "10")\n': "arg-type",
    'controller.publish_task(NEXUS, {"source": NEXUS})\n': "arg-type",
    'name: str = vault.balance_of_call(NEXUS, NEXUS).decode(b"")\n': "assignment",
    "nexus.decode_task_published({}).no_such_field\n": "attr-defined",
    "vault.cancel_unbonding(NEXUS)\n": "call-arg",  # the network is not optional
    # the generated part of ogpu.protocol (abis/protocol.json) is as typed
    'protocol_vault.lock("10", signer="k")\n': "arg-type",
    "payment: str = Task(NEXUS).get_payment()\n": "assignment",
    "Provider(NEXUS).register_to(NEXUS)\n": "call-arg",
}


def _mypy(tmp_path: Path, snippets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for name, body in snippets.items():
        (tmp_path / f"{name}.py").write_text(HEADER + body)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            *sorted(str(tmp_path / f"{name}.py") for name in snippets),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_bindings_are_typed_for_their_callers(tmp_path: Path) -> None:
    bad = {f"bad{i}": body for i, body in enumerate(BAD)}
    proc = _mypy(tmp_path, {"good": GOOD, **bad})
    lines = [line for line in proc.stdout.splitlines() if ": error: " in line]
    assert not [line for line in lines if "good.py" in line], proc.stdout
    for i, (body, code) in enumerate(BAD.items()):
        found = [line for line in lines if f"bad{i}.py" in line]
        assert found and all(f"[{code}]" in line for line in found), (body, proc.stdout)
    assert proc.returncode == 1
