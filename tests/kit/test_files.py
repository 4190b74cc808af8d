"""The kit's other files, checked offline: the Dockerfile (hadolint, and its structure against
SERVICES), compose (the `docker compose` client parses it with no engine, the compose-spec
schema, and its environment against the settings classes), skaffold (its structure against
the Dockerfile and the rendered overlays; its schema in test_skaffold.py), the GitHub workflow
(its schema) and .dockerignore."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from monsterstack.services import SERVICES

from . import contract, kube

DOCKERFILE = kube.ROOT / "Dockerfile"
# Variables the Python runtime reads, not the app's settings (compose's dev override).
RUNTIME_ENV = {"PYTHONPATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


# ---- Dockerfile ----


def stages() -> dict[str, list[tuple[str, str]]]:
    """stage name -> its instructions (keyword, rest), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            out[current] = []
        out[current].append((keyword, rest.strip()))
    return out


def parent(stage: list[tuple[str, str]]) -> str:
    return stage[0][1].split(" AS ")[0].strip()


def inherited(all_stages: dict[str, list[tuple[str, str]]], name: str) -> list[tuple[str, str]]:
    """A stage's instructions, its ancestors' first."""
    chain: list[tuple[str, str]] = []
    while name in all_stages:
        chain = all_stages[name] + chain
        name = parent(all_stages[name])
    return chain


