"""The course's last lesson, for real: v1 played, v2 played over it, the switch seen by version.

v1 is the dev overlay with image tag A (default theme); v2 the same overlay with tag B and
`THEME=cool`. `monsterstack rollout watch` asks the played frontend throughout, and a real
Prometheus scrapes the played pods: the course's by-version query returns A, then both (the
rate window spans the switch), then only B. The watch's plot goes to build/ (the one in docs/
comes from such a run).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from monsterstack.kit import play
from monsterstack.kit.engine import Engine
from monsterstack.rollout.plot import save
from monsterstack.rollout.timeline import Timeline
from monsterstack.rollout.watch import WatchOptions, run
from tests.integration.observability.prom import prometheus
from tests.servers import free_port

from .test_play import DEV, on_dev

pytestmark = [pytest.mark.play, pytest.mark.timeout(900)]

WINDOW = "15s"  # the course writes [1m]: the same query, over a window this test can wait out
QUERY = f"sum(rate(http_requests_total[{WINDOW}])) by (version)"
PLOT = Path(__file__).resolve().parents[2] / "build" / "kube-play-rollout.png"


def versions(result: list[dict[str, object]]) -> set[str]:
    return {r["metric"]["version"] for r in result}  # type: ignore[index]


def test_v1_to_v2_by_version(engine: Engine, tmp_path: Path) -> None:
    nonce = os.urandom(3).hex()
    a, b = f"rollout-a-{nonce}", f"rollout-b-{nonce}"
    port = free_port()
    v2 = on_dev(
        tmp_path,
        "v2",
        "configMapGenerator:\n  - name: monsterstack-common\n    behavior: merge\n"
        "    literals:\n      - THEME=cool\n",
    )
    try:
        v1 = play.play(DEV, a, engine=engine, registry_port=port)
        targets = {
            "frontend": [f"{v1.pod('frontend').ip}:5000"],
            "imagebackend": [f"{v1.pod('imagebackend').ip}:8080"],
        }
        (tmp_path / "prometheus").mkdir()
        with prometheus(tmp_path / "prometheus", targets, interval="1s") as prom:
            prom.wait_for(QUERY, lambda r: versions(r) == {a}, timeout=30, what="v1 scraped")
            timeline: list[Timeline] = []
            options = WatchOptions(f"{v1.url}monster/rollout", rate=10, duration=40)
            watcher = threading.Thread(target=lambda: timeline.append(run(options, lambda _: 0)))
            watcher.start()
            time.sleep(8)
            both: list[set[str]] = []
            switched = threading.Thread(
                target=lambda: both.append(
                    versions(prom.wait_for(QUERY, lambda r: versions(r) == {a, b}, 90, "both"))
                )
            )
            switched.start()
            again = play.play(v2, b, engine=engine, registry_port=port)
            assert again.url == v1.url, "the re-played frontend keeps its address"
            switched.join()
            assert both == [{a, b}], "during the switch the query returns both versions"
            prom.wait_for(QUERY, lambda r: versions(r) == {b}, timeout=60, what="only v2")
            watcher.join()
    finally:
        play.down(engine)
    watched = timeline[0]
    print(watched.summary())
    assert watched.versions() == [a, b], watched.summary()
    assert watched.switch() is not None
    PLOT.parent.mkdir(exist_ok=True)
    save(watched, PLOT, f"kube play: {a} -> {b}")
    assert PLOT.stat().st_size > 1000
