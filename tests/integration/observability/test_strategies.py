"""deploy/strategies: every step renders with `kubectl kustomize`, validates against the
Kubernetes schemas (the Gateway API's for the `*-gateway` steps), keeps the kit's contract with
the code, never renders the Namespace, and does what its README says, through the Ingress
(ingress-nginx annotations) and through the Gateway API (HTTPRoute fields)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.kit import contract
from tests.kit.kube import selects
from tests.kit.test_manifests import schema_errors

from .prom import ROOT
from .test_monitoring_manifests import kustomize

STRATEGIES = ROOT / "deploy" / "strategies"
STEPS = sorted(
    str(p.parent.relative_to(STRATEGIES))
    for p in STRATEGIES.glob("*/*/kustomization.yaml")
    if p.parts[-3] not in ("parts",) and p.parent.name.startswith("v")
)
GATEWAY_STEPS = [s for s in STEPS if s.endswith("-gateway")]
# the Ingress step each Gateway step is, with the route instead of the Ingress
GATEWAY_SOURCE = {
    s: {"blue-green/v2-gateway": "blue-green/v2-standby"}.get(s, s.removesuffix("-gateway"))
    for s in GATEWAY_STEPS
}
Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def rendered() -> dict[str, Docs]:
    with ThreadPoolExecutor(4) as pool:
        docs = pool.map(lambda step: kustomize(STRATEGIES / step), STEPS)
        return dict(zip(STEPS, docs, strict=True))


def _get(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def _frontends(docs: Docs) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("frontend")
    }


def _env(deploy: dict[str, Any]) -> dict[str, str]:
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", [])}


def _version_of_pods_behind(docs: Docs, service: str) -> set[str]:
    selector = _get(docs, "Service", service)["spec"]["selector"]
    return {
        d["spec"]["template"]["metadata"]["labels"]["version"]
        for d in _frontends(docs).values()
        if selects(selector, d["spec"]["template"]["metadata"]["labels"])
    }


def test_every_strategy_has_v1_v2_and_a_readme() -> None:
    names = {"recreate", "rolling", "blue-green", "canary", "canary-weight", "ab-testing", "shadow"}
    for name in names:
        steps = {f"{name}/v1", f"{name}/v2", f"{name}/v1-gateway", f"{name}/v2-gateway"}
        assert steps <= set(STEPS), name
        readme = (STRATEGIES / name / "README.md").read_text()
        for step in ("v1", "v2-gateway"):
            assert f"kubectl apply -k deploy/strategies/{name}/{step}" in readme, (name, step)
        assert "**Grafana**" in readme and "**The watch chart" in readme, name
        assert "ollback" in readme, name
    index = (STRATEGIES / "README.md").read_text()
    assert all(f"({name}/README.md)" in index for name in names)


@pytest.mark.parametrize("step", STEPS)
def test_the_step_keeps_the_kits_contract_and_schemas(rendered: dict[str, Docs], step: str) -> None:
    docs = rendered[step]
    assert contract.problems(docs, release="strategy", owns_namespace=False) == []
    errors = [e for d in docs for e in schema_errors(d)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("step", STEPS)
def test_pods_say_the_version_the_app_reports(rendered: dict[str, Docs], step: str) -> None:
    """The pod label and VERSION_LABEL agree, so every scrape gives the same `version`."""
    for name, deploy in _frontends(rendered[step]).items():
        labels = deploy["spec"]["template"]["metadata"]["labels"]
        env = _env(deploy)
        assert labels["version"] == env["VERSION_LABEL"] == labels["app.kubernetes.io/version"]
        assert env["THEME"] == {"1.0.0": "classic", "2.0.0": "cool"}[env["VERSION_LABEL"]], name
    # two Deployments never select each other's pods
    deploys = list(_frontends(rendered[step]).values())
    for a in deploys:
        for b in deploys:
            if a is not b:
                theirs = b["spec"]["template"]["metadata"]["labels"]
                assert not selects(a["spec"]["selector"], theirs)


def test_recreate_stops_v1_before_starting_v2(rendered: dict[str, Docs]) -> None:
    for v, version in (("v1", "1.0.0"), ("v2", "2.0.0")):
        [deploy] = _frontends(rendered[f"recreate/{v}"]).values()
        assert deploy["spec"]["strategy"] == {"type": "Recreate"}
        assert _env(deploy)["VERSION_LABEL"] == version


def test_rolling_surges_one_pod_and_never_drops_capacity(rendered: dict[str, Docs]) -> None:
    for v in ("v1", "v2"):
        [deploy] = _frontends(rendered[f"rolling/{v}"]).values()
        assert deploy["spec"]["replicas"] == 4 and deploy["spec"]["minReadySeconds"] == 10
        assert deploy["spec"]["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
        }
    # v1 -> v2 changes the pod template only: the same Deployment, the same selector
    old, new = (_frontends(rendered[f"rolling/{v}"])["frontend"] for v in ("v1", "v2"))
    assert old["spec"]["selector"] == new["spec"]["selector"]


def test_blue_green_switches_the_service_selector(rendered: dict[str, Docs]) -> None:
    steps = {"blue-green/v1": {"1.0.0"}, "blue-green/v2-standby": {"1.0.0"}}
    steps["blue-green/v2"] = {"2.0.0"}
    for step, versions in steps.items():
        assert _version_of_pods_behind(rendered[step], "frontend") == versions, step
    assert set(_frontends(rendered["blue-green/v2-standby"])) == {"frontend", "frontend-v2"}
    assert _version_of_pods_behind(rendered["blue-green/v2-standby"], "frontend-v2") == {"2.0.0"}
    ingress = _get(rendered["blue-green/v2"], "Ingress", "monsterstack")
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == (
        "frontend"
    )


def test_canary_by_replicas_is_one_pod_in_four(rendered: dict[str, Docs]) -> None:
    docs = rendered["canary/v2"]
    assert _version_of_pods_behind(docs, "frontend") == {"1.0.0", "2.0.0"}
    replicas = {n: d["spec"]["replicas"] for n, d in _frontends(docs).items()}
    assert replicas == {"frontend": 3, "frontend-v2": 1}


def _canary_ingress(docs: Docs) -> dict[str, Any]:
    ingress = _get(docs, "Ingress", "monsterstack-canary")
    main = _get(docs, "Ingress", "monsterstack")
    assert ingress["spec"]["rules"][0]["host"] == main["spec"]["rules"][0]["host"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "frontend-v2", "port": {"name": "http"}}
    assert _version_of_pods_behind(docs, "frontend") == {"1.0.0"}
    assert _version_of_pods_behind(docs, "frontend-v2") == {"2.0.0"}
    annotations: dict[str, Any] = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/canary"] == "true"
    return annotations


def test_canary_by_weight_sends_ten_percent(rendered: dict[str, Docs]) -> None:
    annotations = _canary_ingress(rendered["canary-weight/v2"])
    assert annotations["nginx.ingress.kubernetes.io/canary-weight"] == "10"
    assert not [d for d in rendered["canary-weight/v1"] if d["kind"] == "Ingress"][1:]


def test_ab_testing_routes_by_header_and_cookie(rendered: dict[str, Docs]) -> None:
    annotations = _canary_ingress(rendered["ab-testing/v2"])
    assert annotations["nginx.ingress.kubernetes.io/canary-by-header"] == "X-Canary"
    assert annotations["nginx.ingress.kubernetes.io/canary-by-cookie"] == "monsterstack_canary"
    assert "nginx.ingress.kubernetes.io/canary-weight" not in annotations


def test_shadow_mirrors_to_v2_and_serves_v1(rendered: dict[str, Docs]) -> None:
    docs = rendered["shadow/v2"]
    main = _get(docs, "Ingress", "monsterstack")
    target = main["metadata"]["annotations"]["nginx.ingress.kubernetes.io/mirror-target"]
    service = _get(docs, "Service", "frontend-v2")
    port = service["spec"]["ports"][0]["port"]
    assert target == f"http://frontend-v2.monsterstack.svc.cluster.local:{port}$request_uri"
    assert _version_of_pods_behind(docs, "frontend") == {"1.0.0"}
    assert _version_of_pods_behind(docs, "frontend-v2") == {"2.0.0"}
    assert "annotations" not in _get(rendered["shadow/v1"], "Ingress", "monsterstack")["metadata"]


# ---- the same strategies through the Gateway API ----


def _route(docs: Docs) -> dict[str, Any]:
    return _get(docs, "HTTPRoute", "monsterstack")


def _weights(docs: Docs, headers: dict[str, str] | None = None) -> dict[str, int]:
    """Service -> weight of the backends a GET / (with these headers) goes to."""
    rule = contract.route_rule_for(_route(docs), "/", headers)
    assert rule is not None
    return {r["name"]: r.get("weight", 1) for r in rule["backendRefs"]}


def test_a_gateway_step_is_its_ingress_step_with_the_route_instead(
    rendered: dict[str, Docs],
) -> None:
    assert len(GATEWAY_STEPS) == 15
    for step, source in GATEWAY_SOURCE.items():
        docs = rendered[step]
        assert not [d for d in docs if d["kind"] == "Ingress"], step
        assert _get(docs, "Gateway", "monsterstack")["spec"]["gatewayClassName"]
        assert _route(docs)["spec"]["hostnames"] == ["monsterstack.local"]

        def rest(ds: Docs) -> list[str]:
            kinds = ("Ingress", "Gateway", "HTTPRoute")
            return sorted(json.dumps(d, sort_keys=True) for d in ds if d["kind"] not in kinds)

        assert rest(docs) == rest(rendered[source]), f"{step} differs from {source}"
        if step.endswith("/v1-gateway") or step in ("recreate/v2-gateway", "rolling/v2-gateway"):
            assert _weights(docs) == {"frontend": 1}, step


def test_gateway_canary_by_weight_sends_ten_percent(rendered: dict[str, Docs]) -> None:
    docs = rendered["canary-weight/v2-gateway"]
    assert _weights(docs) == {"frontend": 90, "frontend-v2": 10}
    assert _version_of_pods_behind(docs, "frontend") == {"1.0.0"}
    assert _version_of_pods_behind(docs, "frontend-v2") == {"2.0.0"}


def test_gateway_ab_testing_routes_by_header_and_cookie(rendered: dict[str, Docs]) -> None:
    docs = rendered["ab-testing/v2-gateway"]
    assert _weights(docs) == {"frontend": 1}
    assert _weights(docs, {"X-Canary": "always"}) == {"frontend-v2": 1}
    assert _weights(docs, {"x-canary": "never"}) == {"frontend": 1}
    assert _weights(docs, {"Cookie": "theme=cool; monsterstack_canary=always"}) == {
        "frontend-v2": 1
    }
    assert _weights(docs, {"Cookie": "monsterstack_canary=always-not"}) == {"frontend": 1}
    # and /monster/... follows the same choice, so group B's pictures are v2's
    rule = contract.route_rule_for(_route(docs), "/monster/x", {"X-Canary": "always"})
    assert rule and [r["name"] for r in rule["backendRefs"]] == ["frontend-v2"]
    assert _version_of_pods_behind(docs, "frontend-v2") == {"2.0.0"}


def test_gateway_shadow_mirrors_to_v2_and_serves_v1(rendered: dict[str, Docs]) -> None:
    docs = rendered["shadow/v2-gateway"]
    rule = contract.route_rule_for(_route(docs), "/")
    assert rule and [r["name"] for r in rule["backendRefs"]] == ["frontend"]
    [mirror] = [f["requestMirror"]["backendRef"] for f in rule["filters"]]
    port = _get(docs, "Service", "frontend-v2")["spec"]["ports"][0]["port"]
    assert mirror == {"name": "frontend-v2", "port": port}
    assert _version_of_pods_behind(docs, "frontend") == {"1.0.0"}
    assert _version_of_pods_behind(docs, "frontend-v2") == {"2.0.0"}
    assert "filters" not in _route(rendered["shadow/v1-gateway"])["spec"]["rules"][0]


def test_gateway_blue_green_switches_the_backend_ref(rendered: dict[str, Docs]) -> None:
    behind = {"v1-gateway": "1.0.0", "v2-standby-gateway": "1.0.0", "v2-gateway": "2.0.0"}
    for step, version in behind.items():
        docs = rendered[f"blue-green/{step}"]
        [backend] = _weights(docs)
        assert _version_of_pods_behind(docs, backend) == {version}, step
    # the switch is the route alone: the Services are the standby's, unchanged
    services = [
        [d for d in rendered[f"blue-green/{step}"] if d["kind"] == "Service"]
        for step in ("v2-standby-gateway", "v2-gateway")
    ]
    assert services[0] == services[1]


def test_the_strategies_monitoring_kustomization_renders(tmp_path: Path) -> None:
    docs = kustomize(STRATEGIES / "monitoring")
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["ConfigMap", "PrometheusRule", "ServiceMonitor"]
    assert all(d["metadata"]["namespace"] == "monsterstack" for d in docs)
    assert not [e for d in docs for e in schema_errors(d) if d["kind"] != "PrometheusRule"]


def test_every_step_passes_the_kits_policy_checks(
    rendered: dict[str, Docs], tmp_path: Path
) -> None:
    """checkov with the kit's settings (tests/kit/test_policy.py), as the overlays pass it."""
    import yaml

    from tests.kit.test_policy import _checkov

    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for step, docs in rendered.items():
        (manifests / f"{step.replace('/', '-')}.yaml").write_text(yaml.safe_dump_all(docs))
    assert _checkov(["-d", str(manifests)], "kubernetes", tmp_path / "out")["passed"]


def test_the_yaml_of_monitoring_and_strategies_passes_the_kits_yamllint() -> None:
    import json
    import subprocess
    import sys

    from tests.kit.test_policy import YAMLLINT_CONFIG

    files = sorted(
        str(f) for d in (STRATEGIES, ROOT / "deploy" / "monitoring") for f in d.rglob("*.yaml")
    )
    assert len(files) > 30
    yamllint = Path(sys.executable).parent / "yamllint"
    done = subprocess.run(
        [str(yamllint), "--strict", "-f", "parsable", "-d", json.dumps(YAMLLINT_CONFIG), *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
