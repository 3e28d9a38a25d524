"""pytest plugin: fail any test during which a private key in use leaks.

"In use" means every deterministic devnet key plus the value of each role
variable (``CLIENT_PRIVATE_KEY``, ``PROVIDER_PRIVATE_KEY``, ``MASTER_PRIVATE_KEY``,
``AGENT_PRIVATE_KEY``) seen while the test runs, plus keys a test registers with
``GUARD.register``. The guard looks, case-insensitively, for the 64 hex digits
(with or without ``0x``) and for the ``bytes`` repr of each key in:

- every log record emitted in the process while the test runs, from any logger
  at DEBUG and up (the root logger is lowered to DEBUG during the test; other
  handlers keep their levels): message, formatted traceback, ``extra`` fields;
- every SDK exception constructed while the test runs, caught or not (``OGPUError``,
  ``ogpu.service.ServiceError`` and ``ogpu.cli.CommandError`` are instrumented at
  their ``__init__``), in its final state at teardown: ``str``, ``repr``, ``args``
  and each attribute's ``repr``;
- the exception that ends a test, with its ``__cause__``/``__context__`` chain;
- warning messages.

A leak fails the test at teardown, naming the key's owner and where it leaked;
the report never prints the key.

Enable it for a folder by importing ``ogpu_secrets_guard`` and the ``pytest_*``
hooks below into that folder's ``conftest.py`` (tests/reliability does; put the
same import in ``tests/conftest.py`` for the whole suite). Importing it at two
levels is harmless: the fixture is overridden, the hooks are idempotent.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
import traceback
import warnings
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

__all__ = [
    "GUARD",
    "ROLE_VARS",
    "SecretsGuard",
    "ogpu_secrets_guard",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "pytest_warning_recorded",
]

ROLE_VARS = (
    "CLIENT_PRIVATE_KEY",
    "PROVIDER_PRIVATE_KEY",
    "MASTER_PRIVATE_KEY",
    "AGENT_PRIVATE_KEY",
)
_ERROR_ROOTS = (
    ("ogpu.types.errors", "OGPUError"),
    ("ogpu.service.errors", "ServiceError"),
    ("ogpu.cli.base", "CommandError"),
)
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def _normalize(key: str | bytes) -> str | None:
    """Lowercase hex (no ``0x``) of a 32-byte key, or None when it is not one."""
    if isinstance(key, (bytes, bytearray)):
        return bytes(key).hex() if len(key) == 32 else None
    text = key.strip().lower()
    text = text[2:] if text.startswith("0x") else text
    if len(text) != 64:
        return None
    try:
        bytes.fromhex(text)
    except ValueError:
        return None
    return text


@functools.lru_cache(maxsize=256)
def _bytes_repr(normal: str) -> str:
    return repr(bytes.fromhex(normal))


class _Handler(logging.Handler):
    def __init__(self, guard: SecretsGuard) -> None:
        super().__init__(level=logging.DEBUG)
        self.guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        self.guard.scan_record(record)


class SecretsGuard:
    """Collects leak findings for the running test (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._static: dict[str, str] = {}
        self._extra: dict[str, str] = {}
        self._findings: list[str] = []
        self._errors: list[BaseException] = []
        self._wrapped: list[tuple[type[BaseException], str, Any]] = []
        self._handler = _Handler(self)
        self._active = 0
        self._saved_level: int | None = None

    # -- secrets -------------------------------------------------------------------------------

    def _devnet_keys(self) -> dict[str, str]:
        if not self._static:
            from ogpu.devnet.accounts import ALL_ACCOUNTS

            for account in ALL_ACCOUNTS:
                label = f"devnet {account.role.value}[{account.index}] private key"
                self._static[account.key.hex()] = label
        return self._static

    def register(self, key: str | bytes, label: str) -> None:
        """Watch one more key (e.g. one a test generated) until the test ends."""
        normal = _normalize(key)
        if normal is None:
            raise ValueError("not a 32-byte private key")
        with self._lock:
            self._extra[normal] = label

    def secrets(self) -> dict[str, str]:
        """Every watched key (lowercase hex, no ``0x``) and its label."""
        found = dict(self._devnet_keys())
        with self._lock:
            found.update(self._extra)
        for name in ROLE_VARS:
            normal = _normalize(os.environ.get(name, ""))
            if normal is not None:
                found.setdefault(normal, f"${name}")
        return found

    def leaks(self, text: str) -> list[str]:
        """Labels of the watched keys present in ``text`` (hex in any case, or bytes repr)."""
        if not text:
            return []
        lowered = text.lower()
        out: list[str] = []
        for normal, label in self.secrets().items():
            if normal in lowered or _bytes_repr(normal) in text:
                out.append(label)
        return out

    def _note(self, text: str, where: str) -> None:
        labels = self.leaks(text)
        if labels:
            with self._lock:
                self._findings.extend(f"{label} leaked in {where}" for label in labels)

    # -- sources -------------------------------------------------------------------------------

    def scan_record(self, record: logging.LogRecord) -> None:
        if not self._active:
            return
        parts = []
        try:
            parts.append(record.getMessage())
        except Exception:
            parts.append(f"{record.msg!r} {record.args!r}")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS:
                parts.append(repr(value))
        self._note(
            "\n".join(parts),
            f"a log record (logger {record.name!r}, level {record.levelname})",
        )

    @classmethod
    def describe_chain(cls, exc: BaseException) -> str:
        """``describe`` of ``exc`` and of its ``__cause__``/``__context__`` chain."""
        parts: list[str] = []
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            parts.append(cls.describe(current))
            current = current.__cause__ or current.__context__
        return "\n".join(parts)

    @staticmethod
    def describe(exc: BaseException) -> str:
        """str, repr, args and attribute reprs of an exception."""
        parts: list[str] = []
        for render in (str, repr):
            try:
                parts.append(render(exc))
            except Exception as failure:
                parts.append(f"<unrenderable: {type(failure).__name__}>")
        parts.extend(repr(arg) for arg in exc.args)
        for value in getattr(exc, "__dict__", {}).values():
            try:
                parts.append(repr(value))
            except Exception:
                continue
        return "\n".join(parts)

    def _record_error(self, exc: BaseException) -> None:
        if self._active:
            with self._lock:
                self._errors.append(exc)

    # -- instrumentation -----------------------------------------------------------------------

    def _wrap(self, root: type[BaseException]) -> None:
        # A dataclass root (OGPUError) ends every subclass's construction in its
        # __post_init__; other roots in their __init__ chain.
        hook = "__post_init__" if "__post_init__" in root.__dict__ else "__init__"
        original: Callable[..., None] | None = root.__dict__.get(hook)
        guard = self

        def wrapped(self: BaseException, *args: Any, **kwargs: Any) -> None:
            if original is not None:
                original(self, *args, **kwargs)
            else:
                super(root, self).__init__(*args, **kwargs)
            guard._record_error(self)

        wrapped._ogpu_secrets_guard = True  # type: ignore[attr-defined]
        type.__setattr__(root, hook, wrapped)
        self._wrapped.append((root, hook, original))

    def instrument(self) -> None:
        """Wrap the SDK error roots' ``__init__`` (idempotent)."""
        if self._wrapped:
            return
        for module_name, class_name in _ERROR_ROOTS:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            root = getattr(module, class_name)
            hooks = (root.__dict__.get(h) for h in ("__init__", "__post_init__"))
            if not any(getattr(h, "_ogpu_secrets_guard", False) for h in hooks):
                self._wrap(root)

    def uninstrument(self) -> None:
        for root, hook, original in reversed(self._wrapped):
            if original is None:
                type.__delattr__(root, hook)
            else:
                type.__setattr__(root, hook, original)
        self._wrapped.clear()

    # -- per test ------------------------------------------------------------------------------

    def begin(self) -> None:
        # Load the devnet keys before the handler listens: importing the accounts module
        # from inside a log record's scan (a record emitted while it imports) would fail.
        self._devnet_keys()
        self.instrument()
        with self._lock:
            self._findings.clear()
            self._errors.clear()
            self._extra.clear()
        root = logging.getLogger()
        if self._active == 0:
            self._saved_level = root.level
            if root.level > logging.DEBUG:
                root.setLevel(logging.DEBUG)
            root.addHandler(self._handler)
        self._active += 1

    def end(self) -> list[str]:
        """Stop watching; return the findings (exceptions are re-scanned in their final state)."""
        with self._lock:
            errors = list(self._errors)
        for exc in errors:
            self._note(self.describe(exc), f"a {type(exc).__name__} (message, repr or attributes)")
        self._active -= 1
        if self._active == 0:
            root = logging.getLogger()
            root.removeHandler(self._handler)
            if self._saved_level is not None:
                root.setLevel(self._saved_level)
        with self._lock:
            findings = sorted(set(self._findings))
            self._findings.clear()
            self._errors.clear()
            self._extra.clear()
        return findings


GUARD = SecretsGuard()


@pytest.fixture(autouse=True)
def ogpu_secrets_guard() -> Iterator[SecretsGuard]:
    """Autouse: watch the test; fail it at teardown if a private key in use leaked."""
    GUARD.begin()
    try:
        yield GUARD
    finally:
        findings = GUARD.end()
    if findings:
        pytest.fail("secret leak: " + "; ".join(findings), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None and not getattr(report, "_ogpu_secrets_scanned", False):
        report._ogpu_secrets_scanned = True  # type: ignore[attr-defined]
        labels = GUARD.leaks(GUARD.describe_chain(call.excinfo.value))
        if labels:
            message = f"secret leak: {', '.join(labels)} in the exception ending {call.when}"
            report.outcome = "failed"
            report.sections.append(("secrets guard", message))
            crash = getattr(report.longrepr, "reprcrash", None)
            if crash is not None:
                crash.message = f"{message}; {crash.message}"
    return report


def pytest_warning_recorded(
    warning_message: warnings.WarningMessage, when: str, nodeid: str, location: Any
) -> None:
    labels = GUARD.leaks(str(warning_message.message))
    if labels:
        _WARNING_LEAKS[f"{', '.join(labels)} in a warning ({nodeid or when})"] = None


_WARNING_LEAKS: dict[str, None] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _WARNING_LEAKS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if getattr(terminalreporter, "_ogpu_secrets_summary", False):
        return
    terminalreporter._ogpu_secrets_summary = True
    for leak in _WARNING_LEAKS:
        terminalreporter.write_line(f"secret leak: {leak}", red=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    GUARD.uninstrument()
