"""The GitHub workflows (.github/), checked offline: actionlint's checks (jactionlint, with
shellcheck on every `run:` step) and shellcheck on the scripts they call; every action pinned to
the commit of a release whose action.yml was read (its inputs, Node 24); the kind workflow's
versions pinned, compatible with each other and with its Kubernetes; its registry the kit's
REGISTRY; its steps covering the cluster behaviour; and what it deploys rendering here.

Nothing here runs a workflow: no cluster, no GitHub here. The kind workflow's cluster steps
are only ever run by GitHub."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from monsterstack.kit import check_registry, render_manifests
from monsterstack.services import SERVICES

from . import kube

GITHUB = kube.ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
KIND = WORKFLOWS / "kind.yaml"
E2E = GITHUB / "kind" / "e2e.sh"
KIND_OVERLAY = GITHUB / "kind" / "prod-gateway"
GATEWAY_CLASS = GITHUB / "kind" / "gatewayclass.yaml"

# The actions the workflows may use: the release each is pinned to (tag, its commit) and the
# inputs its action.yml declares at that commit. Each runs on Node 24 (`runs.using: node24`
# there). A new action, or another release, is added here after reading its action.yml.
ACTIONS: dict[str, tuple[str, str, frozenset[str]]] = {
    "actions/checkout": (
        "v7.0.1",
        "3d3c42e5aac5ba805825da76410c181273ba90b1",
        frozenset(
            {
                "allow-unsafe-pr-checkout",
                "clean",
                "fetch-depth",
                "fetch-tags",
                "filter",
                "github-server-url",
                "lfs",
                "path",
                "persist-credentials",
                "ref",
                "repository",
                "set-safe-directory",
                "show-progress",
                "sparse-checkout",
                "sparse-checkout-cone-mode",
                "ssh-key",
                "ssh-known-hosts",
                "ssh-strict",
                "ssh-user",
                "submodules",
                "token",
            }
        ),
    ),
    "astral-sh/setup-uv": (
        "v10.0.1",
        "20cfd1bf945f4377ade1205e4dbc17946fc9a30d",
        frozenset(
            {
                "activate-environment",
                "add-problem-matchers",
                "cache-dependency-glob",
                "cache-local-path",
                "cache-python",
                "cache-suffix",
                "checksum",
                "download-from-astral-mirror",
                "enable-cache",
                "github-token",
                "ignore-empty-workdir",
                "ignore-nothing-to-cache",
                "manifest-file",
                "no-project",
                "prune-cache",
                "python-version",
                "quiet",
                "resolution-strategy",
                "restore-cache",
                "save-cache",
                "tool-bin-dir",
                "tool-dir",
                "venv-path",
                "version",
                "version-file",
                "working-directory",
            }
        ),
    ),
    "Azure/setup-helm": (
        "v5.0.1",
        "9bc31f4ebc9c6b171d7bfbaa5d006ae7abdb4310",
        frozenset({"downloadBaseURL", "token", "version"}),
    ),
    "helm/kind-action": (
        "v1.14.0",
        "ef37e7f390d99f746eb8b610417061a60e82a6cc",
        frozenset(
            {
                "cloud_provider",
                "cluster_name",
                "config",
                "ignore_failed_clean",
                "install_only",
                "kubeconfig",
                "kubectl_version",
                "node_image",
                "registry",
                "registry_enable_delete",
                "registry_image",
                "registry_name",
                "registry_port",
                "verbosity",
                "version",
                "wait",
            }
        ),
    ),
    "actions/upload-artifact": (
        "v7.0.0",
        "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
        frozenset(
            {
                "archive",
                "compression-level",
                "if-no-files-found",
                "include-hidden-files",
                "name",
                "overwrite",
                "path",
                "retention-days",
            }
        ),
    ),
    "actions/cache": (
        "v5.0.5",
        "27d5ce7f107fe9357f9df03efb73ab90386fccae",
        frozenset(
            {
                "enableCrossOsArchive",
                "fail-on-cache-miss",
                "key",
                "lookup-only",
                "path",
                "restore-keys",
                "save-always",
                "upload-chunk-size",
            }
        ),
    ),
}

# The node image each kind release defaults to (pkg/apis/config/defaults/image.go at its tag).
KIND_DEFAULT_NODE = {
    "v0.31.0": "kindest/node:v1.35.0"
    "@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f",
}
# Kubernetes minors each add-on release supports, from its own documentation at that release:
# ingress-nginx's README (Supported Versions table), Envoy Gateway's compatibility matrix
# (site/content/en/news/releases/matrix.md), metrics-server's README (1.34+ for 0.9.x).
ADDONS: dict[str, tuple[str, frozenset[str]]] = {
    "INGRESS_NGINX_VERSION": (
        "controller-v1.15.1",
        frozenset({"1.31", "1.32", "1.33", "1.34", "1.35"}),
    ),
    "ENVOY_GATEWAY_VERSION": ("v1.9.0", frozenset({"1.33", "1.34", "1.35", "1.36"})),
    "METRICS_SERVER_VERSION": ("v0.9.0", frozenset({"1.34", "1.35", "1.36"})),
}
GATEWAY_API_OF_ENVOY_GATEWAY = {"v1.9.0": "v1.6.1"}  # the Gateway API it is built on (matrix)

# Findings silenced in the workflows, each with its reason in a comment beside it.
ALLOWED_IGNORES = {("ci.yaml", "unpinned-images")}

EXPECTED_STEPS = [  # .github/kind/e2e.sh's steps, in the order the kind workflow runs them
    "addons",
    "deploy",
    "autoscaling",
    "exposures",
    "network-policies",
    "pod-security",
    "rollout",
    "title",
]


def workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.y*ml"))


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def resolve(value: object, env: dict[str, Any]) -> str:
    """A `with:` value with its `${{ env.X }}` references replaced by the workflow's env."""
    return re.sub(r"\$\{\{\s*env\.(\w+)\s*\}\}", lambda m: str(env[m[1]]), str(value))


