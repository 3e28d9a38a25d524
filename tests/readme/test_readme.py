"""Every shell block of the README, run as written in a fresh environment (issue 18).

Each ```bash block runs in one ``bash -e`` in a scratch folder that holds a link to the
repository's ``examples/``, with a temporary ``HOME``, no ``OGPU_*`` or role key from the
developer's shell and this interpreter's ``ogpu`` first on ``PATH`` (the README assumes
the project's virtualenv is active). Its own devnet is started by the block
(``--port 0``). Two adaptations, both mechanical: the fixed service and callback ports of
the source-developer block become free ones, and a command the README runs in the
foreground until Ctrl-C gets SIGINT after it printed what it prints. The install block
(``pip install … && ogpu demo`` / ``make test``) is what CI itself runs, so it is not run
again here; ``ogpu demo`` is tested in tests/cli/test_demo.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers.state import ROLE_VARS
from ..helpers.wait import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
#: Commands that run until Ctrl-C when pasted (no --detach, no &): SIGINT after this long.
FOREGROUND = re.compile(r"^ogpu devnet (?!.*--detach)(?!deploy)")
FOREGROUND_SECONDS = 20


def bash_blocks() -> list[str]:
    """The README's ```bash blocks, in order."""
    return re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)


def _block(fragment: str) -> str:
    found = [block for block in bash_blocks() if fragment in block]
    assert len(found) == 1, f"one README block with {fragment!r} expected, found {len(found)}"
    return found[0]


def _runnable(block: str) -> str:
    """The block as bash runs it: background processes stopped on any exit, foreground
    servers interrupted once they had time to print."""
    lines = []
    for line in block.splitlines():
        command = line.split("#")[0].rstrip()
        if FOREGROUND.match(command):
            line = f"timeout -s INT {FOREGROUND_SECONDS} {command} || [ $? -eq 124 ]"
        lines.append(line)
    cleanup = "kill ${PROVIDER:-} ${SERVICE:-} ${DEVNET:-} 2>/dev/null || true"
    return "set -e\ntrap '" + cleanup + "' EXIT\n" + "\n".join(lines) + "\n"


def run_block(block: str, tmp_path: Path, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    home = tmp_path / "home"
    home.mkdir()
    drop = ("OGPU_", "CALLBACK_", "PORT", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in ROLE_VARS}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run(
        ["bash", "-c", _runnable(block)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_every_block_is_covered() -> None:
    blocks = bash_blocks()
    covered = [b for b in blocks if any(f in b for f in FRAGMENTS)]
    install = [b for b in blocks if "pip install" in b and "make test" in b]
    assert len(covered) + len(install) == len(blocks), "a README shell block without a test"


def test_the_local_devnet_block(tmp_path: Path) -> None:
    done = run_block(_block(FRAGMENTS[0]), tmp_path)
    out = done.stdout
    assert re.search(r"0x[0-9a-fA-F]{40}", out), out  # vault show names the client
    assert "OGPU_RPC_URL" in (tmp_path / ".env").read_text()
    # the foreground devnet printed its URLs and export block before Ctrl-C
    assert "export OGPU_RPC_URL=" in out and "MASTER_PRIVATE_KEY" in out, out


def test_the_client_command_line_block(tmp_path: Path) -> None:
    done = run_block(_block(FRAGMENTS[1]), tmp_path)
    shown = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert any('"status"' in line and "NEW" in line for line in shown), done.stdout
    client = (tmp_path / "sentiment_client.py").read_text()
    assert "def publish_predict(" in client


def test_the_source_developer_block(tmp_path: Path) -> None:
    service, callback = free_port(), free_port()
    block = _block(FRAGMENTS[2]).replace("8600", str(callback)).replace("5555", str(service))
    done = run_block(block, tmp_path)
    assert "FINALIZED" in done.stdout, done.stdout + done.stderr


#: One fragment per tested block (the order of the tests above).
FRAGMENTS = (
    "--mainnet-faults 0.1",
    "ogpu task cancel $TASK",
    "python examples/sentiment_source.py",
)
