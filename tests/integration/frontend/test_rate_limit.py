"""Per-client rate limiting, end to end: two real frontend replicas sharing one real Redis.

Each replica decides locally and reconciles with Redis every 50 ms (ratelimit/shared.py): a
replica's copy of a client's bucket decides while it was synced within FRESH_FOR, else it is
synced first. `settle()` waits until every copy is older than that (and the last takes have
been reported), so each request after it is counted exactly. Three replicas and a client
far over its limit are in test_rate_limit_replicas.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from monsterstack.frontend.ratelimit.shared import FRESH_FOR, SYNC_INTERVAL
from tests.servers import RedisProcess, ServiceProcess, frontend_stack, redis_server, serve

BURST = 4
# One token every 20 s: nothing refills during a test, so counts are exact.
LIMITS = {"RATE_LIMIT": "0.05", "RATE_LIMIT_BURST": str(BURST), "TRUSTED_PROXIES": "127.0.0.1"}


@dataclass
class Replicas:
    redis: RedisProcess
    a: ServiceProcess
    b: ServiceProcess


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    tmp = tmp_path_factory.mktemp("ratelimit")
    with redis_server(tmp) as redis, serve("imagebackend", tmp) as backend:
        env = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}", "REDIS_URL": redis.url}
        with (
            serve("frontend", tmp, {**env, **LIMITS}) as a,
            serve("frontend", tmp, {**env, **LIMITS}) as b,
        ):
            yield Replicas(redis, a, b)


def get(url: str, client: str, path: str = "/api/info", method: str = "GET") -> httpx.Response:
    # The replicas trust 127.0.0.1 as a proxy: X-Forwarded-For names the client.
    return httpx.request(method, url + path, headers={"x-forwarded-for": client}, timeout=5)


def settle() -> None:
    # A copy is kept synced for FRESH_FOR after its last use and is fresh for FRESH_FOR more;
    # one more interval for the last take to be reported.
    time.sleep(2 * FRESH_FOR + SYNC_INTERVAL)


def test_the_budget_is_shared_by_the_replicas(replicas: Replicas) -> None:
    urls = [replicas.a.url, replicas.b.url] * BURST
    answers = []
    for url in urls[: BURST + 2]:
        settle()
        answers.append(get(url, "198.51.100.1"))
    assert [r.status_code for r in answers] == [200] * BURST + [429, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers[:BURST]] == ["3", "2", "1", "0"]
    refused = answers[BURST]
    assert refused.headers["ratelimit-limit"] == str(BURST)
    assert refused.headers["ratelimit-policy"] == f"{BURST};w=80"
    assert 15 <= int(refused.headers["retry-after"]) <= 20
    assert refused.headers["cache-control"] == "no-store"
    assert refused.headers["x-content-type-options"] == "nosniff"
    body = refused.json()
    assert body["error"] == "rate_limited"
    assert "retry in" in body["message"]
    assert body["limit"] == {"rate_per_second": 0.05, "burst": BURST}


def test_every_route_counts_but_probes_and_scrapes_do_not(replicas: Replicas) -> None:
    client = "198.51.100.2"
    for path in ("/", "/monster/x?size=32", "/static/app.css", "/api/info"):
        assert get(replicas.a.url, client, path).status_code == 200, path
    assert get(replicas.a.url, client, "/monster/y").status_code == 429
    settle()
    head = get(replicas.b.url, client, "/monster/y", "HEAD")
    assert head.status_code == 429
    assert head.content == b""
    for path in ("/livez", "/readyz", "/healthz", "/metrics"):
        assert get(replicas.b.url, client, path).status_code == 200, path


def test_clients_do_not_share_a_budget(replicas: Replicas) -> None:
    for _ in range(BURST):
        get(replicas.a.url, "198.51.100.3")
    assert get(replicas.a.url, "198.51.100.3").status_code == 429
    assert get(replicas.a.url, "198.51.100.4").status_code == 200


def test_info_says_how_requests_are_limited(replicas: Replicas) -> None:
    info = get(replicas.b.url, "198.51.100.5").json()
    assert info["rate_limit"] == {"per_second": 0.05, "burst": BURST, "store": "redis"}


def test_redis_down_each_replica_limits_on_its_own_and_nothing_fails(
    replicas: Replicas,
) -> None:
    replicas.redis.kill()
    try:
        for url in (replicas.a.url, replicas.b.url):
            codes = [get(url, "198.51.100.6").status_code for _ in range(BURST + 2)]
            assert codes == [200] * BURST + [429, 429], url
        metrics = get(replicas.a.url, "x", "/metrics").text
        assert "monsterstack_rate_limit_fallbacks_total 6.0" in metrics
    finally:
        replicas.redis.restart()


def test_without_redis_the_buckets_are_in_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("ratelimit-memory")
    with frontend_stack(tmp, {"RATE_LIMIT": "0.05"}) as (backend, front):
        # No trusted proxy: X-Forwarded-For is ignored, the peer (127.0.0.1) is the client.
        codes = [get(front.url, f"203.0.113.{i}").status_code for i in range(102)]
        assert codes == [200] * 100 + [429, 429]  # the default burst
        off = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}", "RATE_LIMIT": "0"}
        with serve("frontend", tmp, off) as unlimited:
            answers = [get(unlimited.url, "z") for _ in range(150)]
            assert {r.status_code for r in answers} == {200}
            assert "ratelimit-limit" not in answers[0].headers
            assert answers[0].json()["rate_limit"] is None
