"""deploy/ renders, validates against the Kubernetes schemas, and keeps its contract with the code.

No cluster here: kustomize renders every overlay and every combination of components, each
object is validated against the OpenAPI schemas of the oldest and newest Kubernetes versions
that kubernetes-validate ships (strict: unknown fields fail), custom resources against the
schemas vendored in deploy/schemas/, and tests/kit/contract.py checks the wiring against the
application's own code (SERVICES, settings, routes).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv
import pytest

from . import contract, kube

# Custom resources: kubernetes-validate has no schema for them, so the kit vendors them.
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): (
        "servicemonitor-monitoring.coreos.com-v1-prometheus-operator-0.80.1.json"
    ),
    ("argoproj.io/v1alpha1", "Application"): "application-argoproj.io-v1alpha1.subset.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): (
        "prometheusrule-monitoring.coreos.com-v1-prometheus-operator-0.80.1.json"
    ),
    (
        "cert-manager.io/v1",
        "Certificate",
    ): "certificate-cert-manager.io-v1-cert-manager-1.17.1.json",
    ("cert-manager.io/v1", "Issuer"): "issuer-cert-manager.io-v1-cert-manager-1.17.1.json",
    ("cert-manager.io/v1", "ClusterIssuer"): (
        "clusterissuer-cert-manager.io-v1-cert-manager-1.17.1.json"
    ),
    ("gateway.networking.k8s.io/v1", "Gateway"): (
        "gateway-gateway.networking.k8s.io-v1-gateway-api-v1.0.0.json"
    ),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): (
        "httproute-gateway.networking.k8s.io-v1-gateway-api-v1.0.0.json"
    ),
}
# The oldest and the newest Kubernetes versions the installed kubernetes-validate knows.
VERSIONS = sorted({kv.all_versions()[0], kv.latest_version()})


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    name = CRD_SCHEMAS.get((api_version, kind))
    if name is None:
        return None
    schema: dict[str, Any] = json.loads((kube.DEPLOY / "schemas" / name).read_text())
    return schema


def schema_errors(doc: kube.Doc) -> list[str]:
    """Every schema error of one object, for each Kubernetes version; unknown kinds fail."""
    where = f"{doc['kind']} {doc['metadata']['name']} ({doc['apiVersion']})"
    custom = crd_schema(doc["apiVersion"], doc["kind"])
    if custom is not None:
        validator = jsonschema.Draft202012Validator(custom)
        return [f"{where}: {e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    errors = []
    for version in VERSIONS:
        try:
            kv.validate(doc, version, strict=True)
        except kv.SchemaNotFoundError:
            # kubernetes-validate only warns here: a removed apiVersion (extensions/v1beta1
            # Ingress, the course's) must fail instead
            errors.append(f"{where}: no schema in Kubernetes {version} (removed or unknown API)")
        except kv.ValidationError as exc:
            errors.append(f"{where}: Kubernetes {version}: {exc.message}")
    return errors


def unique(docs: list[kube.Doc]) -> dict[str, kube.Doc]:
    return {json.dumps(d, sort_keys=True): d for d in docs}


# ---- every overlay ----


@pytest.mark.parametrize("overlay", kube.OVERLAYS)
def test_overlay_keeps_the_contract(overlays: dict[str, list[kube.Doc]], overlay: str) -> None:
    problems = contract.problems(overlays[overlay], release=overlay)
    assert not problems, f"overlay {overlay}:\n" + "\n".join(problems)


@pytest.mark.parametrize("overlay", kube.OVERLAYS)
def test_overlay_validates_against_kubernetes_schemas(
    overlays: dict[str, list[kube.Doc]], overlay: str
) -> None:
    errors = [e for d in unique(overlays[overlay]).values() for e in schema_errors(d)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", kube.OVERLAYS)
def test_gateway_api_exposure_keeps_the_contract_and_schemas(
    with_gateway: dict[str, list[kube.Doc]], overlay: str
) -> None:
    """Each overlay + components/gateway-api: the Gateway and HTTPRoute validate against the
    Gateway API's schemas and are bound to the app (backends, ports, the paths they serve)."""
    docs = with_gateway[overlay]
    problems = contract.problems(docs, release=overlay)
    assert not problems, f"overlay {overlay} + gateway-api:\n" + "\n".join(problems)
    errors = [e for d in unique(docs).values() for e in schema_errors(d)]
    assert not errors, "\n".join(errors)
    [route] = kube.of_kind(docs, "HTTPRoute")
    [gateway] = kube.of_kind(docs, "Gateway")
    assert route["spec"]["hostnames"] == ["monsterstack.local"]
    assert gateway["spec"]["listeners"][0]["hostname"] == "monsterstack.local"
    # beside the Ingress, not instead of it: the course's path stays
    assert kube.of_kind(docs, "Ingress")
    for path in contract.FRONT_DOOR_PATHS:
        rule = contract.route_rule_for(route, path)
        assert rule and [r["name"] for r in rule["backendRefs"]] == ["frontend"], path


