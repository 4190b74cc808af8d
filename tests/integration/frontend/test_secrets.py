"""The Redis password never leaves the frontend: not in its log, not in any answer (body or
header) of any route or error page, with Redis up, down, or refusing the password, nor in the
message that stops it on a malformed REDIS_URL. Real processes: redis-server with
`--requirepass`, the imagebackend, the frontend given the password in REDIS_URL or in
REDIS_PASSWORD."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import RedisProcess, ServiceProcess, free_port, redis_server, serve

# Distinctive, and long enough for the by-value net; '-' keeps it URL-safe as it is.
PASSWORD = f"Pw-{secrets.token_hex(8)}-redis"
WRONG = f"Wrong-{secrets.token_hex(8)}-pass"

# (method, path, extra request options): every route, the docs, and each kind of error page.
REQUESTS: list[tuple[str, str, dict[str, object]]] = [
    ("GET", "/", {}),
    ("GET", "/?name=leak%20check&size=128", {}),
    ("POST", "/", {"data": {"name": "form post"}}),
    ("GET", "/monster/secret-check", {}),
    ("GET", "/monster/secret-check.svg?size=64", {}),
    ("GET", "/api/monsters/secret-check", {}),
    ("GET", "/api/info", {}),
    ("GET", "/version", {}),
    ("GET", "/metrics", {}),
    ("GET", "/livez", {}),
    ("GET", "/readyz", {}),
    ("GET", "/readyz?as=json", {"headers": {"Accept": "application/json"}}),
    ("GET", "/healthz", {"headers": {"Accept": "application/json"}}),
    ("GET", "/docs", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/favicon.ico", {}),
    ("GET", "/no-such-route", {}),  # 404
    ("GET", "/?size=99999", {}),  # 422
    ("GET", "/monster/x?size=0", {}),  # 422 on the fast path
    ("GET", "/monster/%FF", {}),  # 400
    ("DELETE", "/version", {}),  # 405
    ("PUT", "/", {}),  # 405
    ("POST", "/?large", {"content": b"name=" + b"x" * 10_000}),  # 413
]


ERROR_PAGES = {
    "GET /no-such-route": "404",
    "GET /?size=99999": "422",
    "GET /monster/x?size=0": "422",
    "GET /monster/%FF": "400",
    "DELETE /version": "405",
    "PUT /": "405",
    "POST /?large": "413",
}


def answers(url: str) -> list[tuple[str, str]]:
    """(request, everything answered: status, headers, body) for every request above."""
    out = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for method, path, options in REQUESTS:
            r = client.request(method, path, **options)  # type: ignore[arg-type]
            headers = "\n".join(f"{k}: {v}" for k, v in r.headers.multi_items())
            out.append((f"{method} {path}", f"{r.status_code}\n{headers}\n\n{r.text}"))
    return out


def assert_nowhere(front: ServiceProcess, *secrets_: str) -> dict[str, str]:
    """No secret in any answer nor in the log so far; the answers, by request, for more checks."""
    seen = dict(answers(front.url))
    assert len(seen) == len(REQUESTS)
    for request, text in seen.items():
        for secret in secrets_:
            assert secret not in text, f"{request} answered the password:\n{text[:2000]}"
    log = front.output()
    for secret in secrets_:
        assert secret not in log, f"the frontend logged the password:\n{log[-4000:]}"
    return seen


def cache_state(front: ServiceProcess) -> dict[str, str]:
    r = httpx.get(f"{front.url}/readyz", headers={"Accept": "application/json"}, timeout=5)
    state: dict[str, str] = r.json()["dependencies"]["cache"]
    return state


def url_with(redis: RedisProcess, password: str) -> str:
    return f"redis://:{password}@127.0.0.1:{redis.port}/0"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with serve("imagebackend", tmp_path_factory.mktemp("backend")) as proc:
        yield proc


def frontend_env(backend: ServiceProcess, **env: str) -> dict[str, str]:
    # A Redis configured in the caller's environment must not be the one used here.
    base = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
    # Buckets big enough for every probe (the limiter still runs, through the same Redis).
    limits = {"RATE_LIMIT": "50", "RATE_LIMIT_BURST": "1000"}
    return {**base, "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}", **limits, **env}


@pytest.mark.parametrize("context", ["DEV", "PROD"])
def test_password_in_redis_url_up_down_and_back(
    tmp_path: Path, backend: ServiceProcess, context: str
) -> None:
    with redis_server(tmp_path, password=PASSWORD) as redis:
        env = frontend_env(backend, REDIS_URL=url_with(redis, PASSWORD), CONTEXT=context)
        with serve("frontend", tmp_path, env) as front:
            seen = assert_nowhere(front, PASSWORD)
            assert cache_state(front)["status"] == "up"  # the password did reach Redis
            assert "not counted" not in seen["GET /api/info"]
            statuses = {request: text.split("\n", 1)[0] for request, text in seen.items()}
            assert statuses == {**statuses, **ERROR_PAGES}  # each error page was served

            redis.kill()  # down: connection errors in /readyz, the page and the log
            time.sleep(0.3)
            seen = assert_nowhere(front, PASSWORD)
            assert cache_state(front)["status"] == "degraded"
            assert "not counted: Redis is unavailable" in seen["GET /"]

            redis.restart()
            time.sleep(2.5)  # the circuit breaker retries after 2 s
            assert cache_state(front)["status"] == "up"
            assert_nowhere(front, PASSWORD)


def test_wrong_password_is_an_auth_error_that_names_neither_password(
    tmp_path: Path, backend: ServiceProcess
) -> None:
    with redis_server(tmp_path, password=PASSWORD) as redis:
        env = frontend_env(backend, REDIS_URL=url_with(redis, WRONG))
        with serve("frontend", tmp_path, env) as front:
            assert_nowhere(front, PASSWORD, WRONG)
            state = cache_state(front)
            assert state["status"] == "degraded"
            assert "Authentication" in state["detail"] or "auth" in state["detail"].lower()
            assert WRONG not in state["detail"]
            assert_nowhere(front, PASSWORD, WRONG)


def test_redis_password_setting_keeps_the_password_out_of_any_url(
    tmp_path: Path, backend: ServiceProcess
) -> None:
    """REDIS_PASSWORD (a Secret's key, as deploy/components/redis-password gives it) with the
    course's REDIS_DOMAIN, and with a REDIS_URL that has no password."""
    with redis_server(tmp_path, password=PASSWORD) as redis:
        for where in (
            {"REDIS_DOMAIN": f"127.0.0.1:{redis.port}"},
            {"REDIS_URL": redis.url},
        ):
            env = frontend_env(backend, REDIS_PASSWORD=PASSWORD, CONTEXT="PROD", **where)
            with serve("frontend", tmp_path, env) as front:
                assert cache_state(front)["status"] == "up", where
                seen = assert_nowhere(front, PASSWORD)
                assert "not counted" not in seen["GET /api/info"]
                redis.kill()
                time.sleep(0.3)
                assert_nowhere(front, PASSWORD)
                redis.restart()


def test_without_the_password_redis_refuses_and_says_so(
    tmp_path: Path, backend: ServiceProcess
) -> None:
    """The control: the other tests' "up" is the password at work, not an open Redis."""
    with (
        redis_server(tmp_path, password=PASSWORD) as redis,
        serve("frontend", tmp_path, frontend_env(backend, REDIS_URL=redis.url)) as front,
    ):
        state = cache_state(front)
        assert state["status"] == "degraded" and "auth" in state["detail"].lower()


@pytest.mark.parametrize(
    "redis_url",
    [
        f"redis://:{PASSWORD}@127.0.0.1:notaport/0",  # bad port
        f"redis://:{PASSWORD}@[::1/0",  # bad IPv6 address
        f"redis:/:{PASSWORD}@127.0.0.1:6379/0",  # one slash short
        f"http://:{PASSWORD}@127.0.0.1:6379/0",  # wrong scheme
        f"redis://:{PASSWORD[:9]}/{PASSWORD[9:]}@127.0.0.1:6379/0",  # unescaped '/' in it
        f"redis://admin:{PASSWORD}@127.0.0.1:6379/0 trailing",  # a space
    ],
)
def test_a_malformed_redis_url_stops_the_frontend_without_printing_it(redis_url: str) -> None:
    env = {**os.environ, "REDIS_URL": redis_url, "CONTEXT": "PROD"}
    argv = [sys.executable, "-m", "monsterstack.cli", "serve", "frontend"]
    argv += ["--host", "127.0.0.1", "--port", str(free_port())]  # were it ever to start
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "REDIS_URL" in output and "Traceback" not in output
    for piece in (PASSWORD, PASSWORD[:9], PASSWORD[9:]):
        assert piece not in output, output
