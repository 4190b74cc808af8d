"""Slow clients and oversized requests against the frontend, with well-behaved clients beside
them: every slow connection is cut off within a bound, every oversized request refused
(4xx or a closed connection) within a bound, and the others keep getting their pictures.

The bounds are those any sane configuration meets: a client gets at most 30 s to send its
headers (granian's own default; nginx's client_header_timeout is 60 s between reads), and a
request line plus headers of 100 KB or more is refused (nginx: 4 x 8 KB by default). More slow
connections than a worker serves at once (granian: backlog 1024 / workers) are opened, so a
limit on connections rather than on requests shows up as starved clients.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import serve

from .harness import BASE_ENV, PROFILE, Scenario, rss_mib
from .hostile_clients import BIG_REQUESTS, Outcome, SlowAttack, big_request, summarise_slow
from .load import LoadRun, Results, Workload, summarise, warm

SLOW_BOUND_S = 35.0  # a header timeout of at most 30 s, plus margin
BIG_BOUND_S = 5.0  # an oversized request is refused at once, not after a timeout
REFUSED = {"400", "413", "414", "431", "closed", "reset"}
NORMAL_MAX_S = 2.0  # no well-behaved request waits longer (p99 is ~10 ms unattacked)
ROUNDS = 3  # each oversized request, this many times during the attack


@pytest.mark.timeout(PROFILE.pytest_timeout)
def test_slow_clients_and_big_requests_are_bounded_and_starve_no_one(tmp_path: Path) -> None:
    n = PROFILE.slow_connections
    counts = {"trickle": n // 2, "partial": n // 4, "silent": n - n // 2 - n // 4}
    normal = max(2, PROFILE.normal_clients // 2)
    scenario = Scenario(
        "slow-clients",
        "Slow clients and oversized requests",
        fault=f"{n} slowloris connections; headers to 10 MB, paths to 1 MB",
        injected=f"{n} slow connections at once ({counts['trickle']} send headers a byte a "
        f"second, {counts['partial']} stop after one header, {counts['silent']} never send "
        f"a byte); oversized requests ({', '.join(BIG_REQUESTS)}) x{ROUNDS}",
        load=f"{normal} keep-alive clients + {normal} clients opening a connection per request, "
        f"{round(PROFILE.miss_ratio * 100)}% fresh names, beside the attack",
        rerun="RELIABILITY_PROFILE=full uv run --frozen pytest "
        "tests/reliability/test_slow_clients.py -p no:cacheprovider",
    )
    big: list[Outcome] = []
    with serve("imagebackend", tmp_path, BASE_ENV) as backend:
        env = {**BASE_ENV, "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}"}
        with serve("frontend", tmp_path, env) as front:
            workload = Workload.default(miss_ratio=PROFILE.miss_ratio)
            warm(front.url, workload.hot_keys())
            before = rss_mib(front.process.pid)
            kept = LoadRun(front.url, workload, normal, 600, seed=1).start()
            fresh = LoadRun(front.url, workload, normal, 600, seed=2, keepalive=False).start()
            time.sleep(PROFILE.steady_s)

            attack_start = time.perf_counter()
            attack = SlowAttack("127.0.0.1", front.port, counts, SLOW_BOUND_S).start()
            attack.all_open.wait(60)

            def oversized() -> None:
                for _ in range(ROUNDS):
                    for kind in BIG_REQUESTS:
                        big.append(big_request("127.0.0.1", front.port, kind, BIG_BOUND_S + 5))

            sender = threading.Thread(target=oversized, daemon=True)
            sender.start()
            outcomes = attack.join()
            sender.join(120)
            attack_end = time.perf_counter()
            time.sleep(PROFILE.steady_s)
            kept.stop()
            fresh.stop()
            kept_results, fresh_results = kept.join(), fresh.join()
            after = rss_mib(front.process.pid)
            ready = httpx.get(f"{front.url}/readyz", timeout=5).status_code
            scenario.rss = {"frontend": [before, after]}

    def window(results: Results, start: float, end: float) -> dict[str, object]:
        chosen = [s for s in results.samples if start <= s.start < end]
        return summarise(chosen, min(end, results.ended) - max(start, results.started))

    phases = {
        "baseline": (0.0, attack_start),
        "attack": (attack_start, attack_end),
        "after": (attack_end, float("inf")),
    }
    normal_figures = {
        label: {phase: window(r, *span) for phase, span in phases.items()}
        for label, r in (("keep-alive", kept_results), ("new connection", fresh_results))
    }
    slow = summarise_slow(outcomes)
    big_figures: dict[str, dict[str, object]] = {}
    for o in big:
        entry = big_figures.setdefault(o.kind, {"results": {}, "max_s": 0.0})
        entry["results"][o.result] = entry["results"].get(o.result, 0) + 1  # type: ignore[index]
        entry["max_s"] = round(max(float(entry["max_s"]), o.seconds), 3)  # type: ignore[arg-type]
    scenario.figures.update(
        {"normal_clients": normal_figures, "slow_connections": slow, "oversized": big_figures}
    )
    all_normal = [*kept_results.samples, *fresh_results.samples]
    summary = summarise(
        [s for s in all_normal if attack_start <= s.start < attack_end], attack_end - attack_start
    )
    summary["requests"] = len(all_normal)
    summary["errors"] = summarise(all_normal, 1.0)["errors"]

    p99 = {k: v["attack"]["p99_ms"] for k, v in normal_figures.items()}
    scenario.note(
        "Slow connections: "
        + "; ".join(
            f"{k} {v['results']} (cut after {v['cut_after_s_min']}-{v['cut_after_s_max']} s)"
            for k, v in slow.items()
        )
        + ". Oversized: "
        + "; ".join(f"{k} {v['results']}" for k, v in big_figures.items())
        + f". Normal clients during the attack: p99 {p99} ms (p50/p99 columns: all of them "
        "during the attack)."
    )
    for label, figures in normal_figures.items():
        during = figures["attack"]
        scenario.check(
            during["requests"] > 0 and during["errors"] == 0,  # type: ignore[operator]
            f"{label} clients failed during the attack: {during}",
        )
        scenario.check(
            float(during["max_ms"]) <= NORMAL_MAX_S * 1000,  # type: ignore[arg-type]
            f"{label} clients starved during the attack: a request waited {during['max_ms']} ms "
            f"(bound {NORMAL_MAX_S * 1000:.0f} ms; p99 {during['p99_ms']} ms). {n} slow "
            "connections are more than a worker holds at once: granian's backpressure "
            "(backlog 1024 / workers) counts connections, those still sending headers too, so "
            "a new connection waits until the header timeout frees a slot",
        )
    for kind, figures in slow.items():
        still_open = figures["results"].get("open", 0)  # type: ignore[attr-defined]
        late = [o for o in outcomes if o.kind == kind and o.seconds > SLOW_BOUND_S + 1]
        scenario.check(
            not still_open and not late,
            f"{kind}: {still_open} of {figures['connections']} connections still open after "
            f"{SLOW_BOUND_S:g} s: the server holds them without bound"
            + (
                " (a connection that never sends a byte escapes granian's header timeout in "
                "its HTTP auto mode, which waits for the first bytes to pick HTTP/1 or 2; "
                "http=HTTPModes.http1 applies the timeout from the start)"
                if kind == "silent"
                else ""
            ),
        )
    for kind in BIG_REQUESTS:
        results = big_figures.get(kind, {}).get("results", {})
        bad = {r: c for r, c in results.items() if r not in REFUSED}  # type: ignore[attr-defined]
        scenario.check(not bad and bool(results), f"{kind}: not refused: {results}")
        slowest = float(big_figures.get(kind, {}).get("max_s", 0.0))  # type: ignore[arg-type]
        scenario.check(
            slowest <= BIG_BOUND_S,
            f"{kind}: refused only after {slowest:.1f} s (its new connection waited for a slot)",
        )
    scenario.check(ready == 200, f"the frontend was not ready after the attack ({ready})")
    scenario.integrity(all_normal)
    scenario.finish(None, summary)