def test_standalone_registry() -> None:
    """deploy/registry: the course's registry alone, before the app's images exist."""
    docs = kube.kustomize(kube.DEPLOY / "registry")
    assert not contract.problems(docs, app=False)
    assert not [e for d in unique(docs).values() for e in schema_errors(d)]
    svc = next(d for d in docs if d["kind"] == "Service")
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["nodePort"] == 30500
    image = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert kube.image_parts(image["containers"][0]["image"])[:2] == ("registry", "2.8.3")


def test_overlays_are_dev_and_prod() -> None:
    assert {"dev", "prod"} <= set(kube.OVERLAYS)


def test_argocd_application_validates_and_points_at_the_prod_overlay() -> None:
    app = kube.load_yaml(kube.DEPLOY / "argocd" / "application.yaml")
    assert not schema_errors(app)
    path = app["spec"]["source"]["path"]
    assert path == "deploy/overlays/prod" and (kube.ROOT / path / "kustomization.yaml").is_file()
    assert app["spec"]["destination"]["namespace"] == "monsterstack"
    # the images it pins are the overlay's images, renamed
    rendered = {
        kube.image_parts(c["image"])[0]
        for spec in contract.pod_specs(kube.kustomize(kube.ROOT / path))
        for c in spec["containers"]
    }
    for image in app["spec"]["source"]["kustomize"]["images"]:
        name, _, target = image.partition("=")
        assert name in rendered, f"{name} is no image of the prod overlay"
        assert kube.image_parts(target)[1] not in (None, "latest")


# ---- every combination of components ----


@pytest.mark.timeout(900)  # the first one renders every combination in its setup
@pytest.mark.slow
@pytest.mark.parametrize("combo", [kube.combo_id(c) for c in kube.combinations()])
def test_component_combination_keeps_the_contract(
    combinations: dict[str, list[kube.Doc]], combo: str
) -> None:
    problems = contract.problems(combinations[combo])
    assert not problems, f"base + {combo}:\n" + "\n".join(problems)


@pytest.mark.timeout(900)  # the first one renders every combination in its setup
@pytest.mark.slow
def test_component_combinations_validate_against_kubernetes_schemas(
    combinations: dict[str, list[kube.Doc]],
) -> None:
    docs = unique([d for docs in combinations.values() for d in docs])
    errors = sorted({e for d in docs.values() for e in schema_errors(d)})
    assert not errors, "\n".join(errors)


def test_every_component_is_used_and_documented() -> None:
    readme = (kube.DEPLOY / "README.md").read_text()
    for component in kube.COMPONENTS:
        assert f"components/{component}" in readme, f"deploy/README.md omits {component}"


# ---- the checks catch what they claim to catch ----


def _deployment(docs: list[kube.Doc], name: str) -> kube.Doc:
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def _container(docs: list[kube.Doc], name: str) -> kube.Doc:
    container: kube.Doc = _deployment(docs, name)["spec"]["template"]["spec"]["containers"][0]
    return container


def _set_probe_path(docs: list[kube.Doc]) -> None:
    _container(docs, "imagebackend")["readinessProbe"]["httpGet"]["path"] = "/ready"


def _unread_env(docs: list[kube.Doc]) -> None:
    _container(docs, "imagebackend").setdefault("env", []).append(
        {"name": "IMAGEBACKEND_THREADS", "value": "4"}
    )


def _bad_env_value(docs: list[kube.Doc]) -> None:
    cm = next(d for d in docs if d["metadata"]["name"].startswith("frontend-config"))
    cm["data"]["IMAGEBACKEND_DOMAIN"] = "http://imagebackend:8080/"


