"""The Helm chart is a second door to the kit's objects, not a second source of truth.

deploy/helm/monsterstack is rendered offline by Helm's own library (tests/kit/helm.py) and
compared, object by object and field by field, with the kustomize rendering it stands for:
the defaults with the prod overlay, values-dev.yaml with the dev overlay,
monitoring.enabled with the prod-monitoring overlay, and each chart switch with prod plus
(or minus) the kit component it renders. The only differences allowed are listed below with
their reason. The chart's renderings then pass what the overlays pass: the kit's contract
with the code (contract.py), the Kubernetes and custom-resource schemas (test_manifests.py),
checkov (test_policy.py); and `helm lint --strict`.
"""

from __future__ import annotations

import base64
import copy
import difflib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from . import contract, helm, kube
from .test_manifests import schema_errors, unique
from .test_policy import YAMLLINT_CONFIG, _checkov

# ---- what may differ, and why ----

# Labels only one side has, dropped from every object's and pod template's labels before
# comparing.
BOOKKEEPING_LABELS = {
    # `Helm` on every chart object; `kustomize` on the kit's base objects only (a component's
    # objects are outside the base's `labels:` transformer)
    "app.kubernetes.io/managed-by": "names the tool",
    "helm.sh/chart": "the chart and its version",
}
# Labels both sides carry on the same objects, with values that differ by nature: compared
# for presence only.
NAMED_LABELS = {
    "app.kubernetes.io/instance": (
        "Helm's release name (`helm install NAME`); the kit's overlay (monsterstack-prod/-dev)"
    ),
}
# `helm install` keeps its release in the namespace, so the namespace exists before the chart
# (deploy/README.md: create and label it); the chart renders the Namespace only with
# namespace.create=true (Argo CD, `helm template | kubectl apply`). Every comparison below
# renders it, and test_the_namespace_is_the_only_difference_of_namespace_create checks that
# it is the only difference.
WITH_NAMESPACE: helm.Values = {"namespace": {"create": True}}
# The kit's components the chart has no switch for, and why.
NOT_IN_CHART = {
    "components/registry": (
        "the course's in-cluster registry: deployed once per cluster (deploy/registry), not "
        "with each release"
    ),
    "components/monitoring": (
        "the bare ServiceMonitor: the chart's monitoring.enabled is this component completed "
        "by deploy/monitoring (the prod-monitoring overlay)"
    ),
}

# ---- the cases: chart values -> the kustomization they stand for ----

# Each kit component the chart renders -> (values that turn it on, values that turn it off).
SWITCHES: dict[str, tuple[helm.Values, helm.Values]] = {
    "components/autoscaling": (
        {"autoscaling": {"enabled": True}},
        {"autoscaling": {"enabled": False}},
    ),
    "components/disruption-budgets": (
        {"podDisruptionBudget": {"enabled": True}},
        {"podDisruptionBudget": {"enabled": False}},
    ),
    "components/network-policies": (
        {"networkPolicy": {"enabled": True}},
        {"networkPolicy": {"enabled": False}},
    ),
    "components/frontend-nodeport": (
        {"frontend": {"service": {"type": "NodePort"}}},
        {"frontend": {"service": {"type": "ClusterIP"}}},
    ),
    "components/frontend-loadbalancer": (
        {"frontend": {"service": {"type": "LoadBalancer"}}},
        {"frontend": {"service": {"type": "ClusterIP"}}},
    ),
    "components/redis-password": (
        {"redis": {"auth": {"enabled": True}}},
        {"redis": {"auth": {"enabled": False}}},
    ),
    "components/gateway-api": ({"gateway": {"enabled": True}}, {"gateway": {"enabled": False}}),
    "components/tls": (
        {"ingress": {"tls": {"enabled": True}}},
        {"ingress": {"tls": {"enabled": False}}},
    ),
}
MONITORING = ["components/monitoring", "monitoring"]  # what monitoring.enabled stands for


