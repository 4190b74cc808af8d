"""The deployment kit: build, tag and push the images; render the manifests; play them.

`monsterstack images` prints (or runs) the course's registry workflow for every service:
build each image from the one Dockerfile (one target per service), tag it
`$REGISTRY/monsterstack-<service>:$TAG`, push it. `monsterstack manifests` renders a kustomize
overlay of deploy/ with those same images pinned.

Modules: `checkout` (the repository and its commit), `images` (tags, registries, build
commands), `manifests` (kustomize), `engine` (podman and buildah on the project's storage, the
Debian base images, the loopback registry), `play` (`monsterstack kube-play`), `commands`
(the CLI's subcommands).
"""

from .checkout import KitError, head_revision, project_root
from .commands import add_commands
from .images import (
    BUILDERS,
    IMAGE_PREFIX,
    check_registry,
    check_tag,
    default_tag,
    image_ref,
    images_commands,
    services,
    shell_line,
)
from .manifests import OVERLAYS_DIR, kustomize_build, overlays, render_manifests

__all__ = [
    "BUILDERS",
    "IMAGE_PREFIX",
    "OVERLAYS_DIR",
    "KitError",
    "add_commands",
    "check_registry",
    "check_tag",
    "default_tag",
    "head_revision",
    "image_ref",
    "images_commands",
    "kustomize_build",
    "overlays",
    "project_root",
    "render_manifests",
    "services",
    "shell_line",
]
