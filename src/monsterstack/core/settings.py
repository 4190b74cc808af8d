"""Typed settings read from the environment, shared by both services.

A bad value stops the service at start with a message that names the variable and says what
it accepts, instead of a traceback or a silent default.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import secrets
from .cpus import MAX_WORKERS


class Context(StrEnum):
    DEV = "DEV"  # readable logs, debug details
    PROD = "PROD"  # JSON logs, no debug pages


class ConfigError(SystemExit):
    """Raised (and exits with status 2) when the environment holds an unusable value."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ServiceSettings(BaseSettings):
    """What every monsterstack service reads."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    context: Context = Field(Context.PROD, description="DEV or PROD")
    host: str = Field("0.0.0.0", description="address to listen on")
    port: int = Field(8080, ge=1, le=65535, description="TCP port to listen on")
    workers: int = Field(1, ge=1, le=MAX_WORKERS, description="server worker processes")
    log_level: str = Field("info", pattern="^(?i)(debug|info|warning|error)$")
    shutdown_delay: float = Field(
        0.0,
        ge=0,
        le=120,
        description="seconds to stay up, unready, after SIGTERM before draining "
        "(lets a load balancer stop sending traffic first)",
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="seconds a client has to send its request headers (slow clients are cut "
        "off instead of holding a connection)",
    )
    max_header_bytes: int = Field(
        32768,
        ge=8192,
        le=16 * 1024 * 1024,
        description="request line + headers buffer, in bytes: larger requests get 431 (granian "
        "checks as its read buffer fills, so the refusal comes at 1 to 2 times this)",
    )
    max_connections: int = Field(
        4096,
        ge=16,
        le=1_000_000,
        description="connections a worker holds at once, those still sending headers included "
        "(granian's backpressure; mind the file-descriptor limit)",
    )
    version_label: str = Field(
        "", max_length=63, description="overrides the version the service reports"
    )
    git_commit: str = Field(
        "unknown",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="the commit the image was built from (set at build time), shown by /version",
    )


S = TypeVar("S", bound=BaseSettings)


def _variable(settings_cls: type[BaseSettings], loc: tuple[Any, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    prefix = settings_cls.model_config.get("env_prefix", "") or ""
    return f"{prefix}{field}".upper()


def load(settings_cls: type[S], **overrides: Any) -> S:
    """Settings from the environment (and overrides); a ConfigError naming each bad variable."""
    try:
        settings = settings_cls(**overrides)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            variable = _variable(settings_cls, e["loc"])
            # Never echo a secret: secret-named variables masked, URL passwords removed.
            got = secrets.redact_value(e.get("input"), variable)
            lines.append(f"  {variable}: {secrets.redact(e['msg'])} (got {got!r})")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
    _register_secrets(settings)
    return settings


def _register_secrets(settings: BaseSettings) -> None:
    """Every secret the settings hold, so core.secrets masks it wherever it would be printed."""
    for name, value in settings:
        if isinstance(value, SecretStr):
            secrets.register(value.get_secret_value())
        elif isinstance(value, str):
            secrets.register(secrets.url_password(value))
            if secrets.is_secret_name(name):
                secrets.register(value)
