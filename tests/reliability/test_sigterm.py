"""SIGTERM under load, to the frontend and to the imagebackend: unready at once, serving on
through SHUTDOWN_DELAY, then every request in flight completes, and the process exits 0 within
the grace period. Large renders are sent just before the drain starts, so that the drain has
real work in flight (not only requests that end within milliseconds)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.servers import serve

from .harness import BASE_ENV, PROFILE, Poller, Scenario, describe_load, fire, rss_mib
from .load import Key, LoadRun, Workload, summarise, warm

SHUTDOWN_DELAY = 1.0
# The deployment's budget (deploy/base: terminationGracePeriodSeconds 45 = SHUTDOWN_DELAY 5 +
# granian's drain of at most 30 s + margin): here SHUTDOWN_DELAY + 30 s.
GRACE_S = SHUTDOWN_DELAY + 30
RACE_S = 0.25  # requests sent this close to the drain may meet a closing keep-alive connection
IN_FLIGHT = 12  # 1024 px renders sent just before the drain (the render queue holds 16)


def _outcome(status: int, error: str) -> str:
    return str(status) if status else error


@pytest.mark.timeout(PROFILE.pytest_timeout)
@pytest.mark.parametrize("service", ["frontend", "imagebackend"])
def test_sigterm_under_load_drains_in_flight_requests(tmp_path: Path, service: str) -> None:
    scenario = Scenario(
        f"sigterm-{service}",
        f"SIGTERM to the {service}",
        fault=f"SIGTERM to the {service}, {IN_FLIGHT} large renders in flight at the drain",
        injected=f"SIGTERM to the {service} under load (SHUTDOWN_DELAY={SHUTDOWN_DELAY:g} s); "
        f"{IN_FLIGHT} renders of 1024 px sent {SHUTDOWN_DELAY - 0.1:g} s after it, in flight "
        "when the drain starts",
        load=describe_load(PROFILE.clients, PROFILE.steady_s + SHUTDOWN_DELAY)
        + f", straight to the {service}",
        rerun="RELIABILITY_PROFILE=full uv run --frozen pytest "
        f"'tests/reliability/test_sigterm.py::test_sigterm_under_load_drains_in_flight_requests"
        f"[{service}]' -p no:cacheprovider",
    )
    delay_env = {**BASE_ENV, "SHUTDOWN_DELAY": str(SHUTDOWN_DELAY)}
    with serve("imagebackend", tmp_path, delay_env if service == "imagebackend" else BASE_ENV) as b:
        front_env = {**delay_env, "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{b.port}"}
        with serve("frontend", tmp_path, front_env) as front:
            target = front if service == "frontend" else b
            workload = Workload.default(miss_ratio=PROFILE.miss_ratio)
            warm(target.url, workload.hot_keys())
            rss_before = rss_mib(target.process.pid)
            big = [
                Key(f"{workload.prefix}-in-flight-{i}", 1024, ("png", "webp")[i % 2])
                for i in range(IN_FLIGHT)
            ]
            with Poller(f"{target.url}/readyz") as ready:
                load = LoadRun(target.url, workload, PROFILE.clients, 600).start()
                time.sleep(PROFILE.steady_s)
                rss_after = rss_mib(target.process.pid)
                signalled = time.perf_counter()
                target.process.send_signal(signal.SIGTERM)
                time.sleep(max(0.0, signalled + SHUTDOWN_DELAY - 0.1 - time.perf_counter()))
                in_flight, join_in_flight = fire(target.url, big)
                try:
                    code: int | None = target.process.wait(GRACE_S + 10)
                except Exception:
                    code = None
                exited = time.perf_counter()
                load.stop()
                results = load.join()
                join_in_flight()
    scenario.rss = {service: [rss_before, rss_after]}

    drain = signalled + SHUTDOWN_DELAY
    before_signal = results.select(lambda s: s.start < signalled)
    in_delay = results.select(lambda s: signalled <= s.start < drain - RACE_S)
    at_drain = results.select(lambda s: drain - RACE_S <= s.start < drain)
    after = results.select(lambda s: s.start >= drain)
    unready = ready.first(503, signalled)
    figures = {
        "before_signal": summarise(before_signal, signalled - results.started),
        "during_shutdown_delay": summarise(in_delay, SHUTDOWN_DELAY - RACE_S),
        "in_flight_at_drain": summarise(in_flight, 1.0),
        "sent_in_the_last_250_ms_before_drain": dict(
            Counter(_outcome(s.status, s.error) for s in at_drain)
        ),
        "sent_after_drain_started": dict(Counter(_outcome(s.status, s.error) for s in after)),
        "seconds_to_exit": round(exited - signalled, 2),
        "exit_code": code,
        "seconds_to_unready": unready and round(unready - signalled, 2),
    }
    scenario.figures.update(figures)
    served = [*before_signal, *in_delay]
    failed = [s for s in served if s.status != 200]
    flight_failed = [s for s in in_flight if s.status != 200]
    scenario.note(
        f"exit {code} {figures['seconds_to_exit']} s after SIGTERM; readiness 503 after "
        f"{figures['seconds_to_unready']} s; {len(in_flight) - len(flight_failed)}/{IN_FLIGHT} "
        f"large renders in flight at the drain answered 200 (slowest "
        f"{max((s.latency for s in in_flight), default=0) * 1000:.0f} ms); requests sent after "
        f"the drain began: {figures['sent_after_drain_started'] or 'none'}."
    )
    scenario.check(code == 0, f"exit code {code} (expected 0 within {GRACE_S:g} s)")
    scenario.check(exited - signalled <= GRACE_S, f"exited after {exited - signalled:.1f} s")
    scenario.check(
        unready is not None and unready - signalled < SHUTDOWN_DELAY,
        "readiness did not turn 503 during SHUTDOWN_DELAY",
    )
    scenario.check(not failed, f"{len(failed)} requests sent before the drain failed: {failed[:3]}")
    scenario.check(len(before_signal) > 0 and len(in_delay) > 0, "no load around the signal")
    scenario.check(
        len(in_flight) == IN_FLIGHT and not flight_failed,
        f"in-flight requests at the drain not answered 200: {flight_failed[:3]}",
    )
    scenario.integrity([*results.samples, *in_flight])
    summary = summarise(served + in_flight, SHUTDOWN_DELAY + PROFILE.steady_s)
    scenario.finish(results, summary)
