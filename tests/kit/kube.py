"""Helpers of the deployment kit's tests: tools, rendering deploy/, and reading manifests."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "base"
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if p.is_dir())
COMPONENTS = sorted(
    p.name for p in (DEPLOY / "components").iterdir() if (p / "kustomization.yaml").is_file()
)
# Components that do the same thing two ways: never together.
EXCLUSIVE = [frozenset({"frontend-nodeport", "frontend-loadbalancer"})]
# Components that only add objects of their own, which no other component patches, and patch
# nothing themselves: with any combination of the others they render that combination plus
# their objects. Each is rendered alone and on every largest combination of the others, not
# with all 2^n of them (each such component would double the renders).
ADDITIVE = frozenset({"gateway-api"})

Doc = dict[str, Any]


def tool(name: str) -> str:
    """The path of a command the kit's tests need; a missing one FAILS the test (no skip)."""
    venv_bin = Path(sys.executable).parent
    found = venv_bin / name if (venv_bin / name).is_file() else shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed: scripts/bootstrap installs the kit's tools (the `kit` "
            "dependency group, and the Debian packages scripts/test passes to it)",
            pytrace=False,
        )
    return str(found)


def run(argv: list[str], *, timeout: float = 300, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)


def kustomize(directory: Path) -> list[Doc]:
    done = run([tool("kubectl"), "kustomize", str(directory)], timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{done.stderr}")
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def combinations() -> list[tuple[str, ...]]:
    """Every subset of the components, but those that hold two exclusive ones; the ADDITIVE
    components alone and on top of each largest subset of the others."""
    core = [c for c in COMPONENTS if c not in ADDITIVE]
    out: list[tuple[str, ...]] = []
    for n in range(len(core) + 1):
        for combo in itertools.combinations(core, n):
            if not any(group <= set(combo) for group in EXCLUSIVE):
                out.append(combo)
    largest = [c for c in out if len(c) == max(map(len, out))]
    for extra in sorted(ADDITIVE & set(COMPONENTS)):
        out.append((extra,))
        out += [tuple(sorted((*combo, extra))) for combo in largest]
    return out


def combo_id(combo: Iterable[str]) -> str:
    return "+".join(combo) or "base-only"


def write_combo(tmp: Path, combo: tuple[str, ...], pin: Iterable[str] = ()) -> Path:
    """A kustomization: the base plus these components, in a folder of `tmp`.

    `pin`: services whose image gets a tag (the base leaves that to the overlays)."""
    where = tmp / combo_id(combo)
    where.mkdir(parents=True, exist_ok=True)
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "namespace: monsterstack",
        "resources:",
        f"  - {os.path.relpath(BASE, where)}",
    ]
    if combo:
        lines.append("components:")
        lines += [f"  - {os.path.relpath(DEPLOY / 'components' / c, where)}" for c in combo]
    pinned = [f"  - {{name: monsterstack-{s}, newTag: 0.0.0-test}}" for s in pin]
    if pinned:
        lines += ["images:", *pinned]
    (where / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return where


def write_overlay_with(tmp: Path, overlay: str, components: Iterable[str]) -> Path:
    """A kustomization: an overlay plus more components (as `components/gateway-api` is added
    to prod), in a folder of `tmp`, in the overlay's namespace."""
    source = DEPLOY / "overlays" / overlay
    where = tmp / f"{overlay}+{combo_id(components)}"
    where.mkdir(parents=True, exist_ok=True)
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"namespace: {load_yaml(source / 'kustomization.yaml')['namespace']}",
        f"resources: [{os.path.relpath(source, where)}]",
        "components:",
        *(f"  - {os.path.relpath(DEPLOY / 'components' / c, where)}" for c in components),
    ]
    (where / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return where


def render_many(jobs: Mapping[str, Path]) -> dict[str, list[Doc]]:
    """name -> the objects its kustomization renders (as many renders at a time as cores)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(jobs, pool.map(kustomize, jobs.values()), strict=True))


# ---- reading manifests ----


def key(doc: Doc) -> tuple[str, str, str]:
    meta = doc.get("metadata", {})
    return doc["kind"], meta.get("namespace", ""), meta["name"]


def of_kind(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def pod_spec(doc: Doc) -> Doc | None:
    if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        spec: Doc = doc["spec"]["template"]["spec"]
        return spec
    if doc.get("kind") == "Pod":
        pod: Doc = doc["spec"]
        return pod
    return None


def pod_templates(docs: Iterable[Doc]) -> Iterator[tuple[Doc, Doc]]:
    """(workload, its pod template) for every workload."""
    for doc in docs:
        if pod_spec(doc) is not None and doc["kind"] != "Pod":
            yield doc, doc["spec"]["template"]


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Does a label selector (matchLabels/matchExpressions, or a plain map) select `labels`?"""
    if selector is None:
        return False
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        plain = dict(selector)
        return bool(plain) and all(labels.get(k) == v for k, v in plain.items())
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        k, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(k) not in values:
            return False
        if op == "NotIn" and labels.get(k) in values:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def image_parts(ref: str) -> tuple[str, str | None, str | None]:
    """`reg:5000/a/b:tag@sha256:...` -> ("reg:5000/a/b", "tag", "sha256:...")."""
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    repo = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return repo, tag, digest or None


def container_ports(template: Doc) -> dict[str | int, int]:
    """Port names and numbers the pod's containers expose -> the number."""
    ports: dict[str | int, int] = {}
    for c in template["spec"].get("containers", []):
        for p in c.get("ports", []):
            ports[p["containerPort"]] = p["containerPort"]
            if "name" in p:
                ports[p["name"]] = p["containerPort"]
    return ports


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
