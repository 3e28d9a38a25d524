"""Service configuration: defaults, validation and the environment variables.

See the ``ogpu.service`` package docstring for the table of variables.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ..errors import shown
from ..net import redact_url
from .errors import ServiceConfigError

__all__ = [
    "CALLBACK_URL",
    "ENV_VARS",
    "PROTOCOL_VERSION",
    "PROVIDER_ADDRESS",
    "SDK_VERSION",
    "SENTRY_DSN",
    "SERVICE_HOST",
    "SERVICE_PORT",
    "SOURCE_ADDRESS",
    "ServiceConfig",
]


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# The fields read from variables not named OGPU_SERVICE_<FIELD> (first one set wins).
_OTHER_VARS: dict[str, tuple[str, ...]] = {
    "port": ("OGPU_SERVICE_PORT", "PORT"),
    "callback_url": ("CALLBACK_URL", "CALLBACK_ADDRESS"),
    "source_address": ("SOURCE_ADDRESS",),
    "provider_address": ("PROVIDER_ADDRESS",),
    "protocol_version": ("PROTOCOL_VERSION",),
}


@dataclass(frozen=True)
class ServiceConfig:
    """Runtime settings of a source service (immutable; build with :meth:`from_env`).

    No RPC. Construction raises :class:`ServiceConfigError` for an invalid value.
    """

    host: str = "0.0.0.0"
    port: int = 5555
    callback_url: str | None = None
    source_address: str | None = None
    provider_address: str | None = None
    protocol_version: str | None = None
    max_in_flight: int = 32
    queue_size: int = 10_000
    queue_max_bytes: int = 256 * 1024 * 1024
    worker_threads: int = 8
    max_body_bytes: int = 16 * 1024 * 1024
    callback_attempts: int = 5
    callback_max_seconds: float = 60.0
    callback_backoff: float = 0.5
    callback_backoff_max: float = 10.0
    callback_timeout: float = 10.0
    callback_threads: int = 8
    shutdown_grace: float = 30.0
    client_timeout: float = 10.0
    log_level: str = "INFO"
    failure_callbacks: bool = True
    """POST failure/timeout bodies too (the official framework sends successes only)."""

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host:
            raise ServiceConfigError("host must be a non-empty string, e.g. '0.0.0.0'")
        _check_int("port", self.port, 0, 65535)
        for name in ("max_in_flight", "worker_threads", "callback_attempts", "callback_threads"):
            _check_int(name, getattr(self, name), 1, 1_000_000)
        _check_int("max_body_bytes", self.max_body_bytes, 1, 2**40)
        _check_int("queue_size", self.queue_size, 0, 10_000_000)
        _check_int("queue_max_bytes", self.queue_max_bytes, 0, 2**40)
        for name in (f.name for f in dataclasses.fields(self) if f.type == "float"):
            positive = name in ("callback_timeout", "client_timeout")
            _check_seconds(name, getattr(self, name), allow_zero=not positive)
        if self.callback_url is not None:
            object.__setattr__(self, "callback_url", _check_callback_url(self.callback_url))
        level = self.log_level.upper() if isinstance(self.log_level, str) else None
        if level not in _LOG_LEVELS:
            raise ServiceConfigError(
                f"log_level must be one of {', '.join(_LOG_LEVELS)}, got {shown(self.log_level)}"
            )
        object.__setattr__(self, "log_level", level)
        if not isinstance(self.failure_callbacks, bool):
            raise ServiceConfigError(
                f"failure_callbacks must be a bool, got {type(self.failure_callbacks).__name__}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceConfig:
        """Read the settings from ``environ`` (default ``os.environ``); ``overrides`` win.

        No RPC. Raises :class:`ServiceConfigError` naming the variable at fault.
        """
        env = os.environ if environ is None else environ
        if not isinstance(env, Mapping):
            raise ServiceConfigError(
                f"environ must be a mapping of variable names to strings, got {shown(env)}"
            )
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name in overrides:
                continue
            for var in ENV_VARS[field.name]:
                raw = env.get(var)
                if raw is not None and not isinstance(raw, str):
                    raise ServiceConfigError(f"environment variable {var} must be a string")
                if raw is None or raw.strip() == "":
                    continue
                values[field.name] = _parse(field.type, var, raw.strip())
                break
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> ServiceConfig:
        """Return a copy with ``changes`` applied (validated again). No RPC."""
        return dataclasses.replace(self, **changes)


#: field name -> environment variables, first one set wins.
ENV_VARS: dict[str, tuple[str, ...]] = {
    f.name: _OTHER_VARS.get(f.name, (f"OGPU_SERVICE_{f.name.upper()}",))
    for f in dataclasses.fields(ServiceConfig)
}


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLEANS.update({"0": False, "false": False, "no": False, "off": False})


def _boolean(raw: str) -> bool:
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        raise ValueError(raw)
    return value


# annotation -> (parser of the environment variable's text, what it must be)
_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "bool": (_boolean, "one of 1/0, true/false, yes/no, on/off"),
    "int": (int, "an integer"),
    "float": (float, "a number of seconds"),
}


def _parse(annotation: object, var: str, raw: str) -> Any:
    parser = _PARSERS.get(str(annotation))
    if parser is None:
        return raw
    converter, wanted = parser
    try:
        return converter(raw)
    except ValueError:
        raise ServiceConfigError(
            f"environment variable {var} must be {wanted}, got {shown(raw)}"
        ) from None


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceConfigError(
            f"{name} must be an integer in [{low}, {high}], got {shown(value)}"
        )


def _check_seconds(name: str, value: object, *, allow_zero: bool) -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ServiceConfigError(
            f"{name} must be a finite number of seconds {bound}, got {shown(value)}"
        )


def _check_callback_url(url: object) -> str:
    if not isinstance(url, str):
        raise ServiceConfigError(f"callback_url must be a string, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _port_ok(url):
        raise ServiceConfigError(
            "callback_url (CALLBACK_URL) must be an absolute http(s) URL such as "
            f"'http://host:port/callback', got {redact_url(url)!r}"
        )
    return url.rstrip("/")


def _port_ok(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - the property validates the port
    except ValueError:
        return False
    return True


# -- the official module's constants, read once at import (``.env`` included) ------------------
# ``start()`` reads its settings through ``ServiceConfig.from_env()`` instead, when it starts.
SDK_VERSION: str = __version__
SENTRY_DSN: str | None = os.environ.get("OGPU_SDK_SENTRY_DSN")
PROTOCOL_VERSION: str | None = os.environ.get("PROTOCOL_VERSION")
SOURCE_ADDRESS: str = os.environ.get("SOURCE_ADDRESS", "0xundefined")
PROVIDER_ADDRESS: str = os.environ.get("PROVIDER_ADDRESS", "0xundefined")
CALLBACK_URL: str | None = os.environ.get("CALLBACK_URL")
SERVICE_HOST: str = ServiceConfig.host
SERVICE_PORT: int = ServiceConfig.port