class Case:
    """Chart values, the release namespace, and how to render the kustomization they equal."""

    def __init__(
        self,
        values: helm.Values,
        namespace: str,
        kit: Callable[[Path], list[kube.Doc]],
        release: str,
    ) -> None:
        self.values, self.namespace, self.kit, self.release = values, namespace, kit, release

    def chart(self) -> list[kube.Doc]:
        return helm.render(helm.merged(WITH_NAMESPACE, self.values), namespace=self.namespace)


def _overlay(name: str) -> Callable[[Path], list[kube.Doc]]:
    return lambda _tmp: kube.kustomize(kube.DEPLOY / "overlays" / name)


def _prod_with(components: list[str]) -> Callable[[Path], list[kube.Doc]]:
    return lambda tmp: kube.kustomize(helm.write_prod_variant(tmp, components))


def _flip(component: str) -> tuple[str, Case]:
    on, off = SWITCHES[component]
    prod = helm.prod_components()
    if component in prod:
        rest = [c for c in prod if c != component]
        return f"prod without {component}", Case(off, "monsterstack", _prod_with(rest), "")
    return f"prod with {component}", Case(on, "monsterstack", _prod_with([*prod, component]), "")


CASES: dict[str, Case] = {
    "defaults = overlays/prod": Case({}, "monsterstack", _overlay("prod"), "prod"),
    "values-dev.yaml = overlays/dev": Case(
        helm.values_file("values-dev.yaml"), "monsterstack-dev", _overlay("dev"), "dev"
    ),
    "monitoring.enabled = overlays/prod-monitoring": Case(
        {"monitoring": {"enabled": True}}, "monsterstack", _overlay("prod-monitoring"), "prod"
    ),
    "everything on = prod + monitoring, tls, redis-password, frontend-nodeport": Case(
        helm.merged(
            {"monitoring": {"enabled": True}},
            *(SWITCHES[c][0] for c in ("components/tls", "components/redis-password")),
            SWITCHES["components/frontend-nodeport"][0],
        ),
        "monsterstack",
        _prod_with(
            [
                *helm.prod_components(),
                *MONITORING,
                "components/tls",
                "components/redis-password",
                "components/frontend-nodeport",
            ]
        ),
        "prod",
    ),
    **dict(_flip(c) for c in SWITCHES),
}


def normalized(docs: list[kube.Doc]) -> dict[tuple[str, str, str], kube.Doc]:
    """Objects by (kind, namespace, name), without the bookkeeping labels."""
    out = {}
    for doc in copy.deepcopy(docs):
        metas = [doc["metadata"]]
        if kube.pod_spec(doc) is not None and doc["kind"] != "Pod":
            metas.append(doc["spec"]["template"]["metadata"])
        for meta in metas:
            labels = meta.get("labels", {})
            for label in BOOKKEEPING_LABELS:
                labels.pop(label, None)
            for label in NAMED_LABELS:
                if label in labels:
                    labels[label] = "<named>"
        out[kube.key(doc)] = doc
    return out


def differences(chart: list[kube.Doc], kit: list[kube.Doc]) -> list[str]:
    ours, theirs = normalized(chart), normalized(kit)
    out = [f"only the chart renders {k}" for k in sorted(set(ours) - set(theirs))]
    out += [f"only kustomize renders {k}" for k in sorted(set(theirs) - set(ours))]
    for key in sorted(set(ours) & set(theirs)):
        if ours[key] != theirs[key]:
            diff = difflib.unified_diff(
                yaml.safe_dump(theirs[key]).splitlines(),
                yaml.safe_dump(ours[key]).splitlines(),
                "kustomize",
                "helm",
                lineterm="",
            )
            out.append(f"{key} differs:\n" + "\n".join(diff))
    return out


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list, list]]:
    """case -> (the chart's objects, the kit's objects)."""
    tmp = tmp_path_factory.mktemp("helm-cases")
    return {name: (case.chart(), case.kit(tmp)) for name, case in CASES.items()}


# ---- the chart equals the kit ----