def jactionlint(*files: Path) -> tuple[int, str]:
    done = kube.run(
        [
            kube.tool("jactionlint"),
            "--no-online",  # no GitHub API here
            "--strict-exit",  # warnings and infos fail too
            "--no-color",
            f"--shellcheck={kube.tool('shellcheck')}",
            f"--ruff={kube.tool('ruff')}",
            *map(str, files),
        ],
        cwd=kube.ROOT,
    )
    return done.returncode, done.stdout + done.stderr


# A `uses:` line: the reference, and the comment after it (the release's tag).
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<tag>\S+))?\s*$", re.MULTILINE)
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)(?:/[\w./-]+)?@(?P<sha>[0-9a-f]{40})$")


def unpinned(text: str) -> list[str]:
    """Every `uses:` that is not a known action at the commit of its reviewed release, with
    that release's tag beside it."""
    problems = []
    for m in USES.finditer(text):
        ref, tag = m["ref"], m["tag"]
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                problems.append(f"{ref}: a container action must be pinned by digest")
            continue
        pin = PINNED.match(ref)
        if not pin:
            problems.append(f"{ref}: not pinned to a full commit")
            continue
        known = ACTIONS.get(pin["action"])
        if known is None:
            problems.append(f"{ref}: an action not reviewed in tests/kit/test_workflows.py")
        elif (pin["sha"], tag) != (known[1], known[0]):
            problems.append(f"{ref} # {tag}: expected {pin['action']}@{known[1]} # {known[0]}")
    return problems


# ---- lint ----


def test_jactionlint_finds_nothing() -> None:
    files = workflows()
    assert {p.name for p in files} >= {"ci.yaml", "kind.yaml"}
    code, output = jactionlint(*files)
    assert code == 0, output


def test_no_finding_is_silenced_but_the_reviewed_ones() -> None:
    assert not (GITHUB / "jactionlint.yaml").exists(), "rules are not turned off in a config"
    silenced = {
        (path.name, rule)
        for path in workflows()
        for rules in re.findall(r"#\s*jactionlint\s+ignore=([\w,-]+)", path.read_text())
        for rule in rules.split(",")
    }
    assert silenced <= ALLOWED_IGNORES


