"""Several worker processes, one /metrics: each worker counts in prometheus_client's shared
files and /metrics adds them up, for both services (the frontend's settings import
prometheus_client before the server picks multiprocess mode, which once left its /metrics
empty with WORKERS=2)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.servers import serve

REQUESTS = 60


def _versions_counted(metrics: str) -> int:
    found = re.findall(r'http_requests_total\{[^}]*route="/version"[^}]*\} (\S+)', metrics)
    return sum(int(float(v)) for v in found)


def _worker_pids(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


@pytest.mark.parametrize("service", ["imagebackend", "frontend"])
def test_two_workers_answer_and_metrics_count_both(service: str, tmp_path: Path) -> None:
    env = {"WORKERS": "2", "IMAGEBACKEND_DOMAIN": "127.0.0.1:9"}  # no backend: still ready
    with serve(service, tmp_path, env) as proc:
        assert len(_worker_pids(proc.process.pid)) == 2
        for _ in range(REQUESTS):  # a new connection each time: granian spreads them
            with httpx.Client() as client:
                assert client.get(f"{proc.url}/version").status_code == 200
        metrics = httpx.get(f"{proc.url}/metrics")
        assert metrics.status_code == 200 and metrics.text, "empty /metrics"
        assert _versions_counted(metrics.text) == REQUESTS