@pytest.mark.parametrize("case", list(CASES))
def test_the_chart_renders_the_kits_objects(
    renders: dict[str, tuple[list, list]], case: str
) -> None:
    chart, kit = renders[case]
    problems = differences(chart, kit)
    assert not problems, f"{case}:\n" + "\n".join(problems)
    assert len(chart) == len(kit)  # nothing rendered twice on one side


def test_every_component_has_a_chart_switch_or_a_reason() -> None:
    kit = {f"components/{c}" for c in kube.COMPONENTS}
    assert set(SWITCHES) | set(NOT_IN_CHART) == kit
    assert not set(SWITCHES) & set(NOT_IN_CHART)
    # every overlay has its case
    covered = {n.split(" = overlays/")[1] for n in CASES if " = overlays/" in n}
    assert covered == set(kube.OVERLAYS)


def test_the_namespace_is_the_only_difference_of_namespace_create() -> None:
    with_ns = helm.render(WITH_NAMESPACE)
    without = helm.render()
    assert [d for d in with_ns if d["kind"] != "Namespace"] == without
    [ns] = kube.of_kind(with_ns, "Namespace")
    assert ns["metadata"]["name"] == "monsterstack"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_comparison_sees_a_changed_field(renders: dict[str, tuple[list, list]]) -> None:
    """A chart that drifts one field from the kit fails (the check is not vacuous)."""
    chart, kit = copy.deepcopy(renders["defaults = overlays/prod"])
    [deploy] = [d for d in chart if d["kind"] == "Deployment" and d["metadata"]["name"] == "redis"]
    deploy["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSeconds"] = 6
    assert any("Deployment" in p and "periodSeconds" in p for p in differences(chart, kit))
    chart.pop()
    assert any(p.startswith("only kustomize renders") for p in differences(chart, kit))