def _wrong_backend_host(docs: list[kube.Doc]) -> None:
    cm = next(d for d in docs if d["metadata"]["name"].startswith("frontend-config"))
    cm["data"]["IMAGEBACKEND_DOMAIN"] = "dnmonster:8080"


def _target_port(docs: list[kube.Doc]) -> None:
    svc = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "frontend")
    svc["spec"]["ports"][0]["targetPort"] = 8000


def _selector(docs: list[kube.Doc]) -> None:
    svc = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "redis")
    svc["spec"]["selector"]["partie"] = "cache"


def _latest(docs: list[kube.Doc]) -> None:
    _container(docs, "redis")["image"] = "redis:latest"


def _untagged(docs: list[kube.Doc]) -> None:
    _container(docs, "frontend")["image"] = "127.0.0.1:30500/monsterstack-frontend"


def _no_limits(docs: list[kube.Doc]) -> None:
    del _container(docs, "frontend")["resources"]["limits"]


def _root(docs: list[kube.Doc]) -> None:
    ctx = _container(docs, "redis")["securityContext"]
    ctx["allowPrivilegeEscalation"] = True
    del ctx["capabilities"]


def _rewrite(docs: list[kube.Doc]) -> None:
    ing = next(d for d in docs if d["kind"] == "Ingress")
    ing["metadata"]["annotations"] = {"nginx.ingress.kubernetes.io/rewrite-target": "/"}


def _ingress_backend(docs: list[kube.Doc]) -> None:
    ing = next(d for d in docs if d["kind"] == "Ingress")
    ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {"number": 80}


def _unknown_service(docs: list[kube.Doc]) -> None:
    _container(docs, "imagebackend")["image"] = "monsterstack-thumbnailer:0.1.0"


def _course_readiness(docs: list[kube.Doc]) -> None:
    del _container(docs, "frontend")["readinessProbe"]["httpGet"]["httpHeaders"]


def _writable_root(docs: list[kube.Doc]) -> None:
    _container(docs, "imagebackend")["securityContext"]["readOnlyRootFilesystem"] = False


def _grace(docs: list[kube.Doc]) -> None:
    _deployment(docs, "frontend")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 30