def test_shellcheck_on_the_scripts_of_the_workflows() -> None:
    scripts = [p for p in GITHUB.rglob("*") if p.is_file() and p.read_bytes()[:2] == b"#!"]
    assert E2E in scripts
    for script in scripts:
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
    done = kube.run([kube.tool("shellcheck"), "--external-sources", *map(str, scripts)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_lint_fails_on_a_floating_workflow(tmp_path: Path) -> None:
    """The checks above can fail: an action by its major version (as the old kind workflow
    had them) and an unquoted variable in a `run:` step (shellcheck's) are findings."""
    text = KIND.read_text()
    sha, tag = ACTIONS["actions/checkout"][1], ACTIONS["actions/checkout"][0]
    assert f"actions/checkout@{sha} # {tag}" in text
    floating = text.replace(f"actions/checkout@{sha} # {tag}", "actions/checkout@v4")
    quoted = 'curl -fsS "http://$REGISTRY/v2/"'
    assert quoted in floating
    floating = floating.replace(quoted, "curl -fsS http://$REGISTRY/v2/")
    copy = tmp_path / ".github" / "workflows" / "kind.yaml"
    copy.parent.mkdir(parents=True)
    copy.write_text(floating)
    code, output = jactionlint(copy)
    assert code == 1, output
    assert "[unpinned-uses]" in output and "SC2086" in output, output
    assert unpinned(floating) == ["actions/checkout@v4: not pinned to a full commit"]


# ---- pinning ----


def test_every_action_is_pinned_to_a_reviewed_release() -> None:
    for path in workflows():
        text = path.read_text()
        assert USES.search(text), path
        assert unpinned(text) == [], path


def test_actions_get_only_the_inputs_they_declare() -> None:
    for path in workflows():
        for step in steps(load(path)):
            if "uses" not in step:
                continue
            pin = PINNED.match(step["uses"])
            assert pin, step["uses"]
            unknown = set(step.get("with", {})) - ACTIONS[pin["action"]][2]
            assert not unknown, f"{path.name}: {step['uses']} has no input {sorted(unknown)}"


def test_kind_workflow_pins_kind_its_node_image_and_kubectl() -> None:
    workflow = load(KIND)
    env = workflow["env"]
    (kind,) = [s for s in steps(workflow) if s.get("uses", "").startswith("helm/kind-action@")]
    given = {k: resolve(v, env) for k, v in kind["with"].items()}
    assert re.fullmatch(r"v\d+\.\d+\.\d+", given["version"]), given["version"]
    node = re.fullmatch(
        r"kindest/node:v(?P<minor>\d+\.\d+)\.\d+@sha256:[0-9a-f]{64}", given["node_image"]
    )
    assert node, f"the node image must be pinned by digest: {given['node_image']}"
    # the node image kind's release was made with (others are best effort, says kind)
    assert given["node_image"] == KIND_DEFAULT_NODE[given["version"]]
    assert re.fullmatch(rf"v{re.escape(node['minor'])}\.\d+", given["kubectl_version"])
    assert re.fullmatch(r"registry:\d+\.\d+\.\d+", given["registry_image"])


def test_kind_workflow_addons_support_its_kubernetes() -> None:
    env = load(KIND)["env"]
    node = re.search(r":v(\d+\.\d+)\.", env["KIND_NODE"])
    assert node
    for var, (version, minors) in ADDONS.items():
        assert env[var] == version, f"{var} changed: check what it supports, then update ADDONS"
        assert node[1] in minors, f"{var}={version} does not support Kubernetes {node[1]}"
    assert env["GATEWAY_API_VERSION"] == GATEWAY_API_OF_ENVOY_GATEWAY[env["ENVOY_GATEWAY_VERSION"]]
    for var, value in env.items():
        if var.endswith("_VERSION"):
            assert re.fullmatch(r"(controller-)?v?\d+\.\d+\.\d+", str(value)), (var, value)


def test_nothing_the_kind_workflow_installs_floats() -> None:
    text = KIND.read_text() + E2E.read_text()
    for floating in ("releases/latest", "@main", "@master", "/main/", "/master/"):
        assert floating not in text, floating
    for chart in re.findall(r"helm (?:install|template)(?:[^\n]*\\\n)*[^\n]*", text):
        assert "--version" in chart, chart
    for url in re.findall(r"https://\S+", E2E.read_text()):
        assert "_VERSION" in url, f"{url}: not pinned by a version of the workflow's env"


# ---- the kind workflow's registry and steps ----


def test_kind_registry_is_the_kits_REGISTRY() -> None:
    workflow = load(KIND)
    env = workflow["env"]
    (kind,) = [s for s in steps(workflow) if s.get("uses", "").startswith("helm/kind-action@")]
    assert str(kind["with"]["registry"]).lower() == "true"
    name, port = (
        resolve(kind["with"]["registry_name"], env),
        resolve(kind["with"]["registry_port"], env),
    )
    assert env["REGISTRY"] == f"{name}:{port}" == check_registry(env["REGISTRY"])
    build = 'monsterstack images --registry "$REGISTRY"'
    assert build in KIND.read_text()


def test_kind_workflow_steps_cover_the_cluster_behaviour() -> None:
    workflow = load(KIND)
    runs = [s.get("run", "") for s in steps(workflow)]
    e2e = [m for r in runs for m in re.findall(r"^\.github/kind/e2e\.sh ([\w-]+)$", r)]
    assert e2e == [*EXPECTED_STEPS, "diagnostics"]
    script = E2E.read_text()
    cases = re.findall(r"^([\w-]+)\) \w+ ;;$", script, re.MULTILINE)
    assert cases == [*EXPECTED_STEPS, "diagnostics"], "every step is a case of e2e.sh"
    (diagnostics,) = [
        s for s in steps(workflow) if s.get("run") == ".github/kind/e2e.sh diagnostics"
    ]
    assert diagnostics["if"] == "failure() || cancelled()"
    (upload,) = [s for s in steps(workflow) if "upload-artifact" in s.get("uses", "")]
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ runner.temp }}/kind-e2e"
    assert 'WORK="${RUNNER_TEMP:-/tmp}/kind-e2e"' in script
    for needed in (
        "kind export logs",
        "get events",
        "rollout watch",  # the rolling update, watched
        'violates PodSecurity "restricted:latest"',
        "privileged: $2",
        "gateway_url",  # the page through the Gateway
        "INGRESS_URL",  # and through the Ingress
        "from_pod imagebackend",  # NetworkPolicies from the pods
        "from_pod frontend",
        "metrics-server",
        "APP_TITLE",
    ):
        assert needed in script, needed


