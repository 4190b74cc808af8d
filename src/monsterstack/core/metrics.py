"""Prometheus metrics, one registry per app (no import-time globals).

With several worker processes, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set by core.server before the workers start) aggregates what every worker counted.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

# The *_created series double the exposition for no use in our dashboards.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class HttpMetrics:
    """What every service exposes: requests by route template, latency, build info."""

    def __init__(self, service: str, version: str, algorithm: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests",
            "HTTP requests served, by route template (never the raw path) and status code",
            ["service", "version", "method", "route", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from request start to the end of the response body",
            ["service", "version", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight",
            "Requests being served now",
            ["service"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        build = Gauge(
            "monsterstack_build_info",
            "Always 1; the labels say which version and drawing algorithm run",
            ["service", "version", "algorithm"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        build.labels(service, version, str(algorithm)).set(1)
        self.service = service
        self.version = version

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class DependencyMetrics:
    """Each dependency's state as its last check saw it, the gauge behind the alert on it:
    readiness reports an optional dependency down without turning unready (core.health)."""

    def __init__(self, metrics: HttpMetrics) -> None:
        self.up = Gauge(
            "monsterstack_dependency_up",
            "1 if the dependency answered its last check, else 0 (optional ones: still ready)",
            ["dependency"],
            registry=metrics.registry,
            multiprocess_mode="livemostrecent",  # the latest check, whichever worker ran it
        )

    def __call__(self, dependency: str, up: bool) -> None:
        self.up.labels(dependency).set(1 if up else 0)
