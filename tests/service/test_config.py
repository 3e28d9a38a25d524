"""ServiceConfig: defaults, environment variables, validation."""

from __future__ import annotations

from typing import Any

import pytest

from ogpu.service import ServiceConfig, ServiceConfigError
from ogpu.service.config import ENV_VARS, redact_url


def test_defaults_match_the_live_runtime() -> None:
    cfg = ServiceConfig.from_env({})
    assert (cfg.host, cfg.port, cfg.callback_url) == ("0.0.0.0", 5555, None)


def test_environment_is_read() -> None:
    cfg = ServiceConfig.from_env(
        {
            "OGPU_SERVICE_HOST": "127.0.0.1",
            "PORT": "6000",
            "CALLBACK_URL": "http://runtime:9000/callback/",
            "SOURCE_ADDRESS": "0xsource",
            "PROVIDER_ADDRESS": "0xprovider",
            "PROTOCOL_VERSION": "2",
            "OGPU_SERVICE_MAX_IN_FLIGHT": "3",
            "OGPU_SERVICE_WORKER_THREADS": "2",
            "OGPU_SERVICE_MAX_BODY_BYTES": "1000",
            "OGPU_SERVICE_CALLBACK_ATTEMPTS": "7",
            "OGPU_SERVICE_CALLBACK_MAX_SECONDS": "1.5",
            "OGPU_SERVICE_CALLBACK_BACKOFF": "0.25",
            "OGPU_SERVICE_CALLBACK_BACKOFF_MAX": "2",
            "OGPU_SERVICE_CALLBACK_TIMEOUT": "3",
            "OGPU_SERVICE_CALLBACK_THREADS": "4",
            "OGPU_SERVICE_SHUTDOWN_GRACE": "9",
            "OGPU_SERVICE_LOG_LEVEL": "debug",
        }
    )
    assert cfg == ServiceConfig(
        host="127.0.0.1",
        port=6000,
        callback_url="http://runtime:9000/callback",
        source_address="0xsource",
        provider_address="0xprovider",
        protocol_version="2",
        max_in_flight=3,
        worker_threads=2,
        max_body_bytes=1000,
        callback_attempts=7,
        callback_max_seconds=1.5,
        callback_backoff=0.25,
        callback_backoff_max=2.0,
        callback_timeout=3.0,
        callback_threads=4,
        shutdown_grace=9.0,
        log_level="DEBUG",
    )


def test_every_field_has_documented_variables() -> None:
    import dataclasses

    import ogpu.service

    doc = ogpu.service.__doc__ or ""
    assert {f.name for f in dataclasses.fields(ServiceConfig)} == set(ENV_VARS)
    for names in ENV_VARS.values():
        for name in names:
            assert name in doc, name


def test_precedence_and_overrides() -> None:
    env = {"OGPU_SERVICE_PORT": "7000", "PORT": "6000", "CALLBACK_ADDRESS": "http://a:1/cb"}
    cfg = ServiceConfig.from_env(env)
    assert (cfg.port, cfg.callback_url) == (7000, "http://a:1/cb")
    assert ServiceConfig.from_env(env, port=1234).port == 1234
    assert ServiceConfig.from_env({"PORT": "  "}).port == 5555


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"PORT": "http"}, "PORT must be an integer"),
        ({"PORT": "70000"}, r"port must be an integer in \[0, 65535\]"),
        ({"OGPU_SERVICE_MAX_IN_FLIGHT": "0"}, "max_in_flight"),
        ({"OGPU_SERVICE_CALLBACK_TIMEOUT": "0"}, "callback_timeout"),
        ({"OGPU_SERVICE_SHUTDOWN_GRACE": "-1"}, "shutdown_grace"),
        ({"OGPU_SERVICE_CALLBACK_BACKOFF": "soon"}, "a number of seconds"),
        ({"OGPU_SERVICE_LOG_LEVEL": "LOUD"}, "log_level"),
        ({"CALLBACK_URL": "runtime:9000"}, "absolute http"),
        ({"CALLBACK_URL": "ftp://x/y"}, "absolute http"),
        ({"CALLBACK_URL": "http://x:port/y"}, "absolute http"),
    ],
)
def test_bad_values_raise_clear_errors(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ServiceConfigError, match=fragment) as info:
        ServiceConfig.from_env(env)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [True, 1.5, "8"])
def test_non_integer_fields_refused(value: Any) -> None:
    with pytest.raises(ServiceConfigError, match="worker_threads"):
        ServiceConfig(worker_threads=value)


def test_callback_url_credentials_are_not_echoed() -> None:
    with pytest.raises(ServiceConfigError) as info:
        ServiceConfig(callback_url="ftp://user:hunter2@host/x?token=abc")
    assert "hunter2" not in str(info.value) and "abc" not in str(info.value)
    assert redact_url("https://u:p@host:8443/cb?k=v#f") == "https://host:8443/cb?…"
