"""A real Prometheus scraping real services: the course's query answers one series per running
version, with the labels the dashboard and alerts expect, locally as on Kubernetes; every
dashboard query and recording rule returns data. Bounded: each wait has a deadline."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monsterstack.monitoring import COURSE_QUERY
from monsterstack.processes import http_ok, wait_until
from tests.servers import ServiceProcess, free_port, serve

from .prom import MONITORING, Prometheus, prometheus, rules_file

DASHBOARD = MONITORING / "grafana" / "dashboards" / "monsterstack.json"


class Traffic:
    """Requests to `urls`, round-robin, about `rate` per second, until stopped or `limit` s."""

    def __init__(self, urls: list[str], rate: float = 20, limit: float = 60) -> None:
        self.urls, self.rate, self.limit = urls, rate, limit
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        end = time.monotonic() + self.limit
        with httpx.Client(timeout=5) as client:
            while not self.stop.is_set() and time.monotonic() < end:
                url = self.urls[self.sent % len(self.urls)]
                with contextlib.suppress(httpx.HTTPError):
                    client.get(url.format(n=self.sent % 7))
                self.sent += 1
                self.stop.wait(1 / self.rate)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


def _versions(result: list[dict[str, Any]]) -> dict[str, float]:
    return {r["metric"].get("version", ""): float(r["value"][1]) for r in result}


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, Traffic]]:
    """imagebackend 1.0.0, a frontend 1.0.0 and a frontend 2.0.0 (THEME=cool) side by side, as
    in a canary; Prometheus scraping them every second with the shipped rules loaded."""
    tmp = tmp_path_factory.mktemp("two-versions")
    v1 = {"VERSION_LABEL": "1.0.0"}
    with serve("imagebackend", tmp, v1) as backend:
        domain = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}"}
        with (
            serve("frontend", tmp, {**v1, **domain}) as f1,
            serve("frontend", tmp, {"VERSION_LABEL": "2.0.0", "THEME": "cool", **domain}) as f2,
        ):
            services = {"frontend": _targets(f1, f2), "imagebackend": _targets(backend)}
            rules = [rules_file(tmp)]
            with prometheus(tmp, services, rule_files=rules) as prom:
                urls = [
                    f"{f.url}{path}"
                    for f in (f1, f2)
                    for path in ("/monster/n{n}?size=64", "/monster/n{n}.svg", "/?name=n{n}")
                ]
                with Traffic(urls) as traffic:
                    yield prom, traffic


def _targets(*procs: ServiceProcess) -> list[str]:
    return [f"127.0.0.1:{p.port}" for p in procs]


def test_the_course_query_answers_one_series_per_running_version(
    two_versions: tuple[Prometheus, Traffic],
) -> None:
    prom, _ = two_versions
    result = prom.wait_for(
        COURSE_QUERY,
        lambda r: set(_versions(r)) == {"1.0.0", "2.0.0"} and all(_versions(r).values()),
        timeout=30,
        what="both versions with traffic",
    )
    assert all(set(r["metric"]) == {"version"} for r in result)
    expected = {("frontend", "1.0.0"), ("frontend", "2.0.0"), ("imagebackend", "1.0.0")}
    prom.wait_for(
        'sum by (service, version) (rate(http_requests_total{app="monsterstack"}[1m]))',
        lambda r: {(x["metric"]["service"], x["metric"]["version"]) for x in r} == expected,
        timeout=30,
        what="each service's version",
    )


def test_labels_are_the_contract_and_never_clash(two_versions: tuple[Prometheus, Traffic]) -> None:
    prom, _ = two_versions
    up = prom.wait_for(
        'up{app="monsterstack"} == 1', lambda r: len(r) == 3, what="three targets up"
    )
    assert sorted(r["metric"]["job"] for r in up) == ["frontend", "frontend", "imagebackend"]
    # honor_labels: the app's own labels kept, never renamed exported_*
    assert not prom.query('count({app="monsterstack", exported_version=~".+"})')
    assert not prom.query('count({app="monsterstack", exported_service=~".+"})')
    # routes are templates, never names: bounded cardinality
    series = prom.wait_for(
        'http_requests_total{app="monsterstack", route="/monster/{name}"}', bool, what="routes"
    )
    routes = {r["metric"]["route"] for r in prom.query('http_requests_total{app="monsterstack"}')}
    assert series and not any(re.search(r"n\d", r) for r in routes)
    prom.wait_for(
        'count by (version) (monsterstack_build_info{app="monsterstack"})',
        lambda r: _versions(r) == {"1.0.0": 2.0, "2.0.0": 1.0},
        what="pods by version",
    )


def test_the_frontends_report_their_dependencies(two_versions: tuple[Prometheus, Traffic]) -> None:
    """monsterstack_dependency_up, what MonsterstackDependencyDegraded watches: one series per
    frontend and dependency, 1 while each answers (the alert's expression then empty)."""
    prom, _ = two_versions
    result = prom.wait_for(
        'monsterstack_dependency_up{app="monsterstack"}',
        lambda r: len(r) == 4 and all(float(x["value"][1]) == 1 for x in r),
        what="two frontends x (imagebackend, cache), all up",
    )
    assert {(r["metric"]["job"], r["metric"]["dependency"]) for r in result} == {
        ("frontend", "imagebackend"),
        ("frontend", "cache"),
    }
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())["spec"]["groups"]
    alert = next(
        r for g in rule for r in g["rules"] if r.get("alert") == "MonsterstackDependencyDegraded"
    )
    assert prom.query(alert["expr"]) == []


