"""Fixtures of the deployment kit's tests (tests/kit): deploy/ rendered once per session."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monsterstack.kit.engine import TOOLS, Engine, cache_dir

from . import kube


@pytest.fixture(scope="session")
def overlays() -> dict[str, list[kube.Doc]]:
    """overlay name -> its rendered objects."""
    return {o: kube.kustomize(kube.DEPLOY / "overlays" / o) for o in kube.OVERLAYS}


@pytest.fixture(scope="session")
def with_gateway(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[kube.Doc]]:
    """overlay name -> its objects with components/gateway-api added (the Gateway API door)."""
    tmp: Path = tmp_path_factory.mktemp("with-gateway")
    jobs = {o: kube.write_overlay_with(tmp, o, ["gateway-api"]) for o in kube.OVERLAYS}
    return kube.render_many(jobs)


@pytest.fixture(scope="session")
def combinations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[kube.Doc]]:
    """Every component combination on the base -> its rendered objects (~390 renders)."""
    tmp: Path = tmp_path_factory.mktemp("combinations")
    jobs = {kube.combo_id(c): kube.write_combo(tmp, c) for c in kube.combinations()}
    return kube.render_many(jobs)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """podman and buildah on the project's storage (kit.engine), one test session at a time."""
    if os.geteuid() != 0:
        pytest.fail(
            "the image and play tests need root (their container storage is in "
            "/var/cache/monsterstack); deselect them with -m 'not image and not play'",
            pytrace=False,
        )
    for name in (*TOOLS, "catatonit", "iptables"):
        kube.tool(name)
    for helper in ("netavark", "aardvark-dns"):  # podman's, off the PATH
        if not (Path("/usr/lib/podman") / helper).is_file():
            pytest.fail(f"{helper} is not installed (Debian package {helper})", pytrace=False)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one image or play session at a time on this machine
        yield Engine.open(cache)
