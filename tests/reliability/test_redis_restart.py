"""Redis killed (SIGKILL) and restarted under load: every request still answered 200 with the
right bytes (served uncached meanwhile), and the shared cache in use again once it is back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis as redis_client

from tests.servers import redis_server, serve

from .harness import (
    BASE_ENV,
    PROFILE,
    Scenario,
    describe_load,
    metric,
    metrics,
    rss_mib,
    wait_until,
)
from .load import LoadRun, Workload, summarise, warm

CIRCUIT_S = 2.0  # the frontend's RedisStore retries Redis 2 s after a failure
STEADY_BOUND_S = CIRCUIT_S + 2.0  # back in use, for good, this soon after Redis answers again
QUIET_S = CIRCUIT_S + 0.5  # no new cache error for longer than a circuit window: steady


def _cache_errors(url: str) -> float:
    values = metrics(url)
    return sum(
        metric(values, "monsterstack_cache_errors_total", operation=op) for op in ("get", "set")
    )


def _steady_after(errors: list[tuple[float, float]], since: float) -> float | None:
    """Seconds from `since` to the last rise of the error count, if it then stayed flat for
    QUIET_S until the end of the observation; None when it was still rising."""
    rises = [t for (t, v), (_, prev) in zip(errors[1:], errors, strict=False) if v > prev]
    last = max([since, *(t for t in rises if t >= since)])
    if errors[-1][0] - last < QUIET_S:
        return None
    return last - since


def _cache_state(url: str) -> str:
    state = httpx.get(f"{url}/readyz", headers={"Accept": "application/json"}, timeout=2).json()
    return str(state["dependencies"]["cache"]["status"])


@pytest.mark.timeout(PROFILE.pytest_timeout)
def test_redis_killed_and_restarted_under_load(tmp_path: Path) -> None:
    after_s = PROFILE.steady_s + STEADY_BOUND_S + QUIET_S  # room to see the cache steady
    total = PROFILE.steady_s + PROFILE.fault_s + after_s
    scenario = Scenario(
        "redis-restart",
        "Redis killed and restarted",
        fault=f"redis-server SIGKILL, {PROFILE.fault_s:g} s down, restarted empty",
        injected=f"SIGKILL to redis-server after {PROFILE.steady_s:g} s, restarted (empty) on "
        f"the same port {PROFILE.fault_s:g} s later",
        load=describe_load(PROFILE.clients, total),
        rerun="RELIABILITY_PROFILE=full uv run --frozen pytest "
        "tests/reliability/test_redis_restart.py -p no:cacheprovider",
    )
    with redis_server(tmp_path) as redis, serve("imagebackend", tmp_path, BASE_ENV) as backend:
        env = {
            **BASE_ENV,
            "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}",
            "REDIS_URL": redis.url,
        }
        with serve("frontend", tmp_path, env) as front:
            workload = Workload.default(miss_ratio=PROFILE.miss_ratio)
            warm(front.url, workload.hot_keys())
            before = rss_mib(front.process.pid)
            load = LoadRun(front.url, workload, PROFILE.clients, total).start()
            time.sleep(PROFILE.steady_s)
            keys_before = redis_client.Redis(port=redis.port).dbsize()
            killed = time.perf_counter()
            redis.kill()
            degraded_after = wait_until(lambda: _cache_state(front.url) == "degraded", 5)
            time.sleep(max(0.0, PROFILE.fault_s - (time.perf_counter() - killed)))
            restarted = time.perf_counter()
            redis.restart()
            up_after = wait_until(lambda: _cache_state(front.url) == "up", 10)
            client = redis_client.Redis(port=redis.port)
            refilled = wait_until(lambda: client.dbsize() > 0, 10)
            errors: list[tuple[float, float]] = []
            while time.perf_counter() < load.started + total - 0.3:  # sampled till load ends
                errors.append((time.perf_counter(), _cache_errors(front.url)))
                time.sleep(0.2)
            results = load.join()
            scenario.rss = {"frontend": [before, rss_mib(front.process.pid)]}
            keys_after = client.dbsize()
            values = metrics(front.url)

    summary = results.summary()
    during = summarise(results.select(lambda s: killed <= s.start < restarted), restarted - killed)
    after_restart = results.select(lambda s: s.start >= restarted)
    counts = {
        op: metric(values, "monsterstack_cache_errors_total", operation=op) for op in ("get", "set")
    }
    steady = _steady_after(errors, restarted)
    errors_after = errors[-1][1] - errors[0][1] if errors else 0.0
    scenario.figures.update(
        {
            "redis_keys_before_kill": keys_before,
            "redis_keys_at_end": keys_after,
            "cache_errors": counts,
            "cache_errors_after_restart": errors_after,
            "seconds_to_cache_steady_after_restart": steady,
            "seconds_to_degraded": degraded_after,
            "seconds_to_cache_up_after_restart": up_after,
            "seconds_to_first_key_after_restart": refilled,
            "while_down": during,
            "requests_after_restart": len(after_restart),
        }
    )
    scenario.note(
        f"While Redis was down: {during['requests']} requests, {during['errors']} errors, "
        f"p99 {during['p99_ms']} ms. Readiness said cache degraded after "
        f"{degraded_after if degraded_after is None else round(degraded_after, 2)} s; "
        f"Redis held {keys_after} pictures again at the end "
        f"(first key {refilled if refilled is None else round(refilled, 2)} s after restart); "
        f"cache errors after the restart: {errors_after:.0f}, steady after "
        f"{'never (in the window)' if steady is None else f'{steady:.1f} s'}."
    )
    scenario.check(summary["errors"] == 0, f"{summary['errors']} failed requests: {summary}")
    scenario.check(during["requests"] > 0, "no request was sent while Redis was down")
    scenario.check(degraded_after is not None, "readiness never reported the cache degraded")
    scenario.check(sum(counts.values()) > 0, "the frontend never noticed Redis was gone")
    scenario.check(up_after is not None, "the cache never reported up again after the restart")
    scenario.check(
        refilled is not None and keys_after > 0,
        "nothing was stored in the restarted Redis: the shared cache was not used again",
    )
    scenario.check(
        steady is not None and steady <= STEADY_BOUND_S,
        f"the shared cache kept failing after Redis was back: {errors_after:.0f} more cache "
        f"errors, steady after {'never' if steady is None else f'{steady:.1f}'} s (bound "
        f"{STEADY_BOUND_S:g} s). Each pooled Redis "
        "connection that died with the server fails once when next used, and each such "
        "failure opens the circuit for 2 s again (frontend/redis_store.py RedisStore._trip)",
    )
    scenario.integrity(results.samples)
    scenario.finish(results, summary)
