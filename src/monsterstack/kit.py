"""The deployment kit's registry workflow: build, tag and push the images; render manifests.

`monsterstack images` prints (or runs) the course's registry workflow for every service:
build each image from the one Dockerfile (one target per service), tag it
`$REGISTRY/monsterstack-<service>:$TAG`, push it. `monsterstack manifests` renders a kustomize
overlay of deploy/ with those same images pinned. The tag defaults to the git commit and is
never `latest`: nobody knows what `latest` means, and nobody can roll back to it.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

IMAGE_PREFIX = "monsterstack-"
BUILDERS = ("docker", "podman", "buildah")
OVERLAYS_DIR = Path("deploy") / "overlays"

# A tag as registries accept it, and short enough to be a label value too (the pods'
# `version` label carries it): 1-63 characters, alphanumeric at both ends.
_TAG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
# host[:port][/path], as in `127.0.0.1:30500` or `registry.example.org/team`: no scheme.
_REGISTRY = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$"
)


class KitError(ValueError):
    """A registry, tag or overlay the kit refuses, with what to do instead."""


def project_root(start: Path | None = None) -> Path:
    """The checkout holding the Dockerfile and deploy/ (searching up from `start` or cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Dockerfile").is_file() and (candidate / "deploy").is_dir():
            return candidate
    raise KitError(
        f"no monsterstack checkout (a Dockerfile beside a deploy/ folder) in {here} or above: "
        "run this from the repository"
    )


def services() -> list[str]:
    """The services that have an image: every service the `serve` command knows."""
    from .cli import SERVICES

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


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30
    )
    if done.returncode != 0:
        raise KitError(f"git {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()


def default_tag(root: Path | None = None) -> str:
    """The abbreviated commit, with `-dirty` while the work tree has uncommitted changes."""
    root = root or project_root()
    try:
        sha = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
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


def _is_loopback(registry: str) -> bool:
    host = registry.split("/", 1)[0].rsplit(":", 1)[0] if "]" not in registry else ""
    return host in ("localhost", "::1") or host.startswith("127.") or registry.startswith("[::1]")


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
    args = {"BASE_IMAGE": base_image, "VERSION": version, "REVISION": revision}
    build_args = [f"--build-arg={k}={v}" for k, v in args.items() if v]
    daemonless = builder in ("podman", "buildah")
    commands: list[list[str]] = []
    for service in names:
        cmd = [builder, *global_options, "build"]
        if daemonless:
            cmd += ["--format=docker", "--layers"]
        cmd += [*build_options, f"--target={service}", *build_args]
        cmd += [f"--tag={image_ref(registry, service, tag)}", context]
        commands.append(cmd)
    if push:
        for service in names:
            cmd = [builder, *global_options, "push"]
            if daemonless and _is_loopback(registry):
                cmd.append("--tls-verify=false")
            commands.append([*cmd, image_ref(registry, service, tag)])
    return commands


def shell_line(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


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
        ref = match["ref"].split("@", 1)[0]
        last = ref.rsplit("/", 1)[-1]
        name = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
        service = wanted.get(last.split(":", 1)[0])
        if service:
            found[service] = name
    return found


def render_manifests(
    registry: str, tag: str, overlay: str = "prod", *, root: Path | None = None
) -> str:
    """The overlay's YAML with every monsterstack image set to `$REGISTRY/...:$TAG`.

    kustomize does the work: a throw-away kustomization on top of the overlay sets the
    images and the pods' `version` labels, so the result is what `kubectl apply -k` of an
    overlay edited with `kustomize edit set image` would give.
    """
    root = root or project_root()
    registry, tag = check_registry(registry), check_tag(tag)
    known = overlays(root)
    if overlay not in known:
        raise KitError(f"unknown overlay {overlay!r}: one of {', '.join(known)}")
    overlay_dir = root / OVERLAYS_DIR / overlay
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


# ---- the `images` and `manifests` commands ----


def _registry_arg(args: argparse.Namespace) -> str:
    registry = args.registry or os.environ.get("REGISTRY", "")
    if not registry:
        raise KitError(
            "no registry: pass --registry (or set REGISTRY), e.g. 127.0.0.1:30500 for the "
            "course's NodePort registry, localhost:5000 for a local one"
        )
    return check_registry(registry)


def _tag_arg(args: argparse.Namespace, root: Path) -> str:
    return check_tag(args.tag or os.environ.get("TAG") or default_tag(root))


def cmd_images(args: argparse.Namespace) -> int:
    import sys

    from . import __version__

    try:
        root = project_root()
        registry, tag = _registry_arg(args), _tag_arg(args, root)
        try:
            revision = _git(root, "rev-parse", "HEAD")
        except (OSError, subprocess.SubprocessError, KitError):
            revision = None
        commands = images_commands(
            registry,
            tag,
            builder=args.builder,
            service_names=args.service or None,
            base_image=args.base_image,
            version=__version__,
            revision=revision,
            push=not args.no_push,
        )
    except KitError as exc:
        print(f"monsterstack images: {exc}", file=sys.stderr)
        return 2
    for argv in commands:
        if not args.run:
            print(shell_line(argv))
            continue
        print(f"+ {shell_line(argv)}", file=sys.stderr, flush=True)
        code = subprocess.run(argv, cwd=root, check=False).returncode
        if code != 0:
            print(f"monsterstack images: exit status {code}", file=sys.stderr)
            return code
    return 0


def cmd_manifests(args: argparse.Namespace) -> int:
    import sys

    try:
        root = project_root()
        text = render_manifests(_registry_arg(args), _tag_arg(args, root), args.overlay, root=root)
    except KitError as exc:
        print(f"monsterstack manifests: {exc}", file=sys.stderr)
        return 2
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `images` and `manifests` to the `monsterstack` command's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--registry", help="host[:port][/path] of the registry (env REGISTRY), e.g. 127.0.0.1:30500"
    )
    common.add_argument(
        "--tag",
        help="image tag (env TAG; default: the git commit, -dirty if changed); never latest",
    )

    i = sub.add_parser(
        "images",
        parents=[common],
        help="print (or --run) the build, tag and push commands of every service's image",
    )
    i.add_argument("--builder", choices=BUILDERS, default="docker")
    i.add_argument("--base-image", help="the Dockerfile's BASE_IMAGE (default: its own)")
    i.add_argument("--service", action="append", help="only this service (repeatable)")
    i.add_argument("--no-push", action="store_true", help="build and tag only")
    i.add_argument("--run", action="store_true", help="run the commands instead of printing")
    i.set_defaults(func=cmd_images)

    m = sub.add_parser(
        "manifests",
        parents=[common],
        help="render a deploy/ overlay with the images pinned to --registry and --tag",
    )
    m.add_argument("--overlay", default="prod", help="deploy/overlays/<overlay> (default prod)")
    m.add_argument("-o", "--output", help="file to write (default: stdout)")
    m.set_defaults(func=cmd_manifests)
