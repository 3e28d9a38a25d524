"""abis/protocol.json is checked against the ABIs: an entry naming a function the contract
lacks, with the wrong number of arguments, or a write as a read, stops the generator with a
CodegenError naming the entry; the generated functions keep the official signatures."""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import CodegenError, generate

from .conftest import ABIS


def _with_table(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    root = tmp_path / "abis"
    shutil.copytree(ABIS, root)
    table = json.loads((root / "protocol.json").read_text())
    edit(table)
    (root / "protocol.json").write_text(json.dumps(table))
    return root


def _vault(table: dict[str, Any]) -> dict[str, Any]:
    functions: dict[str, Any] = table["modules"]["vault"]["functions"]
    return functions


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: _vault(t)["lock"].update(write="lockk(amount)"), "Vault has no lockk"),
        (lambda t: _vault(t)["lock"].update(write="lock(amount, more)"), "takes 1 arguments"),
        (lambda t: _vault(t)["is_eligible"].update(read="lock(amount)"), "lock is not a view"),
        (lambda t: _vault(t)["lock"].update(signer="OWNER"), "bad signer 'OWNER'"),
        (lambda t: _vault(t)["deposit"].update(value="wei(amount)"), "unknown conversion 'wei'"),
    ],
)
def test_a_wrong_entry_stops_the_generator(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(CodegenError, match=r"protocol\.json: vault") as caught:
        generate(_with_table(tmp_path, edit))
    assert message in str(caught.value)


def test_no_table_no_protocol_package(tmp_path: Path) -> None:
    root = tmp_path / "abis"
    shutil.copytree(ABIS, root)
    (root / "protocol.json").unlink()
    assert not [rel for rel in generate(root) if rel.startswith("protocol/")]


def test_generated_functions_keep_the_official_signatures() -> None:
    from ogpu.protocol import nexus, terminal, vault

    assert (
        str(inspect.signature(vault.deposit))
        == "(account: 'str', amount: 'int', *, signer: 'Signer') -> 'Receipt'"
    )
    assert list(inspect.signature(nexus.register).parameters) == [
        "source",
        "provider",
        "env",
        "signer",
    ]
    assert inspect.signature(terminal.set_agent).parameters["signer"].default is None
