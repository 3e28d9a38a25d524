"""``ogpu demo``: end to end in a subprocess, and in process with the built-in service."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from ogpu.chain import ChainConfig, ChainId
from ogpu.chain.context import current
from ogpu.cli import main

from .conftest import ROLE_VARS, SDK_VARS

pytestmark = pytest.mark.slow


def test_demo_subprocess_prints_the_result() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ROLE_VARS + SDK_VARS}
    done = subprocess.run(
        [sys.executable, "-m", "ogpu.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    for actor in ("devnet", "service", "provider", "client"):
        assert re.search(rf"^\[\s*\d+\.\d\ds\] {actor} ", out, re.MULTILINE), out
    assert "examples/sentiment_source.py" in out
    assert "attempted (tx 0x" in out and "submitted (tx 0x" in out
    result = re.search(r"^Result: (\{.*\})$", out, re.MULTILINE)
    assert result is not None, out
    assert '"label": "positive"' in result.group(1)
    assert re.search(r"^Provider earned 0\.01 OGPU .* Demo finished in \d+\.\d s\.$", out, re.M)
    urls = re.findall(r"https?://[^\s,)]+", out)
    assert urls and all(u.startswith("http://127.0.0.1:") for u in urls)


def test_demo_in_process_builtin_service(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OGPU_IPFS_BACKEND", "ogpu")
    monkeypatch.delenv("OGPU_IPFS_API_URL", raising=False)
    before = ChainConfig.get_current_chain()
    devnet_contracts = ChainConfig.CHAIN_CONTRACTS.get(ChainId.OGPU_DEVNET)
    devnet_rpc = ChainConfig.get_rpc(ChainId.OGPU_DEVNET)
    code = main(["demo", "--json", "--builtin-service", "--text", "slow and awful, bad"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    assert data["status"] == "FINALIZED"
    assert data["result"] == {"label": "negative", "positive_words": 0, "negative_words": 3}
    assert data["provider_earnings"] == {"wei": str(10**16), "human": "0.01 OGPU"}
    assert data["steps"][0]["actor"] == "devnet"
    assert any("built-in sample" in s["message"] for s in data["steps"])
    messages = [s["message"] for s in data["steps"]]
    assert any("with its manifest sha256:" in m for m in messages), messages
    assert "task predcit(...) refused before paying: did you mean 'predict'?" in messages
    assert any(m.startswith("published task 0x") and "with publish_predict" in m for m in messages)
    assert "result_predict returned a typed PredictOutput" in messages
    assert 0 < data["elapsed_seconds"] < 60
    assert ChainConfig.get_current_chain() == before
    assert ChainConfig.CHAIN_CONTRACTS.get(ChainId.OGPU_DEVNET) == devnet_contracts
    # the demo ran in its own ogpu.using() block: nothing it selected outlives it
    assert ChainConfig.get_rpc(ChainId.OGPU_DEVNET) == devnet_rpc
    assert current().ipfs_store is None
    assert all(slot.next_nonce is None for slot in current().nonces.slots())
    assert os.environ["OGPU_IPFS_BACKEND"] == "ogpu"
    assert "OGPU_IPFS_API_URL" not in os.environ


def test_demo_rejects_a_bad_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--timeout", "0"]) == 1
    assert capsys.readouterr().err.strip() == (
        "ogpu: error: --timeout must be between 0 and 3600 seconds"
    )


def test_demo_without_the_codegen_extra_publishes_the_plain_way(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)  # as if `ogpu[codegen]` were absent
    code = main(["demo", "--json", "--builtin-service"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    messages = [s["message"] for s in data["steps"]]
    assert any("no typed client" in m and "ogpu[codegen]" in m for m in messages), messages
    assert any("with publish_task:" in m for m in messages)
    assert data["status"] == "FINALIZED" and data["result"]["label"] == "positive"
