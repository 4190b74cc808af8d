"""promtool on everything shipped: the rules (check + unit tests), the generated local config,
and both services' /metrics exposition (Prometheus' naming conventions)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import yaml

from monsterstack import monitoring
from monsterstack.frontend.app import create_app as frontend_app
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.imagebackend.app import create_app as backend_app

from .prom import MONITORING, promtool, rules_file


def test_the_rules_pass_promtool_check(tmp_path: Path) -> None:
    out = promtool("check", "rules", str(rules_file(tmp_path)))
    assert "SUCCESS: 14 rules found" in out


def test_the_alerts_pass_their_promtool_unit_tests(tmp_path: Path) -> None:
    rules_file(tmp_path)
    shutil.copy(MONITORING / "tests" / "rules.test.yaml", tmp_path)
    out = promtool("test", "rules", "rules.test.yaml", cwd=tmp_path)
    assert "SUCCESS" in out


def test_every_alert_has_a_runbook_a_summary_a_severity_and_a_unit_test() -> None:
    spec = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())["spec"]
    alerts = [r for g in spec["groups"] for r in g["rules"] if "alert" in r]
    tests = (MONITORING / "tests" / "rules.test.yaml").read_text()
    assert len(alerts) >= 6
    for alert in alerts:
        name = alert["alert"]
        assert alert["annotations"]["runbook"].strip(), name
        assert alert["annotations"]["summary"].strip(), name
        assert alert["labels"]["severity"] in ("critical", "warning"), name
        assert f"alertname: {name}\n        exp_alerts:\n          - exp_labels" in tests, (
            f"{name} has no test where it fires"
        )


def test_the_rule_file_extraction_is_the_yaml_spec(tmp_path: Path) -> None:
    """`monsterstack up` extracts the spec without a YAML library: it must be the same."""
    doc = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    assert yaml.safe_load(rules_file(tmp_path).read_text()) == doc["spec"]


def test_the_generated_local_config_passes_promtool(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    config = monitoring.prometheus_config(
        {"frontend": ["127.0.0.1:5000"], "imagebackend": ["127.0.0.1:8080"]},
        self_address="127.0.0.1:9090",
        rule_files=[rules],
    )
    path = monitoring.write_config(tmp_path / "prometheus.yml", config)
    promtool("check", "config", str(path))
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for job in ("frontend", "imagebackend"):
        assert jobs[job]["honor_labels"] is True
        assert jobs[job]["static_configs"][0]["labels"] == {"app": "monsterstack"}


def _exposition(app: object, paths: list[str]) -> bytes:
    async def go() -> bytes:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path in paths:
                await client.get(path)
            return (await client.get("/metrics")).content

    return asyncio.run(go())


def test_both_services_metrics_follow_prometheus_conventions() -> None:
    backend = backend_app()
    text = _exposition(backend, ["/monster/a", "/monster/b.svg", "/nope", "/version"])
    promtool("check", "metrics", stdin=text)
    assert b"monsterstack_render_duration_seconds_bucket" in text

    def fake_backend(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"png", headers={"etag": '"x"'})

    frontend = frontend_app(FrontendSettings(), backend_transport=httpx.MockTransport(fake_backend))
    text = _exposition(frontend, ["/monster/a", "/monster/a", "/", "/api/info"])
    promtool("check", "metrics", stdin=text)
    for name in (b"monsterstack_cache_lookups_total", b"http_requests_total"):
        assert name in text
