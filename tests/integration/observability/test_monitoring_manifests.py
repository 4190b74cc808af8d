"""deploy/monitoring renders with the kit's base and ServiceMonitor, keeps the kit's contract,
validates against the vendored ServiceMonitor schema, and provisions the dashboard both ways."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .prom import MONITORING, ROOT

DEPLOY = ROOT / "deploy"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "monsterstack.json"


def kustomize(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not installed (it renders the kustomizations)", pytrace=False)
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _with_monitoring(tmp: Path, kit_monitor: bool = True) -> list[dict[str, Any]]:
    def rel(path: Path) -> str:
        return os.path.relpath(path, tmp)

    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "namespace: monsterstack",
        f"resources: [{rel(DEPLOY / 'base')}]",
        "components:",
    ]
    if kit_monitor:
        lines.append(f"  - {rel(DEPLOY / 'components' / 'monitoring')}")
    lines.append(f"  - {rel(MONITORING)}")
    lines.append("images:")
    for service in ("frontend", "imagebackend"):
        lines.append(f"  - {{name: monsterstack-{service}, newTag: 0.0.0-test}}")
    (tmp / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return kustomize(tmp)


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def test_the_component_completes_the_kits_service_monitor(tmp_path: Path) -> None:
    docs = _with_monitoring(tmp_path)
    monitor = _one(docs, "ServiceMonitor")
    assert monitor["spec"]["podTargetLabels"] == ["app"]
    assert monitor["spec"]["jobLabel"] == "partie"
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["honorLabels"] is True and endpoint["interval"] == "15s"
    assert endpoint["relabelings"] == [{"action": "labeldrop", "regex": "service"}]
    # every Service it selects has the `partie` label that becomes the job
    for svc in (d for d in docs if d["kind"] == "Service"):
        if svc["metadata"]["labels"].get("app") == "monsterstack":
            assert svc["metadata"]["labels"]["partie"] in ("frontend", "imagebackend", "redis")
    schema_file = next((DEPLOY / "schemas").glob("servicemonitor-*.json"))
    jsonschema.Draft202012Validator(json.loads(schema_file.read_text())).validate(monitor)
    # the pods whose label becomes `app` really carry app=monsterstack
    for deploy in (d for d in docs if d["kind"] == "Deployment"):
        assert deploy["spec"]["template"]["metadata"]["labels"]["app"] == "monsterstack"


def test_the_rendering_keeps_the_kits_contract(tmp_path: Path) -> None:
    from tests.kit import contract

    docs = _with_monitoring(tmp_path)
    assert contract.problems(docs) == []
    # the component relabels nothing of the base's
    components = {
        d["metadata"]["labels"].get("app.kubernetes.io/component")
        for d in docs
        if d["kind"] == "Deployment"
    }
    assert "monitoring" not in components


def test_without_the_kits_service_monitor_the_patch_does_nothing(tmp_path: Path) -> None:
    docs = _with_monitoring(tmp_path, kit_monitor=False)
    assert not [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert _one(docs, "PrometheusRule")["metadata"]["labels"]["release"]


def test_the_rules_and_dashboard_ship_for_kube_prometheus_stack(tmp_path: Path) -> None:
    docs = _with_monitoring(tmp_path)
    rule = _one(docs, "PrometheusRule")
    assert rule["metadata"]["namespace"] == "monsterstack"
    assert rule["spec"] == yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())["spec"]
    dashboards = [
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"].get("labels", {}).get("grafana_dashboard")
    ]
    assert len(dashboards) == 1
    cm = dashboards[0]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["monsterstack.json"]) == json.loads(DASHBOARD.read_text())


def test_the_dashboard_has_the_panels_the_issue_asks_for() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    titles = [p["title"].lower() for p in dashboard["panels"]]
    for wanted in (
        "requests/s by version",
        "error ratio",
        "p50 / p95 / p99",
        "cache hit ratio",
        "render time by format",
        "pods by version",
    ):
        assert any(wanted in t for t in titles), wanted
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            assert 'app="monsterstack"' in target["expr"], panel["title"]
    first = dashboard["panels"][0]["targets"][0]
    assert first["legendFormat"] == "{{version}}"  # the course's legend


def test_grafana_provisioning_files_point_at_the_dashboard_and_prometheus() -> None:
    base = MONITORING / "grafana" / "provisioning"
    sources = yaml.safe_load((base / "datasources" / "prometheus.yaml").read_text())
    [source] = sources["datasources"]
    assert sources["apiVersion"] == 1 and source["type"] == "prometheus"
    assert source["url"] == "http://127.0.0.1:9090"  # monsterstack up --monitoring's default
    providers = yaml.safe_load((base / "dashboards" / "monsterstack.yaml").read_text())
    [provider] = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].endswith("/monsterstack")
