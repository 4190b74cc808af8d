"""The default worker count: the CPUs a process may use, not the machine's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monsterstack.core.cpus import MAX_WORKERS, cgroup_quota, usable_cores
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.imagebackend.settings import ImagebackendSettings

AFFINITY = len(os.sched_getaffinity(0))


def _v2(root: Path, text: str) -> Path:
    (root / "cpu.max").write_text(text)
    return root


def _v1(root: Path, quota: int, period: int) -> Path:
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


@pytest.mark.parametrize(
    ("text", "quota"),
    [
        ("max 100000\n", None),
        ("100000 100000\n", 1.0),
        ("150000 100000\n", 1.5),
        ("5000 100000", 0.05),
    ],
)
def test_cgroup_v2_quota(tmp_path: Path, text: str, quota: float | None) -> None:
    assert cgroup_quota(_v2(tmp_path, text)) == quota


@pytest.mark.parametrize(("quota", "cpus"), [(200000, 2.0), (-1, None)])  # -1: unlimited
def test_cgroup_v1_quota(tmp_path: Path, quota: int, cpus: float | None) -> None:
    assert cgroup_quota(_v1(tmp_path, quota, 100000)) == cpus


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert cgroup_quota(tmp_path) is None
    assert usable_cores(tmp_path) == AFFINITY


def test_a_quota_caps_the_affinity_rounded_up_and_never_below_one(tmp_path: Path) -> None:
    assert usable_cores(_v2(tmp_path, "100000 100000")) == 1  # limits.cpu: 1
    assert usable_cores(_v2(tmp_path, "150000 100000")) == min(AFFINITY, 2)  # 1500m
    assert usable_cores(_v2(tmp_path, "10000 100000")) == 1  # 100m
    assert usable_cores(_v2(tmp_path, f"{64 * 100000} 100000")) == AFFINITY  # more than we have


def test_the_imagebackend_defaults_to_its_cpus_and_the_frontend_to_one() -> None:
    assert ImagebackendSettings().workers == usable_cores()
    assert FrontendSettings().workers == 1  # per-process cache and limiter


def test_workers_from_the_environment_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "3")
    assert ImagebackendSettings().workers == 3


def test_a_quota_above_the_process_cgroup_counts(tmp_path: Path) -> None:
    """A pod's limit sits on the pod's cgroup; the container's own cgroup may say max."""
    own = tmp_path / "kubepods" / "pod1" / "ctr"
    own.mkdir(parents=True)
    (own / "cpu.max").write_text("max 100000")
    (tmp_path / "kubepods" / "pod1" / "cpu.max").write_text("200000 100000")
    (tmp_path / "kubepods" / "cpu.max").write_text("max 100000")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/kubepods/pod1/ctr\n")
    assert cgroup_quota(tmp_path, proc) == 2.0
    assert usable_cores(tmp_path, proc) == min(AFFINITY, 2)


def test_never_more_workers_than_the_services_accept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(96)))
    assert usable_cores(tmp_path) == MAX_WORKERS
    assert ImagebackendSettings().workers == MAX_WORKERS  # and the service still starts


def test_without_affinity_the_cpu_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS has none
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert usable_cores(tmp_path) == 3