def _panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]


@pytest.mark.parametrize(("title", "expr"), _panel_queries(), ids=lambda v: v[:40])
def test_every_dashboard_query_returns_data(
    two_versions: tuple[Prometheus, Traffic], title: str, expr: str
) -> None:
    prom, _ = two_versions
    concrete = expr.replace("$__rate_interval", "1m").replace("$service", ".*")
    result = prom.wait_for(concrete, bool, timeout=30, what=f"panel {title!r}")
    if "by (version)" in expr:
        assert {r["metric"]["version"] for r in result} >= {"1.0.0", "2.0.0"}, title


def test_the_shipped_rules_load_and_evaluate(two_versions: tuple[Prometheus, Traffic]) -> None:
    prom, _ = two_versions
    groups = httpx.get(f"{prom.url}/api/v1/rules").json()["data"]["groups"]
    assert {g["name"] for g in groups} == {"monsterstack.recording", "monsterstack.alerts"}
    rules = [r for g in groups for r in g["rules"]]
    assert all(r["health"] in ("ok", "unknown") for r in rules), rules
    recorded = prom.wait_for(
        "monsterstack:http_requests:rate5m", lambda r: len(r) >= 3, what="recording rule"
    )
    assert {(r["metric"]["service"], r["metric"]["version"]) for r in recorded} >= {
        ("frontend", "1.0.0"),
        ("frontend", "2.0.0"),
    }
    firing = [r["name"] for r in rules if r.get("state") == "firing"]
    assert firing == [], f"healthy services fire {firing}"


def test_monsterstack_up_monitoring_scrapes_the_running_stack(tmp_path: Path) -> None:
    """The README's one command: `monsterstack up --monitoring`, then the course's query."""
    port, backend_port, prom_port = free_port(), free_port(), free_port()
    argv = [sys.executable, "-m", "monsterstack.cli", "up", "--monitoring"]
    argv += ["--port", str(port), "--backend-port", str(backend_port)]
    argv += ["--prometheus-port", str(prom_port)]
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_DOMAIN")}
    env["VERSION_LABEL"] = "3.1.4"
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{prom_port}"
    try:
        ready = partial(http_ok, f"{url}/-/ready")
        wait_until(ready, process, timeout=60, what="monsterstack up --monitoring", log=log)
        prom = Prometheus(url, process, log)
        pages = [f"http://127.0.0.1:{port}/monster/up{{n}}?size=48"]
        with Traffic(pages, rate=20, limit=40):
            prom.wait_for(
                COURSE_QUERY,
                lambda r: _versions(r).get("3.1.4", 0) > 0,
                timeout=40,
                what="the course's query on `monsterstack up --monitoring`",
            )
        jobs = {r["metric"]["job"] for r in prom.query("up == 1")}
        assert jobs == {"frontend", "imagebackend", "prometheus"}
        groups = httpx.get(f"{url}/api/v1/rules").json()["data"]["groups"]
        assert len(groups) == 2  # the shipped rules, loaded from the checkout
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    output = log.read_text()
    assert code == 0, output
    assert f"prometheus: {url}/" in output and "graph?g0.expr=" in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/-/ready", timeout=1)  # stopped with the stack
