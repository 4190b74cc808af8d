"""The imagebackend crashed (SIGKILL to its whole process tree) and then frozen (SIGSTOP)
under load: cached pictures still 200, misses a quick clean 503 with Retry-After (never
longer than BACKEND_TIMEOUT plus a margin), the frontend unready meanwhile, and full recovery
once the imagebackend is back on the same port, with nothing done to the frontend."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.servers import kill_tree, serve

from .harness import (
    BASE_ENV,
    PROFILE,
    Poller,
    Scenario,
    describe_load,
    rss_mib,
    wait_until,
)
from .load import LoadRun, Sample, Workload, summarise, warm

BACKEND_TIMEOUT = 1.0  # the frontend's setting in this scenario (default 2)
MARGIN = 0.5  # at least: scheduling on two busy cores
READY_CACHE_S = 1.0  # the frontend checks the imagebackend at most once a second
# After a fault, time for the calls abandoned meanwhile to be worked off (see `settle`), so
# that each all-200 phase still lasts about `steady` seconds.
SETTLE_S = 3 * BACKEND_TIMEOUT


def _span(samples: list[Sample]) -> float:
    if not samples:
        return 1.0
    return max(s.end for s in samples) - min(s.start for s in samples)


def _last_refusal(samples: list[Sample], since: float, until: float) -> float | None:
    """Seconds from `since` to the last request sent after it (and before `until`, the next
    fault) that was not a 200, if any: how long the recovery really took."""
    late = [s.start - since for s in samples if since <= s.start < until and s.status != 200]
    return round(max(late), 2) if late else None


@pytest.mark.timeout(PROFILE.pytest_timeout)
def test_imagebackend_killed_then_frozen_under_load(tmp_path: Path) -> None:
    steady, fault = PROFILE.steady_s, PROFILE.fault_s
    scenario = Scenario(
        "imagebackend-outage",
        "imagebackend killed, then frozen",
        fault=f"imagebackend SIGKILL ({fault:g} s, restarted), then SIGSTOP ({fault:g} s)",
        injected=f"SIGKILL to the imagebackend's process tree for {fault:g} s, restarted on the "
        f"same port; later SIGSTOP for {fault:g} s, then SIGCONT "
        f"(BACKEND_TIMEOUT={BACKEND_TIMEOUT:g})",
        load=describe_load(PROFILE.clients, 2 * fault + 3 * steady) + ", in-process cache",
        rerun="RELIABILITY_PROFILE=full uv run --frozen pytest "
        "tests/reliability/test_backend_outage.py -p no:cacheprovider",
    )
    marks: dict[str, float] = {}
    with serve("imagebackend", tmp_path, BASE_ENV) as backend:
        env = {
            **BASE_ENV,
            "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}",
            "BACKEND_TIMEOUT": str(BACKEND_TIMEOUT),
        }
        with serve("frontend", tmp_path, env) as front, Poller(f"{front.url}/readyz") as ready:
            workload = Workload.default(miss_ratio=PROFILE.miss_ratio)
            warm(front.url, workload.hot_keys())
            before = rss_mib(front.process.pid)
            # Long enough for every phase; stopped when they are done.
            load = LoadRun(front.url, workload, PROFILE.clients, 600).start()
            time.sleep(steady)

            marks["killed"] = time.perf_counter()
            kill_tree(backend.process.pid)
            backend.process.wait(10)
            time.sleep(fault)
            marks["restarted"] = time.perf_counter()
            with serve("imagebackend", tmp_path, BASE_ENV, port=backend.port) as again:
                marks["backend_ready"] = time.perf_counter()
                wait_until(lambda: ready.first(200, marks["restarted"]) is not None, 30)
                marks["recovered"] = ready.first(200, marks["restarted"]) or time.perf_counter()
                time.sleep(steady + SETTLE_S)

                marks["frozen"] = time.perf_counter()
                kill_tree(again.process.pid, signal.SIGSTOP)
                time.sleep(fault)
                marks["thawed"] = time.perf_counter()
                kill_tree(again.process.pid, signal.SIGCONT)
                time.sleep(steady + SETTLE_S)
                load.stop()
                results = load.join()
            scenario.rss = {"frontend": [before, rss_mib(front.process.pid)]}

    def since(t: float) -> float:
        return round(t - load.started, 2)

    def between(start: float, end: float) -> list[Sample]:
        return results.select(lambda s: start <= s.start < end)

    kill_down = ready.first(503, marks["killed"])
    freeze_down = ready.first(503, marks["frozen"])
    freeze_up = ready.first(200, marks["thawed"])
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
        "thawed": between(marks["thawed"] + settle, float("inf")),
    }
    figures = {
        name: summarise(chosen, _span(chosen), ok=(200, 503)) for name, chosen in phases.items()
    }
    scenario.figures.update(
        {
            "phases": figures,
            "marks_s": {k: since(v) for k, v in marks.items()},
            "seconds_to_unready_after_kill": kill_down and round(kill_down - marks["killed"], 2),
            "seconds_to_ready_after_restart": round(marks["recovered"] - marks["restarted"], 2),
            "seconds_to_unready_after_freeze": freeze_down
            and round(freeze_down - marks["frozen"], 2),
            "seconds_to_ready_after_thaw": freeze_up and round(freeze_up - marks["thawed"], 2),
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
        f"{MARGIN * 1000:.0f}); readiness 503 "
        f"{scenario.figures['seconds_to_unready_after_kill']} s after the kill and "
        f"{scenario.figures['seconds_to_unready_after_freeze']} s after the freeze; ready "
        f"{scenario.figures['seconds_to_ready_after_restart']} s after the restart, "
        f"{scenario.figures['seconds_to_ready_after_thaw']} s after SIGCONT; last 503 sent "
        f"{scenario.figures['last_503_after_restart_s']} s after readiness came back and "
        f"{scenario.figures['last_503_after_thaw_s']} s after SIGCONT (None: none)."
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
        kill_down is not None and kill_down - marks["killed"] <= READY_CACHE_S + MARGIN + 1,
        f"readiness did not turn 503 soon after the kill ({kill_down})",
    )
    scenario.check(
        freeze_down is not None and freeze_down - marks["frozen"] <= READY_CACHE_S + bound + 1,
        f"readiness did not turn 503 while the imagebackend was frozen ({freeze_down})",
    )
    scenario.check(
        marks["recovered"] - marks["backend_ready"] <= READY_CACHE_S + MARGIN + 1,
        "the frontend was not ready again soon after the imagebackend was",
    )
    for name in ("before", "recovered", "thawed"):
        scenario.check(
            figures[name]["requests"] > 0
            and figures[name]["statuses"] == {"200": figures[name]["requests"]},
            f"not every request was a 200 {name}: {figures[name]}",
        )
    scenario.integrity(results.samples)
    scenario.finish(results, summary)
