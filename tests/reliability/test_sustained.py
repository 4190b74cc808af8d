"""Sustained load against `monsterstack up --redis`: no errors, the right bytes, bounded RSS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis

from tests.servers import find_descendant, free_port, kill_tree, wait_ready

from .harness import BASE_ENV, PROFILE, Scenario, describe_load, metric, metrics, rss_mib
from .load import LoadRun, Workload, warm

# A tripwire, not a target: the frontend is built to stay well under 80 MB (its cache is
# bounded in bytes); a leak under load shows as growth far beyond the cache's bound.
MAX_GROWTH_MIB = 48


@pytest.mark.timeout(PROFILE.pytest_timeout)
def test_sustained_load(tmp_path: Path) -> None:
    port, backend_port, redis_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_DOMAIN")}
    env.update(BASE_ENV)
    argv = [sys.executable, "-m", "monsterstack.cli", "up", "--redis", "--port", str(port)]
    argv += ["--backend-port", str(backend_port), "--redis-port", str(redis_port)]
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    scenario = Scenario(
        "sustained",
        "Sustained load",
        fault="none",
        injected="nothing: mixed hits and misses through the frontend, Redis as shared cache",
        load=describe_load(PROFILE.clients, PROFILE.sustained_s) + ", `monsterstack up --redis`",
        rerun="RELIABILITY_PROFILE=full uv run --frozen pytest "
        "tests/reliability/test_sustained.py -p no:cacheprovider",
    )
    try:
        try:
            wait_ready(base, up, timeout=60)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"monsterstack up: {exc}:\n{log.read_text()}") from None
        frontend = find_descendant(up.pid, "serve", "frontend")
        backend = find_descendant(up.pid, "serve", "imagebackend")
        assert httpx.get(f"{base}/api/info").json()["cache"] == "memory+redis"

        workload = Workload.default(miss_ratio=PROFILE.miss_ratio)
        warmed = warm(base, workload.hot_keys())
        assert warmed.summary()["errors"] == 0, warmed.summary()
        before = {"frontend": rss_mib(frontend), "imagebackend": rss_mib(backend)}
        results = LoadRun(base, workload, PROFILE.clients, PROFILE.sustained_s).run()
        after = {"frontend": rss_mib(frontend), "imagebackend": rss_mib(backend)}
        scenario.rss = {k: [before[k], after[k]] for k in before}
        summary = results.summary()
        values = metrics(base)
        lookups = {
            r: metric(values, "monsterstack_cache_lookups_total", result=r)
            for r in ("hit_memory", "hit_shared", "miss")
        }
        keys = redis.Redis(port=redis_port).dbsize()
        scenario.figures.update(
            {
                "cache_lookups": lookups,
                "coalesced": metric(values, "monsterstack_backend_coalesced_total"),
                "redis_keys": keys,
                "hot_keys": len(workload.hot_keys()),
                "fresh_names": workload._counter,
            }
        )
        scenario.note(
            f"{summary['throughput_rps']} req/s; {keys} pictures in Redis afterwards; "
            f"cache lookups {', '.join(f'{k} {v:.0f}' for k, v in lookups.items())}."
        )
        scenario.check(summary["errors"] == 0, f"{summary['errors']} failed requests: {summary}")
        for name in before:
            growth = after[name] - before[name]
            scenario.check(
                growth < MAX_GROWTH_MIB,
                f"{name} RSS grew {growth:.1f} MiB under load (tripwire {MAX_GROWTH_MIB})",
            )
        scenario.check(keys > 0, "nothing was stored in Redis: the shared tier was not used")
        up.send_signal(signal.SIGTERM)  # Ctrl-C's twin: every service drains and stops
        code = up.wait(60)
        scenario.check(code == 0, f"monsterstack up exited with {code}: {log.read_text()[-2000:]}")
        scenario.integrity(results.samples)
        scenario.finish(results, summary)
    finally:
        if up.poll() is None:
            kill_tree(up.pid)
            up.wait()
