"""The --json output of each command has exactly the keys docs/CLI.md lists, and one shape
for amounts and times everywhere."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ogpu.devnet import CLIENTS, PROVIDERS

from .conftest import fund_client, pair_and_register, write
from .test_commands import SOURCE_TOML, task_toml

DOC = Path(__file__).resolve().parents[2] / "docs" / "CLI.md"
AMOUNTS = {
    "min_payment",
    "min_available_lockup",
    "payment",
    "balance",
    "lockup",
    "unbonding",
    "total_earnings",
    "frozen_payment",
    "sanction",
    "min_lockup_per_source",
    "amount",
}
TIMES = {"expiry_time", "last_update_time", "timestamp", "unbonding_timestamp"}


def documented(command: str) -> set[str]:
    """The keys docs/CLI.md's table lists for ``command`` (the optional ``(+ ...)`` ones
    excluded)."""
    for line in DOC.read_text().splitlines():
        row = line.strip().strip("|")
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)]
        if len(cells) == 2 and cells[0] == f"`{command}`":
            listed = re.sub(r"\(\+.*?\)", "", cells[1])
            return set(re.findall(r"`([a-z_]+)`", listed))
    raise AssertionError(f"docs/CLI.md has no row for {command}")


def check_shapes(data: Any) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in AMOUNTS:
                assert isinstance(value, dict) and set(value) == {"wei", "human"}, (key, value)
                assert value["wei"].isdigit() and value["human"].endswith(" OGPU")
            elif key in TIMES:
                assert value is None or set(value) == {"unix", "iso"}, (key, value)
            else:
                check_shapes(value)
    elif isinstance(data, list):
        for item in data:
            check_shapes(item)


def test_json_keys_are_the_documented_ones(ogpu: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", CLIENTS[0].key_hex)
    outputs: dict[str, Any] = {}
    outputs["source publish"] = ogpu(
        "source", "publish", write(tmp_path, "s.toml", SOURCE_TOML), "--json"
    ).json()
    source = outputs["source publish"]["address"]
    outputs["source show"] = ogpu("source", "show", source, "--json").json()
    outputs["vault deposit|lock|unbond|claim"] = ogpu(
        "vault", "deposit", "1 OGPU", "--role", "client", "--json"
    ).json()
    outputs["vault show"] = ogpu("vault", "show", CLIENTS[0].address, "--json").json()
    task_file = write(tmp_path, "t.toml", task_toml(source))
    outputs["task publish"] = ogpu("task", "publish", task_file, "--json").json()
    task = outputs["task publish"]["address"]
    outputs["task show"] = ogpu("task", "show", task, "--json").json()
    outputs["task cancel"] = ogpu("task", "cancel", task, "--json").json()
    fund_client()
    pair_and_register(source)
    outputs["provider show"] = ogpu("provider", "show", PROVIDERS[0].address, "--json").json()
    for command, data in outputs.items():
        assert set(data) == documented(command), command
        check_shapes(data)
    assert set(outputs["vault deposit|lock|unbond|claim"]["vault"]) == documented("vault show")
