"""A local Prometheus for `monsterstack up --monitoring` (and the tests): its config, its argv.

The labels are the contract with the dashboard and the alerts, the same here as on
Kubernetes (deploy/monitoring/README.md):

- `version` and `service` come from the app itself (every http_* series carries them), so a
  series always names the release that really served it, whatever a pod's labels say;
- `app="monsterstack"` comes from the scrape: a target label here, the pods' `app` label
  there (ServiceMonitor `podTargetLabels`, or the annotation job's labelmap);
- `job` is the service's name (`frontend`, `imagebackend`), as the ServiceMonitor makes it;
- `honor_labels: true`: where a target label and an exported one clash (`version`, `service`),
  the app's value wins instead of being renamed `exported_*`.

So `sum(rate(http_requests_total{app="monsterstack"}[1m])) by (version)`, the course's
query, answers the same locally and in a cluster. The config is written as JSON, which
Prometheus reads as YAML: no YAML library needed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

APP = "monsterstack"
COURSE_QUERY = f'sum(rate(http_requests_total{{app="{APP}"}}[1m])) by (version)'
INSTALL_HINT = "apt-get install prometheus (Debian's package, which also has promtool)"


def scrape_job(job: str, targets: Sequence[str], interval: str | None = None) -> dict[str, Any]:
    """One monsterstack service: its /metrics, labelled app=monsterstack, the app's labels kept."""
    job_config: dict[str, Any] = {
        "job_name": job,
        "honor_labels": True,
        "metrics_path": "/metrics",
        "static_configs": [{"targets": list(targets), "labels": {"app": APP}}],
    }
    if interval:
        job_config["scrape_interval"] = interval
    return job_config


def prometheus_config(
    services: Mapping[str, Sequence[str]],
    *,
    self_address: str | None = None,
    interval: str = "5s",
    rule_files: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """The config: a job per service (name -> host:port targets), and Prometheus itself."""
    scrape = [scrape_job(name, targets) for name, targets in services.items()]
    if self_address:
        scrape.append({"job_name": "prometheus", "static_configs": [{"targets": [self_address]}]})
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": scrape,
    }
    if rule_files:
        config["rule_files"] = [str(f) for f in rule_files]
    return config


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


def prometheus_argv(binary: str, config: Path, data_dir: Path, listen: str) -> list[str]:
    """Prometheus on `listen` (host:port), its data in `data_dir`, kept two hours."""
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        "--storage.tsdb.retention.time=2h",
        f"--web.listen-address={listen}",
        "--web.enable-lifecycle",
        "--log.level=warn",
    ]


def graph_url(base: str, expr: str = COURSE_QUERY, range_: str = "5m") -> str:
    """A link to Prometheus' graph page showing `expr`."""
    from urllib.parse import urlencode

    query = urlencode({"g0.expr": expr, "g0.tab": "0", "g0.range_input": range_})
    return f"{base}/graph?{query}"


RULES = Path("deploy") / "monitoring" / "prometheusrule.yaml"


def shipped_rules(root: Path | None = None) -> Path | None:
    """deploy/monitoring/prometheusrule.yaml when running from a checkout, else None."""
    root = root or Path(__file__).resolve().parents[2]
    source = root / RULES
    return source if source.is_file() else None


def rule_file_from(source: Path, dest: Path) -> Path:
    """The `spec` of a PrometheusRule, written as the plain rule file it is (for Prometheus
    and promtool). The manifest keeps `spec:` as its last top-level key, so this is its
    indented block, dedented: no YAML library needed (tests compare it with a real parse)."""
    lines = source.read_text().splitlines()
    try:
        start = lines.index("spec:") + 1
    except ValueError:
        raise ValueError(f"{source}: no top-level `spec:` line") from None
    body = []
    for line in lines[start:]:
        if line and not line.startswith("  ") and not line.startswith("#"):
            raise ValueError(f"{source}: `spec:` must be the last top-level key, not {line!r}")
        body.append(line[2:] if line.startswith("  ") else line)
    dest.write_text("\n".join(body) + "\n")
    return dest


def local_prometheus(
    workdir: Path, host: str, port: int, services: Mapping[str, Sequence[str]]
) -> tuple[list[str], str]:
    """(argv, base URL) of a Prometheus on host:port scraping `services` and itself, with the
    shipped alert rules when run from a checkout; its config and data live in `workdir`."""
    binary = find_prometheus()
    if binary is None:
        raise SystemExit(
            f"monsterstack up --monitoring: prometheus is not installed ({INSTALL_HINT})"
        )
    address = f"{host}:{port}"
    rules = shipped_rules()
    rule_files = [rule_file_from(rules, workdir / "monsterstack.rules.yaml")] if rules else []
    config = prometheus_config(services, self_address=address, rule_files=rule_files)
    path = write_config(workdir / "prometheus.yml", config)
    data = workdir / "prometheus-data"
    data.mkdir(exist_ok=True)
    return prometheus_argv(binary, path, data, address), f"http://{address}"