def test_the_configmap_names_are_kustomizes_hashes(renders: dict[str, tuple[list, list]]) -> None:
    """The chart names its ConfigMaps as kustomize's generator does: a changed value gives a
    new name in both, so the pods roll in both."""
    chart, kit = renders["defaults = overlays/prod"]
    names = sorted(d["metadata"]["name"] for d in kube.of_kind(chart, "ConfigMap"))
    assert names == sorted(d["metadata"]["name"] for d in kube.of_kind(kit, "ConfigMap"))
    changed = helm.render({"config": {"frontend": {"APP_TITLE": "My monsters"}}})
    new = sorted(d["metadata"]["name"] for d in kube.of_kind(changed, "ConfigMap"))
    assert len(set(new) - set(names)) == 1
    [renamed] = set(new) - set(names)
    assert renamed.startswith("frontend-config-")
    [frontend] = [
        d for d in changed if d["kind"] == "Deployment" and d["metadata"]["name"] == "frontend"
    ]
    refs = frontend["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"configMapRef": {"name": renamed}} in refs


def test_the_chart_reads_the_kits_files_through_links() -> None:
    """Helm reads only files inside a chart: files/ holds links to the kit's own files
    (`helm package` and Argo CD follow them), never copies that could drift."""
    links = {
        "files/redis.conf": kube.BASE / "redis" / "redis.conf",
        "files/prometheusrule.yaml": kube.DEPLOY / "monitoring" / "prometheusrule.yaml",
        "files/monsterstack.json": kube.DEPLOY / "monitoring/grafana/dashboards/monsterstack.json",
    }
    assert {p.name for p in (helm.CHART / "files").iterdir()} == {Path(p).name for p in links}
    for link, source in links.items():
        path = helm.CHART / link
        assert path.is_symlink(), f"{link} is a copy: ln -sf {source} {path}"
        assert not Path(path.readlink()).is_absolute(), f"{link}: a relative link, in the repo"
        assert path.resolve() == source.resolve()


def test_prod_monitoring_is_prod_plus_monitoring(overlays: dict[str, list[kube.Doc]]) -> None:
    """The monitoring overlay changes nothing of prod's, and carries prod's version."""
    prod, monitored = normalized(overlays["prod"]), normalized(overlays["prod-monitoring"])
    assert {k: monitored[k] for k in prod} == prod
    added = sorted((k[0], k[2].rsplit("-", 1)[0]) for k in set(monitored) - set(prod))
    assert added == [
        ("ConfigMap", "grafana-dashboard-monsterstack"),
        ("PrometheusRule", "monsterstack"),
        ("ServiceMonitor", "monsterstack"),
    ]
    labels = [d["metadata"]["labels"] for d in overlays["prod-monitoring"]]
    version = overlays["prod"][0]["metadata"]["labels"]["version"]
    assert {ls["version"] for ls in labels} == {version}
    # an instance of its own: prod's prune never deletes its monitoring, nor the reverse
    assert {ls["app.kubernetes.io/instance"] for ls in labels} == {"monsterstack-prod-monitoring"}


# ---- the chart's renderings pass what the overlays pass ----


@pytest.mark.parametrize("case", list(CASES))
def test_the_chart_keeps_the_contract_and_schemas(
    renders: dict[str, tuple[list, list]], case: str
) -> None:
    chart, _ = renders[case]
    problems = contract.problems(chart, release=CASES[case].release or None)
    assert not problems, f"{case}:\n" + "\n".join(problems)
    errors = [e for d in unique(chart).values() for e in schema_errors(d)]
    assert not errors, "\n".join(errors)


def test_the_chart_passes_checkov(renders: dict[str, tuple[list, list]], tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for number, (chart, _) in enumerate(renders.values()):
        (manifests / f"chart-{number}.yaml").write_text(yaml.safe_dump_all(chart))
    assert _checkov(["-d", str(manifests)], "kubernetes", tmp_path / "out")["passed"]


# The one message `helm lint --strict` may print, and why it is left.
LINT_ACCEPTED = {
    "icon is recommended": "an INFO: the chart is installed from this repository, "
    "not listed in a chart catalogue that shows icons"
}


@pytest.mark.parametrize("values", ["values.yaml", "values-dev.yaml"])
def test_helm_lint_is_clean(values: str) -> None:
    report = helm.lint(helm.values_file(values))
    assert report["total_charts_linted"] == 1
    assert not report["errors"], report
    left = [m for m in report["messages"] if m["error"] not in LINT_ACCEPTED]
    assert not left, left
    assert all(m["severity"] < 2 for m in report["messages"]), report  # no warning


def test_the_chart_yaml_passes_the_kits_yamllint() -> None:
    files = [helm.CHART / "Chart.yaml", *sorted(helm.CHART.glob("values*.yaml"))]
    done = kube.run(
        [kube.tool("yamllint"), "--strict", "-f", "parsable", "-d", json.dumps(YAMLLINT_CONFIG)]
        + [str(f) for f in files]
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- what the chart refuses ----

REFUSED: dict[str, tuple[helm.Values, str]] = {
    "image.tag=latest": ({"image": {"tag": "latest"}}, "image.tag=latest is refused"),
    "redis.image.tag=latest": ({"redis": {"image": {"tag": "latest"}}}, "redis.image.tag=latest"),
    "a tag that is no tag": ({"image": {"tag": "v1 beta"}}, "/image/tag"),
    "a number in the ConfigMap": ({"config": {"frontend": {"RATE_LIMIT": 5}}}, "want string"),
    "a misspelt value": ({"ingress": {"hots": "monsters.example"}}, "'hots' not allowed"),
    "a Service type": (
        {"frontend": {"service": {"type": "ExternalName"}}},
        "/frontend/service/type",
    ),
    "a self-signed CA for a ClusterIssuer": (
        {"ingress": {"tls": {"enabled": True, "certManager": {"issuerKind": "ClusterIssuer"}}}},
        "selfSignedCA renders a namespaced Issuer",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_chart_refuses(case: str) -> None:
    values, expected = REFUSED[case]
    with pytest.raises(helm.helm_error()) as refused:
        helm.render(values)
    assert expected in str(refused.value), refused.value


# ---- the switches do what their values say ----


def _one(docs: list[kube.Doc], kind: str, name: str) -> kube.Doc:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def test_registry_and_tag_name_every_image() -> None:
    docs = helm.render({"image": {"registry": "registry.example:5000/team/", "tag": "1.2.3"}})
    images = {c["image"] for spec in contract.pod_specs(docs) for c in spec["containers"]}
    assert images == {
        "registry.example:5000/team/monsterstack-frontend:1.2.3",
        "registry.example:5000/team/monsterstack-imagebackend:1.2.3",
        "redis:7.4-alpine",
    }
    # the pods' version label is the tag, as `monsterstack manifests --tag` sets it
    for deploy in kube.of_kind(docs, "Deployment"):
        assert deploy["spec"]["template"]["metadata"]["labels"]["version"] == "1.2.3"


def test_a_password_value_renders_the_secret_the_pods_read() -> None:
    auth = {"redis": {"auth": {"enabled": True, "password": "s3cret"}}}
    docs = helm.render(auth)
    secret = _one(docs, "Secret", "redis-auth")
    assert base64.b64decode(secret["data"]["password"]) == b"s3cret"
    with_ns = helm.render(helm.merged(WITH_NAMESPACE, auth))
    assert not contract.problems(with_ns, release="prod")
    # without a password, the Secret is yours to create (as with components/redis-password)
    assert not kube.of_kind(helm.render({"redis": {"auth": {"enabled": True}}}), "Secret")


def test_a_cluster_issuer_is_named_and_no_issuer_rendered() -> None:
    docs = helm.render(
        {
            "ingress": {
                "host": "monsters.example",
                "tls": {
                    "enabled": True,
                    "certManager": {
                        "issuerKind": "ClusterIssuer",
                        "issuerName": "letsencrypt",
                        "selfSignedCA": False,
                    },
                },
            }
        }
    )
    ingress = _one(docs, "Ingress", "monsterstack")
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert ingress["spec"]["tls"] == [
        {"hosts": ["monsters.example"], "secretName": "monsterstack-tls"}
    ]
    assert ingress["spec"]["rules"][0]["host"] == "monsters.example"
    assert not [d for d in docs if d["apiVersion"].startswith("cert-manager.io/")]


# ---- Argo CD: either door ----


def test_the_argocd_application_for_the_chart_deploys_what_the_kustomize_one_does() -> None:
    """deploy/argocd/application-helm.yaml validates, points at the chart, and its values
    render the objects the overlay Application deploys: the same images, the Namespace."""
    app = kube.load_yaml(kube.DEPLOY / "argocd" / "application-helm.yaml")
    kit_app = kube.load_yaml(kube.DEPLOY / "argocd" / "application.yaml")
    assert not schema_errors(app)
    source = app["spec"]["source"]
    assert (kube.ROOT / source["path"]).resolve() == helm.CHART.resolve()
    assert app["spec"]["destination"] == kit_app["spec"]["destination"]
    docs = helm.render(
        source["helm"]["valuesObject"], namespace=app["spec"]["destination"]["namespace"]
    )
    assert not contract.problems(docs, release="prod")
    images = {c["image"] for spec in contract.pod_specs(docs) for c in spec["containers"]}
    pinned = {i.partition("=")[2] for i in kit_app["spec"]["source"]["kustomize"]["images"]}
    assert pinned <= images, (pinned, images)
    # the rest of the Application is the same
    strip = {k: v for k, v in app["spec"].items() if k != "source"}
    assert strip == {k: v for k, v in kit_app["spec"].items() if k != "source"}


def test_the_packaged_chart_carries_the_kits_files(tmp_path: Path) -> None:
    """`helm package` follows files/' links: the archive renders what the folder renders."""
    helm_python = helm.library()
    archive = helm_python.package(helm.CHART, destination=tmp_path)
    values = {"monitoring": {"enabled": True}}
    with helm_python.Chart.load(archive) as chart:
        rendered = chart.render(values, name="monsterstack", namespace="monsterstack")
    docs = [
        d
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for d in yaml.safe_load_all(text)
        if d
    ]
    assert docs == helm.render(values)
    [rule] = kube.of_kind(docs, "PrometheusRule")
    assert rule["spec"]["groups"]
