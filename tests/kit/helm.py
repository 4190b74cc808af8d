"""The Helm chart (deploy/helm/monsterstack) rendered and linted offline, with Helm's own Go
library (helm-python-sdk: Helm v4's SDK behind a C ABI, no helm binary, no cluster); and the
kustomize renderings each chart rendering is compared with."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import kube

CHART = kube.DEPLOY / "helm" / "monsterstack"
PROD = kube.DEPLOY / "overlays" / "prod"

Values = dict[str, Any]


def library() -> Any:
    try:
        import helm_python
    except ImportError:  # a missing tool fails the test, never skips it
        pytest.fail(
            "helm-python-sdk is not installed: scripts/bootstrap installs the kit group",
            pytrace=False,
        )
    return helm_python


def helm_error() -> type[Exception]:
    """The base class of what Helm raises (a template's `fail`, a values schema error)."""
    error: type[Exception] = library().HelmError
    return error


def merged(*layers: Mapping[str, Any]) -> Values:
    """Values layered as Helm layers -f files: maps merge, anything else is replaced."""
    out: Values = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), dict):
                out[key] = merged(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def values_file(name: str) -> Values:
    values: Values = kube.load_yaml(CHART / name)
    return values


def render(
    values: Mapping[str, Any] | None = None,
    *,
    namespace: str = "monsterstack",
    release: str = "monsterstack",
) -> list[kube.Doc]:
    """`helm template` of the chart: its objects, in template order. Raises the chart's own
    error (helm_python.HelmError: a `fail`, a values schema error) when it refuses."""
    helm = library()
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(dict(values or {}))
        rendered = chart.render(
            dict(values or {}), name=release, namespace=namespace, is_install=True
        )
    docs: list[kube.Doc] = []
    for path, text in sorted(rendered.items()):
        if path.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def lint(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`helm lint --strict` of the chart: {"messages": [{"severity", "path", "error"}], ...}."""
    report: dict[str, Any] = library().lint(CHART, dict(values or {}), strict=True)
    return report


def prod_components() -> list[str]:
    """The prod overlay's components, as paths under deploy/ ("components/autoscaling")."""
    spec = kube.load_yaml(PROD / "kustomization.yaml")
    return [
        (PROD / c).resolve().relative_to(kube.DEPLOY.resolve()).as_posix()
        for c in spec.get("components", [])
    ]


def write_prod_variant(tmp: Path, components: Iterable[str]) -> Path:
    """The prod overlay's kustomization with another list of components (paths under
    deploy/), in a folder of `tmp`: the same base, namespace, images and labels."""
    components = list(components)
    spec = kube.load_yaml(PROD / "kustomization.yaml")
    where = tmp / ("prod-variant+" + kube.combo_id(c.replace("/", "_") for c in components))
    where.mkdir(parents=True, exist_ok=True)
    spec["resources"] = [os.path.relpath((PROD / r).resolve(), where) for r in spec["resources"]]
    spec["components"] = [os.path.relpath(kube.DEPLOY / c, where) for c in components]
    (where / "kustomization.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return where
