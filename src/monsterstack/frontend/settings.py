"""The frontend's settings, compatible with the course's environment variables.

CONTEXT, IMAGEBACKEND_DOMAIN, REDIS_DOMAIN and APP_TITLE are the course's names; REDIS_URL adds
full URLs (password, TLS, database), REDIS_PASSWORD a password kept out of any URL. A malformed
value stops the frontend at start with a message naming the variable (and never a secret).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from ..core.settings import ServiceSettings
from ..generator import DEFAULT_THEME, Theme
from .ratelimit import Network, parse_networks

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]"
_HOST_PORT = re.compile(rf"^(?P<host>{_HOST})(?::(?P<port>[0-9]{{1,5}}))?$")


def split_host_port(value: str, default_port: int, variable: str) -> tuple[str, int]:
    match = _HOST_PORT.match(value.strip())
    port = int(match["port"]) if match and match["port"] else default_port
    if not match or not 1 <= port <= 65535:
        raise ValueError(f"{variable} must be a host or host:port (e.g. imagebackend:8080)")
    return match["host"], port


class FrontendSettings(ServiceSettings):
    port: int = Field(5000, ge=1, le=65535, description="TCP port (the course's 5000)")
    app_title: str = Field(
        "monsterstack", min_length=1, max_length=120, description="API docs title"
    )
    imagebackend_domain: str = Field(
        "127.0.0.1:8080", description="the imagebackend's host or host:port (port 8080 if omitted)"
    )
    redis_domain: str | None = Field(
        None, description="Redis host or host:port (port 6379); unset: the in-process cache"
    )
    redis_url: str | None = Field(
        None,
        description="full Redis URL (redis://, rediss://, password, db); wins over REDIS_DOMAIN",
        repr=False,  # it may hold a password
    )
    redis_password: SecretStr | None = Field(
        None,
        description="Redis password (from a Secret), used with REDIS_DOMAIN or a REDIS_URL "
        "without one: the password never has to be written into a URL",
    )
    cache_max_bytes: int | None = Field(
        None,
        ge=0,
        description="in-process cache bound in bytes; default 12 MiB alone, 4 MiB as the hot "
        "tier in front of Redis (which holds the rest), so RSS stays under 80 MB",
    )
    theme: Theme = Field(
        DEFAULT_THEME,
        description="colour theme of the pictures when a request names none (classic, cool, "
        "warm), asked of the imagebackend explicitly: a second release looks different",
    )
    backend_timeout: float = Field(2.0, gt=0, le=60, description="seconds per imagebackend call")
    redis_timeout: float = Field(0.25, gt=0, le=10, description="seconds per Redis call")
    rate_limit: float = Field(
        20.0,
        ge=0,
        le=100_000,
        description="requests per second allowed per client address (token bucket refill); "
        "0 turns rate limiting off. Shared through Redis when Redis is configured",
    )
    rate_limit_burst: int = Field(
        100, ge=1, le=1_000_000, description="requests a client may make at once (bucket size)"
    )
    trusted_proxies: str = Field(
        "",
        description="comma-separated addresses or CIDRs of proxies (e.g. the ingress "
        "controller) whose X-Forwarded-For names the client; empty: the TCP peer is the client",
    )
    backend_concurrency: int = Field(
        64,
        ge=1,
        le=4096,
        description="imagebackend calls in flight per process; a miss beyond them gets 503 "
        "with Retry-After at once instead of queueing",
    )

    @field_validator("imagebackend_domain")
    @classmethod
    def _backend(cls, v: str) -> str:
        split_host_port(v, 8080, "IMAGEBACKEND_DOMAIN")
        return v.strip()

    @field_validator("redis_domain")
    @classmethod
    def _redis_domain(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        split_host_port(v, 6379, "REDIS_DOMAIN")
        return v.strip()

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not re.match(r"^(redis|rediss|unix)://", v.strip()):
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        try:  # what redis-py would fail on in every worker, said once at start
            if re.search(r"\s", v.strip()):
                raise ValueError("whitespace")
            urlsplit(v.strip()).port  # noqa: B018
        except ValueError:
            # Not urllib's message: it can quote part of the password.
            raise ValueError(
                "REDIS_URL is not a valid URL (no spaces, the port a number; characters such "
                "as / ? # @ : in a password percent-encoded, or use REDIS_PASSWORD)"
            ) from None
        return v.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted(cls, v: str) -> str:
        try:
            parse_networks(v.split(","))
        except ValueError:
            raise ValueError(
                "TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs "
                "(e.g. 10.0.0.0/8,192.168.1.10)"
            ) from None
        return v

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies.split(","))

    @property
    def imagebackend_url(self) -> str:
        host, port = split_host_port(self.imagebackend_domain, 8080, "IMAGEBACKEND_DOMAIN")
        return f"http://{host}:{port}"

    @property
    def memory_cache_bytes(self) -> int:
        if self.cache_max_bytes is not None:
            return self.cache_max_bytes
        return (4 if self.redis_target else 12) * 1024 * 1024

    @property
    def redis_target(self) -> str | None:
        """The Redis URL to use, or None for the in-process cache only."""
        if self.redis_url:
            return self.redis_url
        if self.redis_domain:
            host, port = split_host_port(self.redis_domain, 6379, "REDIS_DOMAIN")
            return f"redis://{host}:{port}/0"
        return None

    @property
    def redis_password_value(self) -> str | None:
        """REDIS_PASSWORD's value, for the Redis client only (a URL's own password wins)."""
        return self.redis_password.get_secret_value() if self.redis_password else None
