"""``.env`` reading, ``OGPU_VERBOSE``, ``set_verbose`` and the silent ``ogpu`` loggers.

Behaviour at import time is checked in fresh interpreters whose working directory
and home are a temporary directory, so no real ``.env`` of the machine interferes.
"""

from __future__ import annotations

import logging
import re
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import ogpu
from ogpu._env import load_dotenv_files, parse_dotenv
from ogpu._logging import set_verbose

from ..helpers.child import last_json

KEY = "0x" + "4c" * 32  # a throwaway key; must never be printed


FreshPython = Callable[..., subprocess.CompletedProcess[str]]  # the root conftest's fixture


# -- the .env syntax ------------------------------------------------------------------------------


def test_dotenv_syntax() -> None:
    text = textwrap.dedent(
        """\
        # comment
        PLAIN=value
        export EXPORTED = spaced   # inline comment
        SINGLE='literal ${PLAIN} \\n #not a comment'
        DOUBLE="escaped\\tand ${PLAIN} \\"quoted\\""
        EXPANDED=${PLAIN}-${MISSING:-fallback}-${FROM_ENV}
        MULTI="line one
        line two"
        EMPTY=
        BARE
        HASH=a#b
        """
    )
    values, bad = parse_dotenv(text, {"FROM_ENV": "env", "PLAIN": "ignored"})
    assert bad == []
    assert values == {
        "PLAIN": "value",
        "EXPORTED": "spaced",
        "SINGLE": "literal ${PLAIN} \\n #not a comment",
        "DOUBLE": 'escaped\tand ignored "quoted"',
        "EXPANDED": "ignored-fallback-env",
        "MULTI": "line one\nline two",
        "EMPTY": "",
        "HASH": "a#b",
    }


@pytest.mark.parametrize(
    "line", ["not an assignment", "KEY='unterminated", "1BAD=x", 'K="v" trailing']
)
def test_malformed_lines_are_skipped_and_never_echoed(line: str, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(f"GOOD=1\n{line} {KEY}\nAFTER=2\n")
    env: dict[str, str] = {}
    with pytest.warns(UserWarning) as caught:
        assert load_dotenv_files([path], env) == [path]
    assert env["GOOD"] == "1"
    messages = " ".join(str(w.message) for w in caught)
    assert "line 2" in messages and KEY[2:] not in messages


def test_environment_wins_and_earlier_files_win(tmp_path: Path) -> None:
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    first.write_text("A=first\nB=first\n")
    second.write_text("B=second\nC=second\n")
    env = {"A": "environment"}
    assert load_dotenv_files([first, tmp_path / "missing.env", second], env) == [first, second]
    assert env == {"A": "environment", "B": "first", "C": "second"}


@pytest.mark.slow
def test_import_reads_dotenv_from_cwd_then_home(fresh_python: FreshPython, tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (work / ".env").write_text(f"CLIENT_PRIVATE_KEY={KEY}\nOGPU_CHAIN=devnet\n")
    (home / ".env").write_text("OGPU_CHAIN=testnet\nOGPU_RPC_URL=http://127.0.0.1:9\n")
    code = """
        import json, os
        import ogpu
        from ogpu.chain import resolve_signer
        from ogpu.types import Role
        print(json.dumps({"address": resolve_signer(None, Role.CLIENT).address,
                          "chain": os.environ["OGPU_CHAIN"], "rpc": os.environ["OGPU_RPC_URL"]}))
    """
    done = fresh_python(code, work, HOME=str(home))
    seen = last_json(done.stdout)
    from eth_account import Account

    assert seen == {
        "address": Account.from_key(KEY).address,
        "chain": "devnet",
        "rpc": "http://127.0.0.1:9",
    }
    assert KEY[2:] not in done.stdout + done.stderr


# -- verbosity ------------------------------------------------------------------------------------

_LOG_SOMETHING = """
    import logging, ogpu
    logging.getLogger("ogpu.ipfs").warning("upload slow")
    logging.getLogger("ogpu.tx").debug("sent")
    print("{}")
"""


def test_silent_by_default(fresh_python: FreshPython, tmp_path: Path) -> None:
    done = fresh_python(_LOG_SOMETHING, tmp_path)
    assert done.stderr == ""  # a NullHandler: not even Python's last-resort warning output


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_ogpu_verbose_from_the_environment(
    fresh_python: FreshPython, tmp_path: Path, value: str
) -> None:
    done = fresh_python(_LOG_SOMETHING, tmp_path, OGPU_VERBOSE=value)
    lines = done.stderr.splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} WARNING ogpu\.ipfs — upload slow", lines[0])
    assert lines[1].endswith("DEBUG   ogpu.tx — sent")


@pytest.mark.parametrize("value", ["0", "false", "", "no"])
def test_ogpu_verbose_off_values(fresh_python: FreshPython, tmp_path: Path, value: str) -> None:
    assert fresh_python(_LOG_SOMETHING, tmp_path, OGPU_VERBOSE=value).stderr == ""


def test_ogpu_verbose_from_dotenv(fresh_python: FreshPython, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OGPU_VERBOSE=true\n")
    assert "ogpu.tx — sent" in fresh_python(_LOG_SOMETHING, tmp_path).stderr


class _Stderr:
    """What the test wrote to ``sys.stderr`` (the handler binds the stream of the moment)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        capsys.readouterr()

    def getvalue(self) -> str:
        return self.capsys.readouterr().err


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[_Stderr]:
    yield _Stderr(capsys)
    set_verbose(False)


def test_set_verbose_is_idempotent_and_reversible(stderr: _Stderr) -> None:
    root = logging.getLogger("ogpu")
    assert ogpu.set_verbose is set_verbose
    handlers = len(root.handlers)
    ogpu.set_verbose()
    ogpu.set_verbose(True)
    assert len(root.handlers) == handlers + 1 and root.level == logging.DEBUG
    logging.getLogger("ogpu.events").debug("polled %d logs", 3)
    ogpu.set_verbose(True, level=logging.INFO)
    logging.getLogger("ogpu.events").debug("hidden")
    logging.getLogger("ogpu.events").info("shown")
    ogpu.set_verbose(False)
    logging.getLogger("ogpu.events").warning("after")
    assert len(root.handlers) == handlers and root.level == logging.NOTSET
    lines = stderr.getvalue().splitlines()
    assert [line.split(" — ")[1] for line in lines] == ["polled 3 logs", "shown"]


def test_set_verbose_false_leaves_a_user_level_alone(stderr: _Stderr) -> None:
    root = logging.getLogger("ogpu")
    root.setLevel(logging.WARNING)
    try:
        set_verbose(False)  # never enabled: nothing to undo
        assert root.level == logging.WARNING
    finally:
        root.setLevel(logging.NOTSET)


def test_service_logger_does_not_double_with_verbose(stderr: _Stderr) -> None:
    pytest.importorskip("fastapi")
    import ogpu.service

    set_verbose()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    ogpu.service.logger.addHandler(handler)
    try:
        ogpu.service.logger.info("served")
    finally:
        ogpu.service.logger.removeHandler(handler)
    assert len(records) == 1
    assert "served" not in stderr.getvalue()  # not propagated to the verbose handler