def test_kind_workflow_uses_the_kit() -> None:
    text = KIND.read_text() + E2E.read_text() + (KIND_OVERLAY / "kustomization.yaml").read_text()
    for path in re.findall(
        r"(?<![\w/.])(deploy/(?:base|overlays|components|kind|argocd)[\w./-]*)", text
    ):
        assert (kube.ROOT / path).exists(), f"the workflow names {path}, which does not exist"
    for path in re.findall(r"(?<![\w/])(\.github/kind/[\w./-]*\w)", text):
        assert (kube.ROOT / path).exists(), f"the workflow names {path}, which does not exist"
    for needed in ("monsterstack images", "render_manifests", "Host:"):
        assert needed in text, needed
    rollout = re.search(r"for deploy in ([\w ]+); do\n\s+kubectl [^\n]*rollout status", text)
    assert rollout, "the workflow waits for no rollout"
    assert set(SERVICES) <= set(rollout[1].split()), "the workflow must wait for every service"


def test_what_the_kind_workflow_deploys_renders() -> None:
    """The prod overlay + the Gateway API component, as e2e.sh renders it, holds what the
    workflow's steps rely on."""
    env = load(KIND)["env"]
    docs = [
        d for d in yaml.safe_load_all(render_manifests(env["REGISTRY"], "ci", KIND_OVERLAY)) if d
    ]
    kinds = {d["kind"] for d in docs}
    assert kinds >= {
        "Namespace",
        "Deployment",
        "Ingress",
        "Gateway",
        "HTTPRoute",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }, kinds
    for d in docs:
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == env["NAMESPACE"], d["metadata"]
    (namespace,) = [d for d in docs if d["kind"] == "Namespace"]
    assert namespace["metadata"]["name"] == env["NAMESPACE"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    images = {
        c["image"]
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    for service in SERVICES:
        assert f"{env['REGISTRY']}/monsterstack-{service}:ci" in images
    script = E2E.read_text()
    (gateway,) = [d for d in docs if d["kind"] == "Gateway"]
    assert f"GATEWAY={gateway['metadata']['name']} " in script
    gateway_class = yaml.safe_load(GATEWAY_CLASS.read_text())
    assert gateway["spec"]["gatewayClassName"] == gateway_class["metadata"]["name"]
    assert (
        gateway_class["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    )
    assert {listener.get("hostname") for listener in gateway["spec"]["listeners"]} == {env["HOST"]}
    (route,) = [d for d in docs if d["kind"] == "HTTPRoute"]
    assert "httproute/" + route["metadata"]["name"] in script
    assert route["spec"]["hostnames"] == [env["HOST"]]
    (ingress,) = [d for d in docs if d["kind"] == "Ingress"]
    assert [r["host"] for r in ingress["spec"]["rules"]] == [env["HOST"]]
    # the frontend admits Envoy Gateway's proxies, from the namespace e2e.sh installs it in
    gateway_ns = re.search(r"^GATEWAY_NS=(\S+)$", script, re.MULTILINE)
    assert gateway_ns
    peers = [
        peer
        for d in docs
        if d["kind"] == "NetworkPolicy"
        for rule in d["spec"].get("ingress", [])
        for peer in rule.get("from", [])
    ]
    assert any(
        p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        == gateway_ns[1]
        for p in peers
    ), f"no NetworkPolicy admits the Gateway's proxies from {gateway_ns[1]}"


@pytest.mark.parametrize("name", ["ci.yaml", "kind.yaml"])
def test_workflows_run_on_ubuntu_with_least_privilege(name: str) -> None:
    workflow = load(WORKFLOWS / name)
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert str(job["runs-on"]).startswith("ubuntu-"), job["runs-on"]
        assert job["timeout-minutes"] <= 60
    for step in steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_ci_workflow_runs_scripts_test_on_push_and_pull_request() -> None:
    workflow = load(WORKFLOWS / "ci.yaml")
    triggers = workflow[True]  # yaml reads the key `on` as True
    assert set(triggers) == {"push", "pull_request"}
    assert triggers["push"] is None, "every branch, forks' included"
    runs = [s.get("run") for s in steps(workflow)]
    assert runs[-1] == "scripts/test"
    paths = {
        resolve(s["with"]["path"], {})
        for s in steps(workflow)
        if "actions/cache@" in s.get("uses", "")
    }
    assert paths == {"/var/cache/monsterstack/base-*.tar"}
    (job,) = workflow["jobs"].values()
    assert job["container"]["image"] == "debian:12"
    assert "/var/cache/monsterstack:/var/cache/monsterstack" in job["container"]["volumes"]
    uv = [s for s in steps(workflow) if s.get("uses", "").startswith("astral-sh/setup-uv@")]
    assert uv and uv[0]["with"]["enable-cache"] is True


def test_deploy_readme_installs_what_the_kind_workflow_tests() -> None:
    """The by-hand steps in deploy/README.md name the add-on releases the workflow proves."""
    env = load(KIND)["env"]
    readme = (kube.ROOT / "deploy" / "README.md").read_text()
    nginx = set(re.findall(r"ingress-nginx/(controller-v[\d.]+)/", readme))
    assert nginx == {env["INGRESS_NGINX_VERSION"]}
    envoy = set(re.findall(r"EG_VERSION=(v[\d.]+)", readme))
    assert envoy == {env["ENVOY_GATEWAY_VERSION"]}
