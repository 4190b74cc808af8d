"""`monsterstack images` and `monsterstack manifests`: the course's registry workflow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monsterstack import kit
from monsterstack.cli import main
from monsterstack.services import SERVICES

from . import contract, kube


def test_images_commands_build_then_push_every_service() -> None:
    commands = kit.images_commands("127.0.0.1:30500", "v0.1")
    builds = [c for c in commands if c[1] == "build"]
    pushes = [c for c in commands if c[1] == "push"]
    assert commands == builds + pushes
    assert len(builds) == len(pushes) == len(SERVICES)
    for service, build, push in zip(sorted(SERVICES), builds, pushes, strict=True):
        ref = f"127.0.0.1:30500/monsterstack-{service}:v0.1"
        assert build == ["docker", "build", f"--target={service}", f"--tag={ref}", "."]
        assert push == ["docker", "push", ref]


def test_images_commands_for_daemonless_builders() -> None:
    commands = kit.images_commands(
        "localhost:5000",
        "abc1234",
        builder="buildah",
        service_names=["imagebackend"],
        base_image="localhost/base:1",
        global_options=["--storage-driver=vfs"],
    )
    build, push = commands
    # docker format: OCI images drop HEALTHCHECK
    assert build[:5] == ["buildah", "--storage-driver=vfs", "build", "--format=docker", "--layers"]
    assert "--build-arg=BASE_IMAGE=localhost/base:1" in build
    # a loopback registry is plain HTTP (docker allows 127.0.0.0/8 by itself)
    assert push[-2:] == ["--tls-verify=false", "localhost:5000/monsterstack-imagebackend:abc1234"]
    remote = kit.images_commands("registry.example.org/team", "v1", builder="podman", push=True)
    assert all("--tls-verify=false" not in c for c in remote)


@pytest.mark.parametrize("tag", ["latest", "LATEST", "", "-v1", "v1-", "a b", "x" * 64, "v1/2"])
def test_bad_tags_are_refused(tag: str) -> None:
    with pytest.raises(kit.KitError):
        kit.images_commands("localhost:5000", tag)


@pytest.mark.parametrize("registry", ["http://localhost:5000", "", "UPPER CASE", "host:port"])
def test_bad_registries_are_refused(registry: str) -> None:
    with pytest.raises(kit.KitError):
        kit.images_commands(registry, "v1")


def test_default_tag_is_the_git_commit() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=kube.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert kit.default_tag(kube.ROOT) in (head, f"{head}-dirty")


@pytest.mark.parametrize("overlay", kube.OVERLAYS)
def test_render_manifests_pins_every_image(overlay: str) -> None:
    docs = [d for d in yaml.safe_load_all(kit.render_manifests("127.0.0.1:30500", "v0.2", overlay))]
    images = {c["image"] for s in contract.pod_specs(docs) for c in s["containers"]}
    for service in SERVICES:
        assert f"127.0.0.1:30500/monsterstack-{service}:v0.2" in images
    assert not [i for i in images if "monsterstack-" in i and not i.endswith(":v0.2")]
    for _, template in kube.pod_templates(docs):
        assert template["metadata"]["labels"]["version"] == "v0.2"
    # still everything the overlay is, and keeping the contract
    assert not contract.problems(docs, release=overlay)


def test_render_manifests_refuses_unknown_overlays_and_latest() -> None:
    with pytest.raises(kit.KitError, match="unknown overlay"):
        kit.render_manifests("localhost:5000", "v1", "staging")
    with pytest.raises(kit.KitError, match="latest"):
        kit.render_manifests("localhost:5000", "latest", "prod")


def test_cli_images_prints_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "--registry", "127.0.0.1:30500", "--tag", "v0.1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * len(SERVICES)
    assert lines[-1] == f"docker push 127.0.0.1:30500/monsterstack-{sorted(SERVICES)[-1]}:v0.1"
    assert all("--build-arg=REVISION=" in line for line in lines if " build " in line)


def test_cli_images_refuses_latest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "--registry", "127.0.0.1:30500", "--tag", "latest"]) == 2
    assert "refusing the tag 'latest'" in capsys.readouterr().err


def test_cli_manifests(tmp_path: Path) -> None:
    out = tmp_path / "prod.yaml"
    argv = ["manifests", "--registry", "localhost:5000", "--tag", "v3", "-o", str(out)]
    assert main(argv) == 0
    assert "image: localhost:5000/monsterstack-imagebackend:v3" in out.read_text()


def test_cli_manifests_needs_a_registry() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REGISTRY", "TAG")}
    done = subprocess.run(
        [sys.executable, "-m", "monsterstack.cli", "manifests", "--tag", "v1"],
        cwd=kube.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "no registry" in done.stderr


def test_daemonless_builds_end_with_a_stamp_the_cache_cannot_answer() -> None:
    """buildah's layer cache hands out LABEL/ENV layers of another version (issue 16): each
    buildah/podman build is followed by a --no-cache build of the stamp Dockerfile."""
    for builder in ("buildah", "podman"):
        commands = kit.images_commands(
            "127.0.0.1:5000", "v2", builder=builder, version="v2", revision="abc123", push=False
        )
        assert len(commands) == 2 * len(SERVICES)
        for build, stamp in zip(commands[::2], commands[1::2], strict=True):
            ref = build[-2].removeprefix("--tag=")
            assert "--no-cache" not in build and "--no-cache" in stamp
            assert f"--build-arg=IMAGE={ref}" in stamp and f"--tag={ref}" in stamp
            assert {"--build-arg=VERSION=v2", "--build-arg=REVISION=abc123"} <= set(stamp)
            stamp_file = next(a for a in stamp if a.startswith("--file=")).removeprefix("--file=")
            text = (kube.ROOT / stamp_file).read_text()
            assert "VERSION_LABEL=" in text and "org.opencontainers.image.version=" in text
    docker = kit.images_commands("127.0.0.1:5000", "v2", version="v2", push=False)
    assert len(docker) == len(SERVICES), "BuildKit keys metadata on the values: no stamp"
