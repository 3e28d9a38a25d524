"""``ogpu service manifest``, ``ogpu source publish|update|client`` with manifests,
``ogpu task publish`` checked against them, and the key-file permission warning."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ogpu.devnet import CLIENTS
from ogpu.manifest import SourceManifest, clear_manifest_cache
from ogpu.protocol import Source
from ogpu.service import get_default_service
from ogpu.service import reset as reset_service

from .conftest import assert_one_line_error, fund_client, key_file, write

ROOT = Path(__file__).resolve().parents[2]
SENTIMENT = ROOT / "examples" / "sentiment_source.py"
SOURCE_TOML = """
name = "sentiment-analyzer"
logoUrl = "https://example.com/logo.png"
minPayment = "0.001 OGPU"
maxExpiryDuration = 3600
[imageEnvs]
cpu = "https://example.com/docker-compose.yml"
"""


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    clear_manifest_cache()
    reset_service()
    yield
    clear_manifest_cache()
    reset_service()


# -- ogpu service manifest -----------------------------------------------------------------------


def test_service_manifest_prints_and_writes_without_serving(ogpu: Any, tmp_path: Path) -> None:
    printed = ogpu("service", "manifest", str(SENTIMENT), net=False)
    assert printed.code == 0, printed.err
    manifest = SourceManifest.parse(printed.out)
    assert sorted(manifest.functions) == ["predict", "predict_batch"]
    assert manifest.functions["predict"].timeout == 30.0
    assert printed.out.endswith("}\n") and printed.out.startswith("{\n")
    target = tmp_path / "manifest.json"
    wrote = ogpu("service", "manifest", str(SENTIMENT), "-o", str(target), "--json", net=False)
    assert wrote.code == 0, wrote.err
    assert wrote.json() == {
        "path": str(target),
        "manifest": manifest.hash,
        "functions": ["predict", "predict_batch"],
    }
    assert SourceManifest.load(target) == manifest
    assert not get_default_service().handlers  # the process's own is untouched


def test_service_manifest_stops_a_module_level_start(ogpu: Any, tmp_path: Path) -> None:
    source = tmp_path / "svc.py"
    source.write_text(
        "import ogpu.service\n"
        "from pydantic import BaseModel\n"
        "class In(BaseModel):\n    n: int\n"
        "class Out(BaseModel):\n    n: int\n"
        "@ogpu.service.init()\ndef setup() -> None:\n    raise SystemExit('init ran')\n"
        "@ogpu.service.expose(timeout=5)\ndef double(data: In) -> Out:\n"
        "    return Out(n=2 * data.n)\n"
        "ogpu.service.start()\n"
        "raise SystemExit('code after start() ran')\n"
    )
    result = ogpu("service", "manifest", str(source), "--json", net=False)
    assert result.code == 0, result.err
    assert sorted(json.loads(result.out)["functions"]) == ["double"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("raise RuntimeError('boom')\n", "importing"),
        ("import ogpu.service\n", "registers no handler"),
        ("def broken(:\n", "SyntaxError"),
    ],
)
def test_service_manifest_errors(ogpu: Any, tmp_path: Path, text: str, fragment: str) -> None:
    source = tmp_path / "bad.py"
    source.write_text(text)
    assert_one_line_error(ogpu("service", "manifest", str(source), net=False), fragment)
    assert_one_line_error(
        ogpu("service", "manifest", str(tmp_path / "none.py"), net=False), "no source file"
    )


# -- ogpu source publish / update / client, ogpu task publish ------------------------------------


def _publish(ogpu: Any, tmp_path: Path, *extra: str, toml: str = SOURCE_TOML) -> dict[str, Any]:
    path = write(tmp_path, "source.toml", toml)
    result = ogpu("source", "publish", path, "--key-file", key_file(tmp_path, CLIENTS[0]),
                  "--json", *extra)  # fmt: skip
    assert result.code == 0, result.err
    published: dict[str, Any] = result.json()
    return published


def _task(ogpu: Any, tmp_path: Path, source: str, function: str, *extra: str) -> Any:
    task = write(
        tmp_path,
        "task.toml",
        f'payment = "0.01 OGPU"\n[config]\nfunction_name = "{function}"\n'
        '[config.data]\ntext = "great"\n',
    )
    return ogpu("task", "publish", task, "--source", source, "--json",
                "--key-file", key_file(tmp_path, CLIENTS[0]), *extra)  # fmt: skip


def test_publish_with_manifest_key_then_tasks_are_checked(
    ogpu: Any, chain: Any, tmp_path: Path
) -> None:
    (tmp_path / "sentiment_source.py").write_text(SENTIMENT.read_text())
    published = _publish(ogpu, tmp_path, toml='manifest = "sentiment_source.py"\n' + SOURCE_TOML)
    source = published["address"]
    assert published["manifest"] == Source(source).get_manifest().hash  # type: ignore[union-attr]
    fund_client()
    refused = _task(ogpu, tmp_path, source, "predcit")
    assert refused.code == 1 and refused.out == ""
    error = json.loads(refused.err.strip())["error"]  # --json: the error is JSON too
    assert "has no function 'predcit'; did you mean 'predict'?" in error["message"]
    assert error["type"] == "UnknownFunctionError"
    assert Source(source).get_task_count() == 0
    assert _task(ogpu, tmp_path, source, "predict").code == 0
    unchecked = _task(ogpu, tmp_path, source, "predcit", "--no-validate")
    assert unchecked.code == 0, unchecked.err
    assert Source(source).get_task_count() == 2
    shown = ogpu("source", "show", source, "--manifest", "--json").json()
    assert sorted(shown["manifest"]["functions"]) == ["predict", "predict_batch"]


def test_manifest_option_and_update(ogpu: Any, chain: Any, tmp_path: Path) -> None:
    printed = ogpu("service", "manifest", str(SENTIMENT), "-o", str(tmp_path / "m.json"), net=False)
    assert printed.code == 0
    source = _publish(ogpu, tmp_path)["address"]
    assert Source(source).get_manifest() is None
    path = write(tmp_path, "source.toml", SOURCE_TOML)
    keys = ("--key-file", key_file(tmp_path, CLIENTS[0]))
    updated = ogpu("source", "update", source, path, "--manifest", str(tmp_path / "m.json"),
                   "--json", *keys)  # fmt: skip
    assert updated.code == 0, updated.err
    manifest = Source(source).get_manifest()
    assert manifest is not None and updated.json()["manifest"] == manifest.hash
    dropped = ogpu("source", "update", source, path, "--json", *keys)
    assert dropped.code == 0 and dropped.json()["manifest"] is None
    assert Source(source).get_manifest() is None


def test_source_client_from_chain_and_from_file(ogpu: Any, chain: Any, tmp_path: Path) -> None:
    bare = _publish(ogpu, tmp_path)["address"]
    assert_one_line_error(ogpu("source", "client", bare), "publishes no manifest")
    source = _publish(ogpu, tmp_path, "--manifest", str(SENTIMENT))["address"]
    target = tmp_path / "client.py"
    wrote = ogpu("source", "client", source, "-o", str(target), "--json")
    assert wrote.code == 0, wrote.err
    text = target.read_text()
    assert text.startswith("# Generated by `ogpu source client`. DO NOT EDIT.\n")
    assert f"# Source:     {source}\n" in text
    assert f"# Manifest:   {wrote.json()['manifest']}\n" in text
    printed = ogpu("source", "client", source)
    assert printed.out == text  # deterministic
    offline = ogpu("source", "client", "--manifest", str(SENTIMENT), net=False)
    assert offline.code == 0, offline.err
    assert "# Source:     none (from the manifest file sentiment_source.py)" in offline.out
    assert "    source: str,\n" in offline.out  # no default address: a required keyword
    assert_one_line_error(ogpu("source", "client", net=False), "give a source address")


# -- key files readable by others ----------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_exposed_key_file_warns_with_the_fix_never_the_key(
    ogpu: Any, tmp_path: Path, mode: int
) -> None:
    path = key_file(tmp_path, CLIENTS[0])
    Path(path).chmod(mode)
    result = ogpu("vault", "show", "--key-file", path, "--json")
    assert result.code == 0, result.err
    warning = result.err.strip()
    assert warning.startswith(f"ogpu: warning: key file {path} is accessible by group or others")
    assert f"mode {mode:04o}" in warning and f"chmod 600 {path}" in warning
    key = CLIENTS[0].key_hex.removeprefix("0x").lower()
    assert key not in (result.err + result.out).lower()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_private_key_file_has_no_warning(ogpu: Any, tmp_path: Path) -> None:
    path = key_file(tmp_path, CLIENTS[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    result = ogpu("vault", "show", "--key-file", path, "--json")
    assert result.code == 0 and result.err == ""
