from __future__ import annotations

import pytest

from monsterstack.core.settings import ConfigError, Context, load
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.imagebackend.settings import ImagebackendSettings


def test_defaults_and_course_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT", "DEV")
    monkeypatch.setenv("IMAGEBACKEND_DOMAIN", "imagebackend")
    monkeypatch.setenv("REDIS_DOMAIN", "redis")
    monkeypatch.setenv("APP_TITLE", "Mes monstres")
    s = load(FrontendSettings)
    assert s.context is Context.DEV and s.port == 5000 and s.app_title == "Mes monstres"
    assert s.imagebackend_url == "http://imagebackend:8080"
    assert s.redis_target == "redis://redis:6379/0"
    assert load(ImagebackendSettings).port == 8080


def test_redis_url_wins_and_no_redis_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(FrontendSettings).redis_target is None
    monkeypatch.setenv("REDIS_DOMAIN", "redis:6380")
    monkeypatch.setenv("REDIS_URL", "rediss://:secret@cache.example:6390/2")
    assert load(FrontendSettings).redis_target == "rediss://:secret@cache.example:6390/2"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONTEXT", "STAGING"),
        ("IMAGEBACKEND_DOMAIN", "http://imagebackend:8080"),
        ("IMAGEBACKEND_DOMAIN", "imagebackend:99999"),
        ("REDIS_DOMAIN", "redis:port"),
        ("REDIS_URL", "localhost:6379"),
        ("PORT", "eighty"),
        ("BACKEND_TIMEOUT", "-1"),
    ],
)
def test_malformed_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load(FrontendSettings)
    assert variable in str(info.value)
