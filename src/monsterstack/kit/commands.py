"""The kit's commands: `monsterstack images`, `monsterstack manifests`, `monsterstack kube-play`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .checkout import KitError, head_revision, project_root
from .images import BUILDERS, check_registry, check_tag, default_tag, images_commands, shell_line
from .manifests import render_manifests


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
    try:
        root = project_root()
        registry, tag = _registry_arg(args), _tag_arg(args, root)
        # the image knows who it is: its tag is its version, HEAD its commit
        commands = images_commands(
            registry,
            tag,
            builder=args.builder,
            service_names=args.service or None,
            base_image=args.base_image,
            version=tag,
            revision=head_revision(root),
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


def cmd_kube_play(args: argparse.Namespace) -> int:
    from .play import REGISTRY_PORT, down, play

    try:
        if args.down:
            removed = down()
            print("removed: " + (", ".join(removed) or "nothing was played"))
            return 0
        played = play(
            args.overlay,
            args.tag or os.environ.get("TAG"),
            timeout=args.timeout,
            registry_port=args.registry_port or REGISTRY_PORT,
        )
    except KitError as exc:
        print(f"monsterstack kube-play: {exc}", file=sys.stderr)
        return 1
    for pod in played.pods:
        print(f"{pod.name:24} {pod.ip}")
    print(f"\n{played.overlay} ({played.tag}) is up, every probe passes: {played.url}")
    print("remove it with: monsterstack kube-play --down")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `images`, `manifests` and `kube-play` to the `monsterstack` command's subcommands."""
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

    k = sub.add_parser(
        "kube-play",
        help="run an overlay of deploy/ with podman kube play, probes checked as a kubelet would",
        description="Builds the images (layer cache), pushes them to a loopback registry, "
        "renders the overlay, plays each Deployment with `podman kube play` and waits until "
        "every probe of the manifests passes. Root, Debian's podman/buildah (scripts/kube-play "
        "installs them). See deploy/README.md: what this proves and what it cannot.",
    )
    k.add_argument(
        "--overlay", default="dev", help="dev or prod, or a kustomization folder (default dev)"
    )
    k.add_argument("--tag", help="image tag and version (env TAG; default play-<commit>)")
    k.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait for every probe (default 120)"
    )
    k.add_argument("--registry-port", type=int, help="the loopback registry's port (default 30500)")
    k.add_argument("--down", action="store_true", help="remove the pods, volumes and network")
    k.set_defaults(func=cmd_kube_play)
