"""kube-play's readiness probe, run as a kubelet would against real served processes: a
frontend stays ready without its imagebackend (core.health), yet a play must not pass a kit
that points it nowhere, so the probe also reads the answer's `degraded` list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monsterstack.kit import play
from tests.servers import frontend_stack, serve


def _probe(port: int) -> str | None:
    """The deploy/base frontend's readinessProbe (GET /healthz on port `http`) on 127.0.0.1."""
    container: dict[str, Any] = {
        "name": "frontend",
        "ports": [{"name": "http", "containerPort": port}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 2},
    }
    pod = play.Pod(workload=None, name="frontend-pod", ip="127.0.0.1")  # type: ignore[arg-type]
    return play.probe_once(None, pod, container, "readinessProbe")  # type: ignore[arg-type]


def test_a_wired_frontend_passes(tmp_path: Path) -> None:
    with frontend_stack(tmp_path) as (_, frontend):
        assert _probe(frontend.port) is None


def test_a_frontend_pointed_nowhere_is_ready_but_refused(tmp_path: Path) -> None:
    with serve("frontend", tmp_path, {"IMAGEBACKEND_DOMAIN": "127.0.0.1:9"}) as frontend:
        seen = _probe(frontend.port)
    assert seen is not None
    assert "/healthz answered 200, degraded: imagebackend (" in seen