def test_hadolint() -> None:
    done = kube.run([kube.tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_base_image_is_an_argument_pinned_by_tag() -> None:
    first = stages()[""]
    args = dict(rest.split("=", 1) for kw, rest in first if kw == "ARG" and "=" in rest)
    base = args.get("BASE_IMAGE")
    assert base, "ARG BASE_IMAGE=<image>:<tag> must come before the first FROM"
    repo, tag, _ = kube.image_parts(base)
    assert repo == "python" and tag and tag != "latest" and "slim" in tag, base
    for name, stage in stages().items():
        if name and parent(stage) not in stages():
            assert parent(stage) == "${BASE_IMAGE}", f"stage {name} is FROM {parent(stage)}"


def test_dockerfile_has_one_target_per_service() -> None:
    """Each service of SERVICES has its stage: serve <service>, its port, a HEALTHCHECK."""
    all_stages = stages()
    for svc_name in SERVICES:
        assert svc_name in all_stages, f"no Dockerfile stage (target) named {svc_name}"
        svc = contract.service(svc_name)
        assert svc
        steps = inherited(all_stages, svc_name)
        kinds = [kw for kw, _ in steps]
        cmd = [rest for kw, rest in steps if kw == "CMD"][-1]
        assert json.loads(cmd) == ["serve", svc_name]
        assert json.loads([r for k, r in steps if k == "ENTRYPOINT"][-1]) == ["monsterstack"]
        port = svc.settings.model_fields["port"].default
        assert [r for k, r in steps if k == "EXPOSE"][-1] == str(port)
        health = [r for k, r in all_stages[svc_name] if k == "HEALTHCHECK"]
        assert health and f"'{port}'" in health[0] and "/readyz" in health[0], health
        user = [r for k, r in steps if k == "USER"][-1]
        uid = user.split(":")[0]
        assert uid.isdigit() and int(uid) >= 10000, f"USER {user}: numeric, non-root, high"
        assert "LABEL" in kinds
        labels = " ".join(r for k, r in steps if k == "LABEL")
        for key in ("version", "revision", "source"):
            assert f"org.opencontainers.image.{key}=" in labels


def test_dockerfile_final_stages_hold_no_build_tools() -> None:
    all_stages = stages()
    for svc_name in SERVICES:
        steps = inherited(all_stages, svc_name)
        names = [s for s in all_stages if s and s in {parent(all_stages[svc_name])}]
        assert "build" not in names
        runs = " ".join(r for k, r in steps if k == "RUN")
        for tool in ("pip install", "uv ", "apt-get", "gcc"):
            assert tool not in runs, f"{svc_name}'s image runs {tool!r}"
        copies = [r for k, r in steps if k == "COPY"]
        assert all(c.startswith("--from=build /opt/monsterstack ") for c in copies), copies


def test_dockerfile_installs_the_locked_dependencies_before_the_code() -> None:
    build = stages()["build"]
    steps = [f"{k} {r}" for k, r in build]
    lock = next(i for i, s in enumerate(steps) if s.startswith("COPY") and "uv.lock" in s)
    deps = next(i for i, s in enumerate(steps) if "--no-install-project" in s)
    code = next(i for i, s in enumerate(steps) if s.startswith("COPY") and "src" in s)
    assert lock < deps < code
    assert "--frozen" in steps[deps] and "--mount=type=cache" in steps[deps]
    assert "src" not in steps[lock]


def test_dockerignore_lets_in_only_what_the_build_copies() -> None:
    lines = [
        line.strip()
        for line in (kube.ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", ".dockerignore should start by excluding everything"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for stage in stages().values():
        for kw, rest in stage:
            if kw == "COPY" and not rest.startswith("--from"):
                copied |= {p.rstrip("/") for p in rest.split()[:-1] if not p.startswith("--")}
    assert copied == allowed, f"COPY {copied} but .dockerignore lets in {allowed}"


# ---- compose ----


def compose(*files: str) -> dict[str, Any]:
    args = [a for f in files for a in ("-f", f)]
    done = kube.run(
        [kube.tool("docker-compose"), *args, "config", "--format", "json"],
        cwd=kube.ROOT,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


@pytest.mark.parametrize("files", [("compose.yaml",), ("compose.yaml", "compose.dev.yaml")])
def test_compose_config_parses(files: tuple[str, ...]) -> None:
    """`docker compose config -q`: the compose client parses and checks it (no engine)."""
    args = [a for f in files for a in ("-f", f)]
    done = kube.run([kube.tool("docker-compose"), *args, "config", "-q"], cwd=kube.ROOT)
    assert done.returncode == 0, done.stderr


def test_compose_files_match_the_compose_spec_schema() -> None:
    done = kube.run(
        [
            kube.tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            "compose.yaml",
            "compose.dev.yaml",
        ],
        cwd=kube.ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("files", [("compose.yaml",), ("compose.yaml", "compose.dev.yaml")])
def test_compose_keeps_the_contract(files: tuple[str, ...]) -> None:
    services = compose(*files)["services"]
    ours = {}
    for name, svc in services.items():
        repo, tag, _ = kube.image_parts(svc["image"])
        assert tag and tag != "latest", f"{name}: image {svc['image']}"
        last = repo.rsplit("/", 1)[-1]
        if not last.startswith(contract.IMAGE_PREFIX):
            assert svc.get("healthcheck"), f"{name} has no healthcheck"
            continue
        assert repo == f"localhost:5000/{last}" and tag == "dev", "the course's ${REGISTRY}/..."
        svc_name = last.removeprefix(contract.IMAGE_PREFIX)
        assert name == svc_name and svc["build"]["target"] == svc_name
        found = contract.service(svc_name)
        assert found, f"compose runs {svc_name}, which SERVICES does not register"
        ours[name] = svc
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        unread = set(env) - found.env_names - RUNTIME_ENV
        assert not unread, f"{name} sets {unread}, which {svc_name} does not read"
        settings = contract.settings_for(found, env)
        assert not isinstance(settings, str), settings
        for field, url in contract.dependency_urls(settings).items():
            host = url.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0]
            assert host in services, f"{name}: {field}={url} names no compose service"
            condition = svc.get("depends_on", {}).get(host, {}).get("condition")
            assert condition == "service_healthy", f"{name} must wait for {host} to be healthy"
        assert svc.get("read_only") is True and svc.get("cap_drop") == ["ALL"]
        assert any(t.startswith("/tmp") for t in svc.get("tmpfs", [])), f"{name}: no /tmp tmpfs"
        assert "no-new-privileges:true" in svc.get("security_opt", [])
    assert set(ours) == set(SERVICES)


def test_compose_redis_uses_the_kubernetes_redis_conf() -> None:
    redis = compose("compose.yaml")["services"]["redis"]
    sources = [Path(v["source"]) for v in redis.get("volumes", [])]
    assert kube.BASE / "redis" / "redis.conf" in sources
    assert redis["command"][-1].endswith("redis.conf")


def test_compose_dev_override_reloads_the_code() -> None:
    services = compose("compose.yaml", "compose.dev.yaml")["services"]
    for name in SERVICES:
        svc = services[name]
        assert svc["environment"]["CONTEXT"] == "DEV"
        assert any(w["action"] in ("restart", "sync+restart") for w in svc["develop"]["watch"])
        assert svc["environment"]["PYTHONPATH"] in [v["target"] for v in svc["volumes"]]


# ---- skaffold ----

SKAFFOLD_KEYS = {
    "": {"apiVersion", "kind", "metadata", "build", "manifests", "deploy", "portForward"}
    | {"profiles", "requires", "test", "verify", "customActions", "resourceSelector"},
    "build": {"artifacts", "tagPolicy", "local", "cluster", "googleCloudBuild", "platforms"}
    | {"insecureRegistries"},
    "artifact": {"image", "context", "docker", "sync", "requires", "hooks", "platforms"},
    "docker": {"dockerfile", "target", "buildArgs", "network", "cacheFrom", "secrets"}
    | {"noCache", "pullParent", "squash", "addHost", "ssh", "cliFlags"},
    "local": {"push", "useBuildkit", "useDockerCLI", "concurrency", "tryImportMissing"},
    "manifests": {"rawYaml", "kustomize", "helm", "kpt", "hooks", "transform", "validate"},
    "kustomize": {"paths", "buildArgs"},
    "deploy": {"kubectl", "kubeContext", "statusCheck", "statusCheckDeadlineSeconds"}
    | {"tolerateFailuresUntilDeadline", "logs", "docker", "helm", "kpt", "cloudrun"},
    "portForward": {"resourceType", "resourceName", "namespace", "port", "address", "localPort"},
    "profile": {"name", "activation", "requiresAllActivations", "patches", "build", "test"}
    | {"manifests", "deploy", "portForward", "resourceSelector", "verify", "customActions"},
}


def _keys(where: str, obj: dict[str, Any], allowed: str) -> None:
    unknown = set(obj) - SKAFFOLD_KEYS[allowed]
    assert not unknown, f"skaffold.yaml {where}: unknown keys {unknown}"


def _check_deploy_target(where: str, section: dict[str, Any], artifacts: list[str]) -> None:
    _keys(f"{where}manifests", section["manifests"], "manifests")
    _keys(f"{where}manifests.kustomize", section["manifests"]["kustomize"], "kustomize")
    for path in section["manifests"]["kustomize"]["paths"]:
        assert (kube.ROOT / path / "kustomization.yaml").is_file(), f"{where}: no {path}"
        docs = kube.kustomize(kube.ROOT / path)
        images = {
            kube.image_parts(c["image"])[0]
            for s in contract.pod_specs(docs)
            for c in s["containers"]
        }
        # skaffold replaces an image only where the manifest names the artifact itself
        assert set(artifacts) <= images, f"{path} renders {images}, skaffold builds {artifacts}"
        services = {
            (d["metadata"].get("namespace"), d["metadata"]["name"]): d
            for d in kube.of_kind(docs, "Service")
        }
        for forward in section.get("portForward", []):
            _keys(f"{where}portForward", forward, "portForward")
            assert forward["resourceType"] == "service"
            svc = services.get((forward["namespace"], forward["resourceName"]))
            assert svc, f"{where}: forwards {forward}, not a Service of {path}"
            assert forward["port"] in [p["port"] for p in svc["spec"]["ports"]]


def test_skaffold_structure() -> None:
    config = kube.load_yaml(kube.ROOT / "skaffold.yaml")
    _keys("", config, "")
    assert re.match(r"^skaffold/v4beta\d+$", config["apiVersion"]), config["apiVersion"]
    assert config["kind"] == "Config"
    build = config["build"]
    _keys("build", build, "build")
    _keys("build.local", build.get("local", {}), "local")
    assert "gitCommit" in build["tagPolicy"], "tags from the commit, never latest"
    all_stages = stages()
    artifacts = []
    for artifact in build["artifacts"]:
        _keys("build.artifacts[]", artifact, "artifact")
        _keys("build.artifacts[].docker", artifact["docker"], "docker")
        assert (
            kube.ROOT / artifact.get("context", ".") / artifact["docker"]["dockerfile"]
        ).is_file()
        target = artifact["docker"]["target"]
        assert target in all_stages, f"no Dockerfile stage {target}"
        assert artifact["image"] == f"{contract.IMAGE_PREFIX}{target}"
        artifacts.append(artifact["image"])
    assert sorted(a.removeprefix(contract.IMAGE_PREFIX) for a in artifacts) == sorted(SERVICES)
    _keys("deploy", config["deploy"], "deploy")
    assert "kubectl" in config["deploy"]
    assert config["manifests"]["kustomize"]["paths"] == ["deploy/overlays/dev"]
    _check_deploy_target("", config, artifacts)
    names = [p["name"] for p in config.get("profiles", [])]
    assert "prod" in names and len(names) == len(set(names))
    for profile in config["profiles"]:
        _keys(f"profiles[{profile['name']}]", profile, "profile")
        merged = {**config, **{k: v for k, v in profile.items() if k != "name"}}
        _check_deploy_target(f"profiles[{profile['name']}].", merged, artifacts)


def _with_patches(config: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """A profile's JSON patches (add/replace, as skaffold applies them) on a copy."""
    out = copy.deepcopy(config)
    for patch in patches:
        assert patch["op"] in ("add", "replace"), patch
        *parents, last = patch["path"].lstrip("/").split("/")
        node = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = patch["value"]
    return out


def test_skaffold_prod_profile_pushes_what_prod_pulls() -> None:
    """prod's pods pull their images (Always): `skaffold run -p prod` must push them, even
    to kind/minikube, where skaffold pushes nothing unless told; dev loads them, no push."""
    config = kube.load_yaml(kube.ROOT / "skaffold.yaml")
    assert not config["build"].get("local", {}).get("push"), "dev: loaded into the cluster"
    [prod] = [p for p in config["profiles"] if p["name"] == "prod"]
    built = _with_patches(config, prod.get("patches", []))
    assert built["build"]["local"]["push"] is True
    assert built["build"]["local"]["useBuildkit"] is True, "the patch keeps the rest of local"
    pulls = {
        c["imagePullPolicy"]
        for path in prod["manifests"]["kustomize"]["paths"]
        for spec in contract.pod_specs(kube.kustomize(kube.ROOT / path))
        for c in spec["containers"]
        if c["image"].startswith(contract.IMAGE_PREFIX)
    }
    assert pulls == {"Always"}
    # where to push: the documented command names the registry
    for doc in (kube.ROOT / "skaffold.yaml", kube.DEPLOY / "README.md"):
        assert 'skaffold run -p prod --default-repo "$REGISTRY"' in doc.read_text(), doc


# ---- the GitHub workflows (their schema; the rest in test_workflows.py), the Argo CD example ----


def workflows() -> list[Path]:
    return sorted((kube.ROOT / ".github" / "workflows").glob("*.y*ml"))


def test_github_workflows_match_their_schema() -> None:
    assert workflows()
    done = kube.run(
        [
            kube.tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflows()),
        ]
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- what the image installs covers what the code imports ----


def _imported_top_level_modules() -> set[str]:
    import ast
    import sys

    names: set[str] = set()
    for path in (kube.ROOT / "src" / "monsterstack").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "monsterstack"}


def test_the_image_installs_every_module_the_code_imports() -> None:
    """The image installs the project's dependencies only (no dev group): each third-party
    module src/ imports must come with them, not from a test or kit tool that happens to
    pull it into the development environment."""
    from importlib.metadata import packages_distributions

    export = ["export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes"]
    done = kube.run([kube.tool("uv"), *export], cwd=kube.ROOT)
    assert done.returncode == 0, done.stderr
    installed = {
        re.split(r"[=<>;\[ ]", line.strip())[0].lower().replace("_", "-")
        for line in done.stdout.splitlines()
        if line.strip() and not line.startswith(("#", " "))
    }
    dists = packages_distributions()
    missing = {
        module: dists.get(module, [module])
        for module in _imported_top_level_modules()
        if not {d.lower().replace("_", "-") for d in dists.get(module, [module])} & installed
    }
    assert not missing, (
        f"src/ imports {sorted(missing)} (from {missing}), which [project].dependencies do "
        "not bring: the image would fail at import; add them to pyproject.toml"
    )
