"""The imagebackend crashed (SIGKILL to its whole process tree) and then frozen (SIGSTOP)
under load, behind two frontends sharing one Redis: every frontend stays ready all along
(readiness reports the imagebackend degraded, and so does its gauge) and serves the page and
every picture cached before the outage, whichever frontend cached it; a picture never drawn
is a quick clean 503 with Retry-After (never longer than BACKEND_TIMEOUT plus a margin); once
the imagebackend is back on the same port, new pictures are drawn again, with nothing done
to the frontends."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.servers import ServiceProcess, kill_tree, redis_server, serve

from .harness import (
    BASE_ENV,
    PROFILE,
    Poller,
    Scenario,
    describe_load,
    metric,
    metrics,
    rss_mib,
    wait_until,
)
from .load import LoadRun, Results, Sample, Workload, summarise, warm

BACKEND_TIMEOUT = 1.0  # the frontends' setting in this scenario (default 2)
MARGIN = 0.5  # at least: scheduling on two busy cores
CHECK_PERIOD_S = 1.0  # a frontend checks the imagebackend at most once a second
FRONTENDS = 2
# After a fault, time for the calls abandoned meanwhile to be worked off (see `settle`), so
# that each all-200 phase still lasts about `steady` seconds.
SETTLE_S = 3 * BACKEND_TIMEOUT
CACHED = "cached before the outage"  # drawn through the first frontend only, before it


def _span(samples: list[Sample]) -> float:
    if not samples:
        return 1.0
    return max(s.end for s in samples) - min(s.start for s in samples)


def _last_refusal(samples: list[Sample], since: float, until: float) -> float | None:
    """Seconds from `since` to the last request sent after it (and before `until`, the next
    fault) that was not a 200, if any: how long the recovery really took."""
    late = [s.start - since for s in samples if since <= s.start < until and s.status != 200]
    return round(max(late), 2) if late else None


def _state(front: ServiceProcess) -> dict[str, Any]:
    r = httpx.get(f"{front.url}/readyz", headers={"Accept": "application/json"}, timeout=2)
    body: dict[str, Any] = r.json()
    return {**body, "code": r.status_code}


def _backend_seen(front: ServiceProcess) -> tuple[str, float]:
    """(the imagebackend's state in readiness, its monsterstack_dependency_up gauge)."""
    state = _state(front)["dependencies"]["imagebackend"]["status"]
    return state, metric(
        metrics(front.url), "monsterstack_dependency_up", dependency="imagebackend"
    )


def named(fronts: list[ServiceProcess]) -> list[tuple[str, ServiceProcess]]:
    return [(f"frontend {i + 1}", f) for i, f in enumerate(fronts)]


def _until_all(fronts: list[ServiceProcess], seen: tuple[str, float], timeout: float) -> float:
    """When every frontend reports the imagebackend as `seen`; fails after `timeout` s."""
    took = wait_until(lambda: all(_backend_seen(f) == seen for f in fronts), timeout)
    assert took is not None, (
        f"not every frontend reported the imagebackend {seen} within {timeout} s: "
        + str({f.url: _backend_seen(f) for f in fronts})
    )
    return took


def _during_outage(front: ServiceProcess, fresh: str) -> dict[str, Any]:
    """What one frontend answers while the imagebackend is away: readiness, the page, the
    picture cached before, a picture never drawn."""
    page = httpx.get(f"{front.url}/", timeout=5)
    cached = httpx.get(f"{front.url}/monster/{quote(CACHED, safe='')}", timeout=5)
    started = time.perf_counter()
    new = httpx.get(f"{front.url}/monster/{quote(fresh, safe='')}", timeout=10)
    body: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        body = new.json()
    state = _state(front)
    return {
        "readyz": state["code"],
        "degraded": state["degraded"],
        "page": page.status_code,
        "cached": cached.status_code,
        "cached_png": cached.content.startswith(b"\x89PNG"),
        "new": new.status_code,
        "new_s": round(time.perf_counter() - started, 2),
        "new_retry_after": new.headers.get("retry-after", ""),
        "new_error": body.get("error"),
    }


OUTAGE_OK = {
    "readyz": 200,
    "degraded": ["imagebackend"],
    "page": 200,
    "cached": 200,
    "cached_png": True,
    "new": 503,
    "new_error": "imagebackend_unavailable",
}


@pytest.mark.timeout(PROFILE.pytest_timeout)
def test_imagebackend_killed_then_frozen_under_load(tmp_path: Path) -> None:
    steady, fault = PROFILE.steady_s, PROFILE.fault_s
    per_frontend = max(1, PROFILE.clients // FRONTENDS)
    scenario = Scenario(
        "imagebackend-outage",
        "imagebackend killed, then frozen",
        fault=f"imagebackend SIGKILL ({fault:g} s, restarted), then SIGSTOP ({fault:g} s)",
        injected=f"SIGKILL to the imagebackend's process tree for {fault:g} s, restarted on the "
        f"same port; later SIGSTOP for {fault:g} s, then SIGCONT "
        f"(BACKEND_TIMEOUT={BACKEND_TIMEOUT:g}); {FRONTENDS} frontends sharing one Redis",
        load=describe_load(PROFILE.clients, 2 * fault + 3 * steady)
        + f", spread over {FRONTENDS} frontends sharing Redis",
        rerun="RELIABILITY_PROFILE=full uv run --frozen pytest "
        "tests/reliability/test_backend_outage.py -p no:cacheprovider",
    )
    marks: dict[str, float] = {}
    checks: dict[str, dict[str, dict[str, Any]]] = {}
    with (
        redis_server(tmp_path) as redis,
        serve("imagebackend", tmp_path, BASE_ENV) as backend,
        contextlib.ExitStack() as stack,
    ):
        env = {
            **BASE_ENV,
            "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}",
            "BACKEND_TIMEOUT": str(BACKEND_TIMEOUT),
            "REDIS_URL": redis.url,
        }
        fronts = [stack.enter_context(serve("frontend", tmp_path, env)) for _ in range(FRONTENDS)]
        pollers = [stack.enter_context(Poller(f"{f.url}/readyz")) for f in fronts]
        # Drawn through the first frontend only: the others have it from Redis alone.
        assert httpx.get(f"{fronts[0].url}/monster/{quote(CACHED, safe='')}").status_code == 200
        workloads = [Workload.default(miss_ratio=PROFILE.miss_ratio) for _ in fronts]
        warm(fronts[0].url, workloads[0].hot_keys())  # into Redis, for every frontend
        before = {name: rss_mib(f.process.pid) for name, f in named(fronts)}
        # Long enough for every phase; stopped when they are done.
        loads = [
            LoadRun(f.url, w, per_frontend, 600, seed=i + 1).start()
            for i, (f, w) in enumerate(zip(fronts, workloads, strict=True))
        ]
        time.sleep(steady)

        marks["killed"] = time.perf_counter()
        kill_tree(backend.process.pid)
        backend.process.wait(10)
        seen_down = _until_all(fronts, ("degraded", 0.0), CHECK_PERIOD_S + MARGIN + 2)
        checks["killed"] = {
            name: _during_outage(f, f"never drawn, killed {f.port}") for name, f in named(fronts)
        }
        time.sleep(max(0.0, fault - (time.perf_counter() - marks["killed"])))

        marks["restarted"] = time.perf_counter()
        with serve("imagebackend", tmp_path, BASE_ENV, port=backend.port) as again:
            marks["backend_ready"] = time.perf_counter()
            _until_all(fronts, ("up", 1.0), 30)
            marks["recovered"] = time.perf_counter()
            checks["recovered"] = {
                name: {"new": httpx.get(f"{f.url}/monster/drawn-after-{f.port}").status_code}
                for name, f in named(fronts)
            }
            time.sleep(steady + SETTLE_S)

            marks["frozen"] = time.perf_counter()
            kill_tree(again.process.pid, signal.SIGSTOP)
            seen_frozen = _until_all(
                fronts, ("degraded", 0.0), CHECK_PERIOD_S + BACKEND_TIMEOUT + MARGIN + 2
            )
            checks["frozen"] = {
                name: _during_outage(f, f"never drawn, frozen {f.port}")
                for name, f in named(fronts)
            }
            time.sleep(max(0.0, fault - (time.perf_counter() - marks["frozen"])))
            marks["thawed"] = time.perf_counter()
            kill_tree(again.process.pid, signal.SIGCONT)
            _until_all(fronts, ("up", 1.0), 30)
            marks["thawed_seen"] = time.perf_counter()
            time.sleep(steady + SETTLE_S)
            for load in loads:
                load.stop()
            parts = [load.join() for load in loads]
        scenario.rss = {
            name: [before[name], rss_mib(f.process.pid)]
            for name, f in zip(before, fronts, strict=True)
        }
    started = min(load.started for load in loads)
    results = Results(
        [s for part in parts for s in part.samples],
        started,
        max(p.ended for p in parts),
        PROFILE.clients,
        parts[0].client_kind,
    )

    def since(t: float) -> float:
        return round(t - started, 2)

    def between(start: float, end: float) -> list[Sample]:
        return results.select(lambda s: start <= s.start < end)

    # What an outage may add to an answer is the timeout: the bound is BACKEND_TIMEOUT beyond
    # the slowest answer before any fault (queueing, when the load saturates the machine).
    healthy_max = max(
        (s.latency for s in results.samples if s.start < marks["killed"] - 2), default=0
    )
    bound = BACKEND_TIMEOUT + max(MARGIN, healthy_max)
    summary = results.summary(ok=(200, 503))
    # A request sent just before a fault may meet it on its way to the imagebackend: the
    # all-200 phases start and end `bound` away from the faults. After one, the imagebackend
    # first works off the calls abandoned while it was away (sent, timed out, still queued
    # on its sockets), so one more deadline may pass before every answer is back in time:
    # measured, a fresh name 503'd 1.03 s after the thaw with a 1 s deadline.
    settle = bound + BACKEND_TIMEOUT
    phases = {
        "before": between(0, marks["killed"] - bound),
        "killed": between(marks["killed"], marks["recovered"]),
        "recovered": between(marks["recovered"] + settle, marks["frozen"] - bound),
        "frozen": between(marks["frozen"], marks["thawed"]),
        "thawed": between(marks["thawed_seen"] + settle, float("inf")),
    }
    figures = {
        name: summarise(chosen, _span(chosen), ok=(200, 503)) for name, chosen in phases.items()
    }
    # Every answer each frontend gave its readiness probe, from the first load to the end.
    readiness = {
        name: sorted({status for t, status in p.seen if t >= started})
        for (name, _), p in zip(named(fronts), pollers, strict=True)
    }
    scenario.figures.update(
        {
            "phases": figures,
            "marks_s": {k: since(v) for k, v in marks.items()},
            "readiness_statuses": readiness,
            "seconds_to_degraded_after_kill": round(seen_down, 2),
            "seconds_to_degraded_after_freeze": round(seen_frozen, 2),
            "seconds_to_up_after_restart": round(marks["recovered"] - marks["restarted"], 2),
            "seconds_to_up_after_backend_ready": round(
                marks["recovered"] - marks["backend_ready"], 2
            ),
            "seconds_to_up_after_thaw": round(marks["thawed_seen"] - marks["thawed"], 2),
            "during_outage": checks,
            "last_503_after_restart_s": _last_refusal(
                results.samples, marks["recovered"], marks["frozen"] - bound
            ),
            "last_503_after_thaw_s": _last_refusal(results.samples, marks["thawed"], float("inf")),
        }
    )
    failed = [s for s in results.samples if s.status not in (200, 503)]
    no_retry_after = [s for s in results.samples if s.status == 503 and not s.retry_after]
    hot_failed = [s for s in results.samples if s.hot and s.status != 200]
    slow = [s for s in results.samples if s.latency > bound]
    n503 = summary["statuses"].get("503", 0)  # type: ignore[union-attr]
    scenario.note(
        f"{n503} clean 503s (fresh names only) while the imagebackend was down or frozen; "
        f"slowest answer {summary['max_ms']} ms (bound {bound * 1000:.0f}: BACKEND_TIMEOUT + "
        f"{(bound - BACKEND_TIMEOUT) * 1000:.0f} ms, the slowest before the faults or "
        f"{MARGIN * 1000:.0f}). Readiness of the {FRONTENDS} frontends, asked every 0.1 s all "
        f"along, answered {', '.join(f'{k}: {v}' for k, v in readiness.items())}. Every "
        "frontend reported the imagebackend degraded (gauge 0) "
        f"{scenario.figures['seconds_to_degraded_after_kill']} s after the kill and "
        f"{scenario.figures['seconds_to_degraded_after_freeze']} s after the freeze, up again "
        f"{scenario.figures['seconds_to_up_after_backend_ready']} s after the restarted one was "
        f"ready and {scenario.figures['seconds_to_up_after_thaw']} s after SIGCONT; during each "
        "fault "
        "each frontend answered the page 200, a picture another frontend cached before the "
        "outage 200, a new one 503 with Retry-After; last 503 sent "
        f"{scenario.figures['last_503_after_restart_s']} s after the imagebackend was seen "
        f"up again and {scenario.figures['last_503_after_thaw_s']} s after SIGCONT (None: none)."
    )
    scenario.check(
        all(statuses == [200] for statuses in readiness.values()),
        f"a frontend was not ready at some point: {readiness}",
    )
    for fault_name in ("killed", "frozen"):
        for name, seen in checks[fault_name].items():
            scenario.check(
                {k: seen[k] for k in OUTAGE_OK} == OUTAGE_OK and seen["new_retry_after"] != "",
                f"{name} while the imagebackend was {fault_name}: {seen}",
            )
            scenario.check(
                seen["new_s"] <= bound,
                f"{name}: the new picture's 503 took {seen['new_s']} s ({fault_name})",
            )
    scenario.check(
        all(seen == {"new": 200} for seen in checks["recovered"].values()),
        f"new pictures not drawn once the imagebackend was back: {checks['recovered']}",
    )
    scenario.check(not failed, f"{len(failed)} answers neither 200 nor 503: {failed[:3]}")
    scenario.check(not no_retry_after, f"{len(no_retry_after)} 503s without Retry-After")
    scenario.check(
        not hot_failed, f"{len(hot_failed)} cached pictures not served: {hot_failed[:3]}"
    )
    scenario.check(
        not slow,
        f"{len(slow)} requests took longer than {bound:.2f} s: "
        + ", ".join(
            f"{'hot' if s.hot else 'fresh'} {s.status or s.error} in {s.latency:.2f} s, sent at "
            f"{since(s.start)} s"
            for s in sorted(slow, key=lambda s: -s.latency)[:5]
        )
        + f" (phases from the load's start: {scenario.figures['marks_s']})",
    )
    scenario.check(n503 > 0, "no 503 at all: the outage was not seen")
    scenario.check(
        marks["recovered"] - marks["backend_ready"] <= CHECK_PERIOD_S + MARGIN + 1,
        "the frontends did not see the imagebackend up soon after it was",
    )
    for name in ("before", "recovered", "thawed"):
        scenario.check(
            figures[name]["requests"] > 0
            and figures[name]["statuses"] == {"200": figures[name]["requests"]},
            f"not every request was a 200 {name}: {figures[name]}",
        )
    scenario.integrity(results.samples)
    scenario.finish(results, summary)
