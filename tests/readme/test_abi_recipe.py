"""The README's "After an ABI or contract change" recipe, followed on a copy of the repository.

A function is added to Nexus' ABI on both networks and to the reference contract, the
documented steps run (``make generate``; ``make contracts``, whose compile step runs here
against the installed solc instead of a second ``npm ci``), and the tests the change
touches pass on the copy: the generated bindings, the devnet's ABI parity with mainnet,
the contracts and the protocol modules. The new function is then called on the copy's
devnet through its generated binding.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "contracts" / "node_modules"
PROBE_ABI = {
    "type": "function",
    "name": "recipeProbe",
    "stateMutability": "view",
    "inputs": [{"name": "x", "type": "uint256", "internalType": "uint256"}],
    "outputs": [{"name": "", "type": "uint256", "internalType": "uint256"}],
}
PROBE_SOL = """
    /// Added by tests/readme/test_abi_recipe.py on a copy of the repository.
    function recipeProbe(uint256 x) external view returns (uint256) {
        return x + address(this).balance;
    }
}
"""
AFFECTED = [
    "tests/codegen",
    "tests/contracts",
    "tests/protocol/test_modules.py",
    "tests/devnet_chain",
    "tests/test_imports.py",
]


def _copy(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    for name in ("abis", "codegen", "generated", "src", "tests"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "Makefile", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    contracts = repo / "contracts"
    contracts.mkdir()
    for name in ("src", "test"):
        shutil.copytree(ROOT / "contracts" / name, contracts / name)
    for name in ("compile.js", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / "contracts" / name, contracts / name)
    (contracts / "node_modules").symlink_to(NODE_MODULES)
    return repo


def _change(repo: Path) -> None:
    for network in ("mainnet", "testnet"):
        path = repo / "abis" / network / "NexusAbi.json"
        abi = json.loads(path.read_text())
        abi.append(PROBE_ABI)
        path.write_text(json.dumps(abi, indent=2) + "\n")
    source = repo / "contracts" / "src" / "Nexus.sol"
    text = source.read_text().rstrip()
    assert text.endswith("}")
    source.write_text(text[:-1] + PROBE_SOL)


def _run(repo: Path, *command: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGPU_")}
    # the copy's packages first: the installed ogpu is the original tree (editable)
    env["PYTHONPATH"] = f"{repo / 'src'}{os.pathsep}{repo / 'generated'}"
    done = subprocess.run(
        command, cwd=cwd or repo, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_abi_change_recipe_leaves_the_suite_green(tmp_path: Path) -> None:
    if not (NODE_MODULES / "solc").exists() or shutil.which("node") is None:
        pytest.skip("needs solc from contracts/node_modules (cd contracts && npm ci) and node")
    steps = re.search(
        r"## After an ABI or contract change\n(.*?)\n## ",
        ROOT.joinpath("README.md").read_text(),
        flags=re.S,
    )
    assert steps is not None
    assert "make generate" in steps[1] and "make contracts" in steps[1]
    repo = _copy(tmp_path)
    _change(repo)
    python = sys.executable
    _run(repo, "make", "generate", f"PYTHON={python}")
    _run(repo, "node", "compile.js", cwd=repo / "contracts")  # make contracts, after npm ci
    _run(repo, "make", "check-generated", f"PYTHON={python}")
    _run(repo, "node", "compile.js", "--check", cwd=repo / "contracts")
    generated = [p for p in (repo / "generated").rglob("*.py") if "recipe_probe" in p.read_text()]
    assert generated, "make generate wrote no binding for recipeProbe"
    _run(repo, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *AFFECTED)
    probe = (
        "from ogpu.devnet.chain import Devnet\n"
        "from ogpu.devnet import load_artifact\n"
        "d = Devnet()\n"
        "nexus = d.w3.eth.contract(d.deployment.nexus, abi=load_artifact('Nexus').abi)\n"
        "print(nexus.functions.recipeProbe(41).call())\n"
    )
    assert _run(repo, python, "-c", probe).strip().splitlines()[-1] == "41"
