"""Images: the tag and registry rules, and the build (+ push) commands of every service.

The tag defaults to the git commit and is never `latest`: nobody knows what `latest` means,
and nobody can roll back to it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..services import SERVICES
from .checkout import KitError, git, project_root

IMAGE_PREFIX = "monsterstack-"
BUILDERS = ("docker", "podman", "buildah")


# A tag as registries accept it, and short enough to be a label value too (the pods'
# `version` label carries it): 1-63 characters, alphanumeric at both ends.
_TAG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
# host[:port][/path], as in `127.0.0.1:30500` or `registry.example.org/team`: no scheme.
_REGISTRY = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$"
)


def services() -> list[str]:
    """The services that have an image: every service the `serve` command knows."""
    return sorted(SERVICES)


def check_tag(tag: str) -> str:
    if tag.lower() == "latest":
        raise KitError(
            "refusing the tag 'latest': nobody knows what it points to and nobody can roll "
            "back to it; use the git commit (the default), a version (v0.1) or a branch name"
        )
    if not _TAG.match(tag):
        raise KitError(
            f"invalid tag {tag!r}: 1 to 63 letters, digits, '.', '_' or '-', starting and "
            "ending with a letter or digit"
        )
    return tag


def check_registry(registry: str) -> str:
    registry = registry.strip().rstrip("/")
    if "://" in registry:
        raise KitError(
            f"registry {registry!r}: give host[:port][/path], without http:// or https://"
        )
    if not _REGISTRY.match(registry):
        raise KitError(
            f"invalid registry {registry!r}: host[:port][/path], e.g. 127.0.0.1:30500 "
            "(the course's NodePort registry) or localhost:5000"
        )
    return registry


def default_tag(root: Path | None = None) -> str:
    """The abbreviated commit, with `-dirty` while the work tree has uncommitted changes."""
    root = root or project_root()
    try:
        sha = git(root, "rev-parse", "--short=12", "HEAD")
        dirty = bool(git(root, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError) as exc:
        raise KitError(
            f"cannot read the git commit for the default tag ({exc}); pass --tag"
        ) from exc
    except KitError as exc:
        raise KitError(f"{exc}; pass --tag") from None
    return check_tag(f"{sha}-dirty" if dirty else sha)


def image_ref(registry: str, service: str, tag: str) -> str:
    """`$REGISTRY/monsterstack-<service>:$TAG`, the course's naming."""
    return f"{check_registry(registry)}/{IMAGE_PREFIX}{service}:{check_tag(tag)}"


def image_name(ref: str) -> str:
    """A reference without its tag or digest: `reg:5000/team/app:v1` -> `reg:5000/team/app`."""
    ref = ref.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return ref[: len(ref) - len(last)] + last.split(":", 1)[0]


def _is_loopback(registry: str) -> bool:
    host = registry.split("/", 1)[0].rsplit(":", 1)[0] if "]" not in registry else ""
    return host in ("localhost", "::1") or host.startswith("127.") or registry.startswith("[::1]")


# Who a build is: VERSION (the tag) and REVISION (the commit), as the OCI labels and as the
# variables the services report (`/version`, the metrics' `version` label, `build_info`, the
# page's badge). The Dockerfile sets them from its build arguments, which BuildKit gets right.
# buildah's layer cache does not (see deploy/images/stamp.Dockerfile): daemonless builds end
# with a stamp build that the cache cannot answer.
STAMP_DOCKERFILE = "deploy/images/stamp.Dockerfile"


def _identity_args(version: str | None, revision: str | None) -> list[str]:
    values = {"VERSION": version, "REVISION": revision}
    return [f"--build-arg={arg}={v}" for arg, v in values.items() if v]


def images_commands(
    registry: str,
    tag: str,
    *,
    builder: str = "docker",
    service_names: Iterable[str] | None = None,
    base_image: str | None = None,
    version: str | None = None,
    revision: str | None = None,
    push: bool = True,
    build_options: Sequence[str] = (),
    global_options: Sequence[str] = (),
    context: str = ".",
) -> list[list[str]]:
    """The build (+ push) commands, one argv per command, in the order to run them.

    `builder` is docker, podman or buildah. podman and buildah build in the docker image
    format (OCI images drop HEALTHCHECK) and push to a loopback registry without TLS, as
    docker does by itself for 127.0.0.0/8. `global_options` go before the subcommand (e.g.
    buildah's --storage-driver), `build_options` after it (e.g. --network host).
    """
    if builder not in BUILDERS:
        raise KitError(f"unknown builder {builder!r}: one of {', '.join(BUILDERS)}")
    registry, tag = check_registry(registry), check_tag(tag)
    names = list(service_names) if service_names is not None else services()
    if not names:
        raise KitError("no service to build")
    build_args = [f"--build-arg=BASE_IMAGE={base_image}"] if base_image else []
    build_args += _identity_args(version, revision)
    daemonless = builder in ("podman", "buildah")
    commands: list[list[str]] = []
    for service in names:
        ref = image_ref(registry, service, tag)
        cmd = [builder, *global_options, "build"]
        if daemonless:
            cmd += ["--format=docker", "--layers"]
        cmd += [*build_options, f"--target={service}", *build_args, f"--tag={ref}", context]
        commands.append(cmd)
        if daemonless and (version or revision):
            stamp = [builder, *global_options, "build", "--format=docker", "--no-cache"]
            stamp += [f"--build-arg=IMAGE={ref}", *_identity_args(version, revision)]
            stamp += [f"--file={context.rstrip('/')}/{STAMP_DOCKERFILE}", f"--tag={ref}"]
            commands.append([*stamp, f"{context.rstrip('/')}/{Path(STAMP_DOCKERFILE).parent}"])
    if push:
        for service in names:
            cmd = [builder, *global_options, "push"]
            if daemonless and _is_loopback(registry):
                cmd.append("--tls-verify=false")
            commands.append([*cmd, image_ref(registry, service, tag)])
    return commands


def shell_line(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