MUTATIONS: dict[str, tuple[Callable[[list[kube.Doc]], None], str]] = {
    "probe path the app does not serve": (_set_probe_path, "which imagebackend does not serve"),
    "env var the app does not read": (_unread_env, "IMAGEBACKEND_THREADS, which imagebackend"),
    "env value the app refuses": (_bad_env_value, "frontend would not start"),
    "dependency that is no Service": (_wrong_backend_host, "no Service 'dnmonster'"),
    "targetPort no container exposes": (_target_port, "targetPort 8000"),
    "selector that matches no pod": (_selector, "matches no pod template"),
    "image tagged latest": (_latest, "tagged latest"),
    "image without a tag": (_untagged, "has no tag"),
    "container without limits": (_no_limits, "no limits.cpu"),
    "container not restricted": (_root, "do not drop ALL"),
    "Ingress rewrite": (_rewrite, "rewrite-target"),
    "Ingress backend port": (_ingress_backend, "has no port"),
    "service SERVICES does not register": (_unknown_service, "does not register"),
    "readiness probe not the course's": (_course_readiness, "course's readiness probe"),
    "grace period shorter than the drain": (_grace, "terminationGracePeriodSeconds 30"),
    # no Pod Security level checks it (deploy/README.md): this check is the only one
    "writable root filesystem": (_writable_root, "readOnlyRootFilesystem is not true"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_contract_catches(overlays: dict[str, list[kube.Doc]], mutation: str) -> None:
    mutate, expected = MUTATIONS[mutation]
    docs = copy.deepcopy(overlays["prod"])
    mutate(docs)
    problems = contract.problems(docs, release="prod")
    assert any(expected in p for p in problems), problems


def _route(docs: list[kube.Doc]) -> kube.Doc:
    return next(d for d in docs if d["kind"] == "HTTPRoute")


def _route_backend_port(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080


def _route_backend_service(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["rules"][0]["backendRefs"][0]["name"] = "frontend-v3"


def _route_to_redis(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["rules"][0]["backendRefs"][0].update(name="redis", port=6379)


def _route_page_only(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Exact"


def _route_rewrite(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["rules"][0]["filters"] = [
        {
            "type": "URLRewrite",
            "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
        }
    ]


def _route_parent(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["parentRefs"][0]["name"] = "public"


def _route_section(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["parentRefs"][0]["sectionName"] = "https"


def _route_host(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["hostnames"] = ["monsters.example"]


def _route_zero_weight(docs: list[kube.Doc]) -> None:
    _route(docs)["spec"]["rules"][0]["backendRefs"][0]["weight"] = 0


def _route_gone(docs: list[kube.Doc]) -> None:
    docs.remove(_route(docs))


GATEWAY_MUTATIONS: dict[str, tuple[Callable[[list[kube.Doc]], None], str]] = {
    "HTTPRoute backend port": (_route_backend_port, "Service frontend has no port 8080"),
    "HTTPRoute backend Service": (_route_backend_service, "'frontend-v3', which is not rendered"),
    "HTTPRoute to a Service that is no app of ours": (_route_to_redis, "Service redis, no pod"),
    "HTTPRoute without /monster/...": (_route_page_only, "GET /monster/monsterstack goes to no"),
    "HTTPRoute rewrite": (_route_rewrite, "rewrites the path"),
    "HTTPRoute parent": (_route_parent, "is no Gateway of this rendering"),
    "HTTPRoute listener": (_route_section, "has no listener https"),
    "HTTPRoute host the listener refuses": (_route_host, "matches none of the route's"),
    "HTTPRoute weight 0": (_route_zero_weight, "GET / goes to no backend"),
    "Gateway without a route": (_route_gone, "no HTTPRoute of this rendering attaches"),
}


@pytest.mark.parametrize("mutation", sorted(GATEWAY_MUTATIONS))
def test_the_contract_catches_in_the_gateway_api(
    with_gateway: dict[str, list[kube.Doc]], mutation: str
) -> None:
    """The rendered Gateway/HTTPRoute, broken one way at a time: the contract says how."""
    mutate, expected = GATEWAY_MUTATIONS[mutation]
    docs = copy.deepcopy(with_gateway["prod"])
    assert not contract.problems(docs, release="prod")
    mutate(docs)
    problems = contract.problems(docs, release="prod")
    assert any(expected in p for p in problems), problems


def test_schema_validation_catches_gateway_api_typos(
    with_gateway: dict[str, list[kube.Doc]],
) -> None:
    route = copy.deepcopy(_route(with_gateway["prod"]))
    assert not schema_errors(route)
    route["spec"]["rules"][0]["backendRef"] = route["spec"]["rules"][0].pop("backendRefs")
    assert any("backendRef" in e for e in schema_errors(route))
    gateway = copy.deepcopy(next(d for d in with_gateway["prod"] if d["kind"] == "Gateway"))
    gateway["spec"]["listeners"][0]["protocol"] = 80
    gateway["spec"]["listeners"][0]["port"] = 70000
    errors = schema_errors(gateway)
    assert any("protocol" in e for e in errors) and any("port" in e for e in errors), errors


def test_schema_validation_catches_the_courses_ingress() -> None:
    course = {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "monsterstack"},
        "spec": {"rules": [{"host": "monsterstack.local"}]},
    }
    assert any("no schema" in e for e in schema_errors(course))
    typo = copy.deepcopy(course)
    typo["apiVersion"] = "networking.k8s.io/v1"
    typo["spec"]["rules"][0]["htp"] = {}
    assert any("htp" in e for e in schema_errors(typo))


# ---- the kit's defects that a review found (issue 15), each kept fixed ----


def _sentences(path: Path) -> list[str]:
    return re.split(r"(?<=\.)\s+(?=[A-Z`])", " ".join(path.read_text().split()))


def test_the_readme_says_what_pod_security_refuses_and_what_only_the_contract_does() -> None:
    """The Restricted profile has no read-only-root control: only the contract enforces it
    (MUTATIONS["writable root filesystem"]); the README must not credit the API server."""
    sentences = _sentences(kube.DEPLOY / "README.md")
    pss = [s for s in sentences if "Restricted" in s and "refuse" in s]
    assert pss, "deploy/README.md no longer says what the Restricted profile refuses"
    for sentence in pss:
        assert "root filesystem" not in sentence and "readOnlyRoot" not in sentence, sentence
    assert any(
        "readOnlyRootFilesystem" in s and "contract" in s and "refuse" in s for s in sentences
    ), "deploy/README.md must say that the contract test, not Pod Security, enforces it"


def _selector(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(","))


def test_the_documented_prune_stays_inside_one_overlay(
    overlays: dict[str, list[kube.Doc]],
) -> None:
    """`kubectl apply --prune -l <selector>` deletes what matches and was not applied: the
    selector must match the whole overlay (its old ConfigMaps too) and nothing else, above
    all not the other overlay's Namespace."""
    readme = " ".join((kube.DEPLOY / "README.md").read_text().replace("\\\n", " ").split())
    commands = re.findall(r"--overlay (\S+) \| kubectl apply --prune -l (\S+) -f -", readme)
    assert commands, "deploy/README.md documents no prune command"
    assert "--prune -l app.kubernetes.io/part-of" not in readme
    for overlay, selector in commands:
        labels = _selector(selector)
        ours = overlays[overlay]
        keys = {kube.key(d) for d in ours}
        for doc in ours:
            assert kube.selects(labels, doc["metadata"].get("labels", {})), kube.key(doc)
        for other, docs in overlays.items():
            strays = [
                kube.key(d)
                for d in docs
                if kube.selects(labels, d["metadata"].get("labels", {})) and kube.key(d) not in keys
            ]
            assert not strays, f"{selector} (overlay {overlay}) would prune {other}'s {strays}"
    # every overlay has such a label of its own
    instances = {
        o: {d["metadata"]["labels"].get("app.kubernetes.io/instance") for d in docs}
        for o, docs in overlays.items()
        if o in ("dev", "prod")
    }
    assert instances == {"dev": {"monsterstack-dev"}, "prod": {"monsterstack-prod"}}


def test_the_prometheus_release_label_is_written_in_one_place(tmp_path: Path) -> None:
    """kube-prometheus-stack selects by `release: <its Helm release name>`: changing the name
    in components/monitoring/release/release.yaml relabels the ServiceMonitor and the
    PrometheusRule, wherever they are rendered."""
    one_place = Path("components") / "monitoring" / "release" / "release.yaml"
    assert kube.load_yaml(kube.DEPLOY / one_place)["labels"] == {"release": "kube-prometheus-stack"}
    monitor = kube.load_yaml(kube.DEPLOY / "components" / "monitoring" / "servicemonitor.yaml")
    assert "release" not in monitor["metadata"]["labels"]
    deploy = tmp_path / "deploy"
    shutil.copytree(kube.DEPLOY, deploy, ignore=shutil.ignore_patterns("helm"))
    source = (deploy / one_place).read_text()
    (deploy / one_place).write_text(
        source.replace("release: kube-prometheus-stack", "release: ops")
    )
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "kustomization.yaml").write_text(
        "resources: [../deploy/base]\ncomponents: [../deploy/components/monitoring]\n"
    )
    renderings = [kube.kustomize(alone), kube.kustomize(deploy / "strategies" / "monitoring")]
    kinds = []
    for docs in renderings:
        for doc in docs:
            if doc["apiVersion"].startswith("monitoring.coreos.com/"):
                assert doc["metadata"]["labels"]["release"] == "ops", kube.key(doc)
                kinds.append(doc["kind"])
    assert sorted(kinds) == ["PrometheusRule", "ServiceMonitor", "ServiceMonitor"]


def test_the_readmes_gateway_overlay_renders_and_chooses_the_class(tmp_path: Path) -> None:
    """deploy/README.md's overlay adding components/gateway-api to prod, with its patch of the
    Gateway's class (here set to another implementation's), as a user would write it."""
    readme = (kube.DEPLOY / "README.md").read_text()
    marker = "# deploy/overlays/gateway/kustomization.yaml\n"
    block = readme[readme.index(marker) : readme.index("```", readme.index(marker))]
    assert '"value": "eg"' in block
    deploy = tmp_path / "deploy"
    shutil.copytree(kube.DEPLOY, deploy, ignore=shutil.ignore_patterns("helm"))
    (deploy / "overlays" / "gateway").mkdir()
    mine = block.replace('"value": "eg"', '"value": "cilium"')
    (deploy / "overlays" / "gateway" / "kustomization.yaml").write_text(mine)
    docs = kube.kustomize(deploy / "overlays" / "gateway")
    [gateway] = kube.of_kind(docs, "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "cilium"
    assert gateway["metadata"]["namespace"] == "monsterstack"
    assert not contract.problems(docs, release="prod")
    assert not [e for d in unique(docs).values() for e in schema_errors(d)]
