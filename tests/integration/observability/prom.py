"""A real Prometheus for the tests (Debian's `prometheus`), on a free 127.0.0.1 port.

A missing prometheus or promtool FAILS the test: scripts/test installs Debian's package."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from monsterstack import monitoring
from monsterstack.processes import free_port, http_ok, stop, wait_until

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "deploy" / "monitoring"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: scripts/test installs it ({monitoring.INSTALL_HINT})",
            pytrace=False,
        )
    return path


def promtool(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [tool("promtool"), *args], input=stdin, capture_output=True, timeout=60, cwd=cwd
    )
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def rules_file(dest_dir: Path) -> Path:
    """The shipped PrometheusRule's `spec`, as a plain rule file in dest_dir."""
    return monitoring.rule_file_from(
        MONITORING / "prometheusrule.yaml", dest_dir / "monsterstack.rules.yaml"
    )


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        body = r.json()
        assert body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(
        self, expr: str, ok: Any, timeout: float = 30.0, what: str = ""
    ) -> list[dict[str, Any]]:
        """Polls `expr` until ok(result) or the timeout (a failure naming what was seen)."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if ok(result):
                return result
            time.sleep(0.5)
        raise AssertionError(f"{what or expr}: not within {timeout}s; last result {result}")


@contextmanager
def prometheus(
    tmp: Path,
    services: Mapping[str, Sequence[str]],
    interval: str = "1s",
    rule_files: Sequence[Path] = (),
) -> Iterator[Prometheus]:
    """Prometheus scraping `services` (job -> host:port targets) with the generated config."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    config = monitoring.prometheus_config(
        services, self_address=address, interval=interval, rule_files=rule_files
    )
    path = monitoring.write_config(tmp / "prometheus.yml", config)
    data = tmp / "data"
    data.mkdir()
    log = tmp / "prometheus.log"
    argv = monitoring.prometheus_argv(tool("prometheus"), path, data, address)
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        ready = partial(http_ok, f"http://{address}/-/ready")
        wait_until(ready, process, what="prometheus", log=log, interval=0.1)
        yield Prometheus(f"http://{address}", process, log)
    finally:
        stop(process, 20)
