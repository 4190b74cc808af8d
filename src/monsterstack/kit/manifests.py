"""Manifests: deploy/ rendered by kustomize, with our images pinned to a registry and tag."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .checkout import KitError, project_root
from .images import IMAGE_PREFIX, check_registry, check_tag, image_name, services

OVERLAYS_DIR = Path("deploy") / "overlays"


def _kustomize_command() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise KitError("neither kustomize nor kubectl is installed: one of them renders deploy/")


def kustomize_build(directory: Path) -> str:
    """`kustomize build` (or `kubectl kustomize`) of one kustomization directory."""
    done = subprocess.run(
        [*_kustomize_command(), str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise KitError(f"kustomize failed on {directory}:\n{done.stderr.strip()}")
    return done.stdout


def overlays(root: Path | None = None) -> list[str]:
    root = root or project_root()
    return sorted(
        p.name for p in (root / OVERLAYS_DIR).iterdir() if (p / "kustomization.yaml").is_file()
    )


_IMAGE_LINE = re.compile(r"^\s*-?\s*image:\s*[\"']?(?P<ref>[^\s\"']+)", re.MULTILINE)


def _our_image_names(rendered: str, names: Iterable[str]) -> dict[str, str]:
    """service -> the image name (without tag) the overlay renders for it."""
    wanted = {f"{IMAGE_PREFIX}{s}": s for s in names}
    found: dict[str, str] = {}
    for match in _IMAGE_LINE.finditer(rendered):
        name = image_name(match["ref"])
        service = wanted.get(name.rsplit("/", 1)[-1])
        if service:
            found[service] = name
    return found


def render_manifests(
    registry: str, tag: str, overlay: str | Path = "prod", *, root: Path | None = None
) -> str:
    """The overlay's YAML with every monsterstack image set to `$REGISTRY/...:$TAG`.

    `overlay`: a name (deploy/overlays/<name>) or a kustomization folder built on one.

    kustomize does the work: a throw-away kustomization on top of the overlay sets the
    images and the pods' `version` labels, so the result is what `kubectl apply -k` of an
    overlay edited with `kustomize edit set image` would give.
    """
    root = root or project_root()
    registry, tag = check_registry(registry), check_tag(tag)
    if isinstance(overlay, Path):  # a kustomization of one's own, on top of an overlay
        overlay_dir = overlay
    elif overlay in (known := overlays(root)):
        overlay_dir = root / OVERLAYS_DIR / overlay
    else:
        raise KitError(f"unknown overlay {overlay!r}: one of {', '.join(known)}")
    names = _our_image_names(kustomize_build(overlay_dir), services())
    with tempfile.TemporaryDirectory(prefix="monsterstack-render-") as tmp:
        # kustomize takes only relative paths to other kustomizations
        lines = [
            "apiVersion: kustomize.config.k8s.io/v1beta1",
            "kind: Kustomization",
            "resources:",
            f"  - {os.path.relpath(overlay_dir, tmp)}",
            "images:",
        ]
        for service, current in sorted(names.items()):
            lines += [
                f"  - name: {current}",
                f"    newName: {registry}/{IMAGE_PREFIX}{service}",
                f'    newTag: "{tag}"',
            ]
        lines += [
            "labels:",
            "  - pairs:",
            f'      version: "{tag}"',
            f'      app.kubernetes.io/version: "{tag}"',
            "    includeSelectors: false",
            "    includeTemplates: true",
        ]
        (Path(tmp) / "kustomization.yaml").write_text("\n".join(lines) + "\n")
        return kustomize_build(Path(tmp))
