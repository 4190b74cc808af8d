"""Secrets masked wherever the services print them (core.secrets), and each place that used
to print raw input: the configuration error, the Redis error text, the log, the 500 page."""

from __future__ import annotations

import json
import logging
import secrets as random
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from monsterstack.core import secrets
from monsterstack.core.debug import add_internal_error_handler
from monsterstack.core.logging import JsonFormatter
from monsterstack.core.settings import ConfigError, load
from monsterstack.frontend.redis_store import RedisStore
from monsterstack.frontend.settings import FrontendSettings


def fresh() -> str:
    return f"pw{random.token_hex(6)}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:hunter22@cache:6379/0", "redis://***@cache:6379/0"),
        ("rediss://admin:p@ss@cache:6390/2", "rediss://***@cache:6390/2"),  # '@' in it
        ("unix://:pw@/run/redis.sock", "unix://***@/run/redis.sock"),
        ("redis:/:hunter22@cache", "redis:***@cache"),  # malformed, still masked
        ("redis://:pa/ss@cache:6379", "redis:***@cache:6379"),  # unescaped '/'
        ("redis://cache/0?password=hunter22&db=1", "redis://cache/0?password=***&db=1"),
        ("REDIS_PASSWORD=hunter22 set", "REDIS_PASSWORD=*** set"),
        ('{"api_key": "abc123"}', '{"api_key": "***"}'),
        # Left alone: no userinfo, no secret-named key.
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("Listening at: http://127.0.0.1:5000", "Listening at: http://127.0.0.1:5000"),
        ("tokens=5 burst=100 at 12:30", "tokens=5 burst=100 at 12:30"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert secrets.redact(text) == expected


def test_registered_values_are_masked_anywhere_and_short_ones_are_not_searched() -> None:
    value = fresh()
    assert secrets.redact(f"oops {value}!") == f"oops {value}!"
    secrets.register(value, "abc")
    assert secrets.redact(f"oops {value}!") == "oops ***!"
    assert secrets.redact("abc") == "abc"  # too short to search for by value


def test_redact_value_masks_secret_named_fields_whole() -> None:
    got = secrets.redact_value(
        {"REDIS_PASSWORD": "x", "redis_url": "redis://:pw@h", "port": 5, "items": ["a://u:p@h"]}
    )
    assert got == {
        "REDIS_PASSWORD": "***",
        "redis_url": "redis://***@h",
        "port": 5,
        "items": ["a://***@h"],
    }
    assert secrets.is_secret_name("redis_password") and not secrets.is_secret_name("tokens")


def test_config_error_never_echoes_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    password = fresh()
    monkeypatch.setenv("REDIS_URL", f"redis://:{password}@cache:notaport/0")
    with pytest.raises(ConfigError) as info:
        load(FrontendSettings)
    message = str(info.value)
    assert "REDIS_URL" in message and "redis://***@cache:notaport/0" in message
    assert password not in message


def test_a_loaded_password_is_registered_and_kept_out_of_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_url, alone = fresh(), fresh()
    monkeypatch.setenv("REDIS_URL", f"redis://:{in_url}@cache:6379/0")
    monkeypatch.setenv("REDIS_PASSWORD", alone)
    settings = load(FrontendSettings)
    assert settings.redis_password_value == alone
    assert in_url not in repr(settings) and alone not in repr(settings)
    assert secrets.redact(f"{in_url} {alone}") == "*** ***"


async def test_redis_errors_are_masked_before_they_reach_readyz() -> None:
    password = fresh()
    cache = RedisStore("redis://127.0.0.1:1/0", 0.2, password=password)
    await cache._trip(OSError(f"something quoted the password {password} in a very long message"))
    assert password not in cache.last_error and "***" in cache.last_error
    # Truncation comes after masking: a password cut at the limit is not half shown.
    await cache._trip(OSError("x" * 190 + password))
    assert password[:5] not in cache.last_error


async def test_redis_down_detail_names_no_password() -> None:
    password = fresh()
    cache = RedisStore(f"redis://:{password}@127.0.0.1:1/0", 0.2)
    ok, detail = await cache.ping()
    assert not ok and password not in detail
    await cache.close()


def test_log_records_are_masked_message_exception_and_fields() -> None:
    password = fresh()
    secrets.register(password)
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "url %s", (password,), None)
    try:
        raise RuntimeError(f"boom redis://:{password}@cache")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    record.fields = {"password": "x", "detail": f"got {password}"}
    assert secrets.RedactingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert password not in line
    out = json.loads(line)
    assert out["msg"] == "url ***" and "RuntimeError: boom redis://***@cache" in out["exc"]
    assert out["password"] == "***" and out["detail"] == "got ***"


@pytest.mark.parametrize("dev", [True, False])
async def test_an_unexpected_error_is_json_with_dev_details_masked(dev: bool) -> None:
    password = fresh()
    secrets.register(password)
    app = FastAPI(debug=False)
    add_internal_error_handler(app, dev=dev)

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        url = f"redis://:{password}@cache:6379/0"
        raise RuntimeError(f"cannot reach {url} with {password}")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/boom", headers={"Accept": "text/html"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert password not in r.text
    body = r.json()
    assert body["error"] == "internal_error"
    if dev:
        assert any("RuntimeError: cannot reach redis://***@cache" in line for line in body["debug"])
    else:
        assert "debug" not in body
