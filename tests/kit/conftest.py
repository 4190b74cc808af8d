"""Fixtures of the deployment kit's tests (tests/kit): deploy/ rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import kube


@pytest.fixture(scope="session")
def overlays() -> dict[str, list[kube.Doc]]:
    """overlay name -> its rendered objects."""
    return {o: kube.kustomize(kube.DEPLOY / "overlays" / o) for o in kube.OVERLAYS}


@pytest.fixture(scope="session")
def combinations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[kube.Doc]]:
    """Every component combination on the base -> its rendered objects (~190 renders)."""
    tmp: Path = tmp_path_factory.mktemp("combinations")
    jobs = {kube.combo_id(c): kube.write_combo(tmp, c) for c in kube.combinations()}
    return kube.render_many(jobs)
