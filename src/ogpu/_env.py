"""``.env`` files: read once when ``ogpu`` is imported, as the official SDK does.

Files, in order: ``./.env`` (the working directory), ``~/.env``, then ``.env`` in
the directory holding the ``ogpu`` package. A variable already in the
environment is never replaced, so the process environment wins over every
file and an earlier file over a later one. That is how ``CLIENT_PRIVATE_KEY``
(and the other ``<ROLE>_PRIVATE_KEY``), ``OGPU_VERBOSE``, the CLI's chain and
RPC settings (``OGPU_CHAIN``, ``OGPU_RPC_URL``), the IPFS settings and the
service's ``CALLBACK_URL``... can live in a ``.env`` file.

Syntax (python-dotenv's): ``KEY=value`` lines, optional ``export`` prefix,
``#`` comments (inline only after whitespace, in unquoted values), single
quotes (literal) and double quotes (``\\n``-style escapes; both may span
lines), and ``${VAR}`` / ``${VAR:-default}`` expansion in unquoted and
double-quoted values. A line that does not parse is skipped with a warning
naming the file and line number only: values (private keys) are never shown.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path

__all__ = ["dotenv_paths", "load_dotenv_files", "parse_dotenv"]

_ASSIGN = re.compile(
    r"[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*(?:=[ \t]*(?P<rest>.*))?\Z",
    re.DOTALL,
)
_EXPAND = re.compile(r"\$\{(?P<name>[^}:]+)(?::-(?P<default>[^}]*))?\}")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "$": "$"}


def dotenv_paths() -> list[Path]:
    """The ``.env`` candidates in priority order (they need not exist). No I/O."""
    package_parent = Path(__file__).resolve().parent.parent
    return [Path.cwd() / ".env", Path.home() / ".env", package_parent / ".env"]


def _closing(text: str, quote: str) -> int:
    """Index of the unescaped closing ``quote`` in ``text``, or -1."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _unescape(text: str, quote: str) -> str:
    if quote == "'":
        return text.replace("\\'", "'").replace("\\\\", "\\")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def _expand(value: str, environ: Mapping[str, str], parsed: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group("name")
        found = environ.get(name, parsed.get(name))
        if found:
            return found
        return match.group("default") or ""

    return _EXPAND.sub(one, value)


def parse_dotenv(
    text: str, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[int]]:
    """Parse ``.env`` text: (``{key: value}``, numbers of the lines skipped as malformed).

    ``${VAR}`` expands from ``environ`` (default ``os.environ``) first, then from
    keys defined earlier in the text. A bare ``KEY`` (no ``=``) defines nothing. No I/O.
    """
    env = os.environ if environ is None else environ
    lines = text.splitlines()
    values: dict[str, str] = {}
    bad: list[int] = []
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGN.match(line)
        if match is None:
            bad.append(number)
            continue
        rest = match.group("rest")
        if rest is None:
            continue
        quote = rest[:1] if rest[:1] in ("'", '"') else ""
        if not quote:
            value = re.split(r"[ \t]+#", rest, maxsplit=1)[0].rstrip()
            values[match.group("key")] = _expand(value, env, values)
            continue
        body, end = rest[1:], _closing(rest[1:], quote)
        while end < 0 and i < len(lines):  # a quoted value may span lines
            body += "\n" + lines[i]
            i += 1
            end = _closing(body, quote)
        tail = body[end + 1 :].strip() if end >= 0 else ""
        if end < 0 or (tail and not tail.startswith("#")):
            bad.append(number)
            continue
        value = _unescape(body[:end], quote)
        values[match.group("key")] = value if quote == "'" else _expand(value, env, values)
    return values, bad


def load_dotenv_files(
    paths: Iterable[Path] | None = None, environ: MutableMapping[str, str] | None = None
) -> list[Path]:
    """Set the variables of each existing ``.env`` file (default ``dotenv_paths()``) that
    ``environ`` (default ``os.environ``) does not have yet; return the files read.

    Cost: one small file read per existing file. Never raises for a file: an
    unreadable one or a malformed line is skipped with a ``UserWarning``.
    """
    env = os.environ if environ is None else environ
    loaded: list[Path] = []
    for path in dotenv_paths() if paths is None else paths:
        try:
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            warnings.warn(f"ogpu: cannot read {path}: {type(exc).__name__}", stacklevel=2)
            continue
        values, bad = parse_dotenv(text, env)
        for number in bad:
            warnings.warn(f"ogpu: {path} line {number} is not KEY=VALUE; skipped", stacklevel=2)
        for key, value in values.items():
            env.setdefault(key, value)
        loaded.append(path)
    return loaded
