"""The command line's shape: what start-up imports, global options before or after the
command, help text on every option, usage errors (and ``--json`` ones)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pytest

from ogpu.cli import COMMANDS, _undiscovered, build_parser, main

from ..helpers.child import python_json
from .conftest import Devnet

#: Modules start-up must not load: the heavy third-party stacks and every command module.
HEAVY = (
    "web3",
    "eth_account",
    "eth_abi",
    "eth_utils",
    "requests",
    "urllib3",
    "pydantic",
    "ogpu.types",
    "ogpu.chain",
    "ogpu.cli._common",
)


def _loaded_by(argv: list[str]) -> dict[str, Any]:
    """Run ``ogpu ARGV`` in a fresh interpreter; the exit code and the modules it loaded."""
    probe = (
        "import json, sys\n"
        "from ogpu.cli import main\n"
        f"code = main({argv!r})\n"
        "sys.stdout.flush()\n"
        "print('\\n' + json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n"
    )
    result: dict[str, Any] = python_json(probe)
    return result


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_startup_imports_no_command_and_nothing_heavy(argv: list[str]) -> None:
    loaded = _loaded_by(argv)
    assert loaded["code"] in (0, 2)
    modules = set(loaded["modules"])
    assert not [m for m in HEAVY if m in modules]
    commands = {command.module for command in COMMANDS.values()}
    assert not commands & modules


def test_a_command_imports_only_its_own_module() -> None:
    modules = set(_loaded_by(["task", "--help"])["modules"])
    assert "ogpu.cli.task" in modules
    others = {c.module for name, c in COMMANDS.items() if name != "task"}
    assert not others & modules
    assert "web3" not in modules and "eth_account" not in modules


def test_every_command_module_is_in_the_table() -> None:
    # A module missing from COMMANDS is imported by every start-up (slow): list it.
    assert _undiscovered() == []
    for name, command in COMMANDS.items():
        assert command.module == f"ogpu.cli.{name}"


def _leaves(parser: argparse.ArgumentParser, path: str = "ogpu") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _leaves(sub, f"{path} {name}")
    return found


def test_every_option_has_help_text() -> None:
    missing = [
        f"{path} {action.option_strings or action.dest}"
        for path, parser in _leaves(build_parser())
        for action in parser._actions
        if action.help in (None, "") and not isinstance(action, argparse._SubParsersAction)
    ]
    assert missing == []


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, command in COMMANDS.items():
        assert name in out
        assert command.help.split()[0] in out
    assert "global options (before or after the command)" in out


# -- global options before or after the command --------------------------------------------------


def _parsed(argv: list[str]) -> argparse.Namespace:
    from ogpu.cli.base import check_globals

    args = build_parser(argv).parse_args(argv)
    check_globals(args)
    return args


@pytest.mark.parametrize(
    "argv",
    [
        ["--chain", "devnet", "--rpc", "http://x:1", "--json", "task", "show", "0xT"],
        ["task", "show", "0xT", "--chain", "devnet", "--rpc", "http://x:1", "--json"],
        ["--chain", "devnet", "task", "--json", "show", "0xT", "--rpc", "http://x:1"],
        ["--rpc=http://x:1", "task", "show", "--chain=devnet", "0xT", "--json"],
    ],
)
def test_global_options_anywhere(argv: list[str]) -> None:
    args = _parsed(argv)
    assert (args.chain, args.rpc, args.json, args.address) == ("devnet", "http://x:1", True, "0xT")
    assert args.command == "task" and args.task_command == "show"


def test_an_option_after_the_command_wins_and_verbosity_adds_up() -> None:
    args = _parsed(["--chain", "mainnet", "-v", "vault", "show", "0xA", "--chain", "devnet", "-v"])
    assert args.chain == "devnet"
    assert args.verbose == 2
    assert _parsed(["-vv", "demo"]).verbose == 2


@pytest.mark.parametrize(
    ("argv", "flag", "command"),
    [
        (["--chain", "devnet", "devnet"], "--chain", "devnet"),
        (["--rpc", "http://x:1", "demo"], "--rpc", "demo"),
        (["--deployment", "d.json", "devnet", "--port", "0"], "--deployment", "devnet"),
        (
            ["--chain", "devnet", "devnet", "deploy", "--rpc", "http://x:1"],
            "--chain",
            "devnet deploy",
        ),
    ],
)
def test_a_global_option_a_command_does_not_take_is_refused(
    argv: list[str], flag: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"ogpu: error: `ogpu {command}` does not take {flag}"


def test_devnet_and_demo_take_the_options_that_make_sense() -> None:
    assert _parsed(["devnet", "--json", "--debug", "-v", "--port", "0"]).json is True
    assert _parsed(["--json", "devnet", "deploy", "--rpc", "http://x:1"]).rpc == "http://x:1"
    assert _parsed(["--rpc", "http://x:1", "devnet", "deploy"]).rpc == "http://x:1"
    assert _parsed(["demo", "--json", "-v"]).verbose == 1
    for argv in (["devnet", "--chain", "devnet"], ["demo", "--rpc", "http://x:1"]):
        with pytest.raises(Exception, match="does not take --"):
            _parsed(argv)


def test_usage_errors_under_json_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ["task", "show", "--json"],
        ["--json", "task", "frobnicate"],
        ["--json", "nosuchcommand"],
        ["vault", "show", "--json", "--chain", "moonnet"],
        ["--json", "--chain", "devnet", "devnet"],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        error = json.loads(lines[0])["error"]
        assert error["kind"] == "usage" and error["exit_code"] == 2
        assert error["message"]


def test_usage_error_without_json_shows_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["task", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ogpu task show")
    assert "ogpu task show: error: the following arguments are required: address" in err


def test_global_options_work_before_the_command_end_to_end(
    chain: Devnet, capsys: pytest.CaptureFixture[str]
) -> None:
    from ogpu.devnet import CLIENTS

    argv = ["--chain", "devnet", "--rpc", chain.rpc_url, "--json", "vault", "show"]
    assert main([*argv, CLIENTS[0].address]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["address"] == CLIENTS[0].address


def test_every_run_reads_dotenv_through_the_sdk_loader(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # One loader for the SDK and the CLI: ogpu._env.load_dotenv_files (the SDK's, as the
    # official 0.2.3 reads .env); here replaced by a recorder to see that main calls it.
    import types

    calls: list[str] = []
    loader = types.ModuleType("ogpu._env")
    loader.load_dotenv_files = lambda: calls.append("loaded")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ogpu._env", loader)
    assert main(["--version"]) == 0
    assert calls == ["loaded"]
    assert capsys.readouterr().out.startswith("ogpu ")
