"""The service under wrk: throughput at 80 px, and whether big renders stall small requests.

Every server is started here, on a free port on 127.0.0.1, as
`monsterstack serve imagebackend --workers K` with INLINE_RENDER_MAX_PIXELS set per
configuration, and stopped with SIGTERM. Every request asks for a name never asked before.
Configurations take turns, round after round, so a busy spell on the machine hits them all.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from monsterstack import processes
from monsterstack.processes import free_port, http_ok, wait_until

from .machine import cpu_busy
from .render import percentile

HOST = "127.0.0.1"  # never anything else
LUA = Path(__file__).with_name("distinct.lua")
ALL_INLINE = 1024 * 1024  # INLINE_RENDER_MAX_PIXELS that keeps even 1024 px on the loop


@dataclass(frozen=True)
class Config:
    label: str
    workers: int
    inline_max_pixels: int | None = None  # None: the service's default (256 x 256)

    def describe(self) -> dict[str, object]:
        default = self.inline_max_pixels is None
        return {
            "config": self.label,
            "workers": self.workers,
            "inline_render_max_pixels": "default" if default else self.inline_max_pixels,
        }


ONE_PROCESS = "1 process, render inline"
TWO_PROCESSES = "2 processes, render inline (default: one per CPU)"
THROUGHPUT_CONFIGS = (
    Config(ONE_PROCESS, 1),
    Config("1 process, every render in the render thread", 1, 0),
    Config(TWO_PROCESSES, 2),
)

STALL_CONFIGS = (
    Config("1 process, every render inline", 1, ALL_INLINE),
    Config("1 process, default (>256x256 in a thread)", 1),
    Config("1 process, every render in a thread", 1, 0),
    Config("2 processes, every render inline", 2, ALL_INLINE),
    Config("2 processes, default (>256x256 in a thread)", 2),
    Config("2 processes, every render in a thread", 2, 0),
)


@dataclass(frozen=True)
class Load:
    """How hard to push: wrk's run, and the 80 px probe clients of the stall scenario."""

    duration: float = 10
    connections: int = 32
    stall_connections: int = 16
    probe_clients: int = 4
    probe_interval: float = 0.04


def server_command(port: int, config: Config) -> list[str]:
    options = ["--host", HOST, "--port", str(port), "--workers", str(config.workers)]
    return [monsterstack_program(), "serve", "imagebackend", *options]


def monsterstack_program() -> str:
    """The environment's `monsterstack` command."""
    exe = Path(sys.executable).with_name("monsterstack")
    return str(exe) if exe.exists() else shutil.which("monsterstack") or "monsterstack"


def server_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",)}
    env["LOG_LEVEL"] = "warning"
    env.pop("INLINE_RENDER_MAX_PIXELS", None)
    if config.inline_max_pixels is not None:
        env["INLINE_RENDER_MAX_PIXELS"] = str(config.inline_max_pixels)
    return env


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    ready = partial(http_ok, f"http://{HOST}:{port}/readyz", timeout=2)
    wait_until(ready, proc, timeout=timeout, what=f"the server on port {port}", interval=0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, a graceful wait, then SIGKILL."""
    processes.stop(proc, 40)


@contextlib.contextmanager
def running_server(config: Config) -> Iterator[int]:
    """Start the service for `config`, yield its port, stop it with SIGTERM."""
    port = free_port()
    proc = subprocess.Popen(server_command(port, config), env=server_env(config))
    try:
        wait_ready(port, proc)
        yield port
    finally:
        stop(proc)


def run_wrk(
    port: int, size: int, prefix: str, duration: float, connections: int, threads: int = 2
) -> dict[str, float]:
    """One wrk run of distinct names; requests/s and latency in ms."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s"]
    cmd += ["--timeout", "10s", "-s", str(LUA), f"http://{HOST}:{port}/", "--", str(size), prefix]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    raw = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    errors = raw["errors_status"] + raw["errors_socket"]
    seconds = raw["duration_us"] / 1e6
    return {
        "rps": round(raw["requests"] / seconds, 1),
        "ok_rps": round((raw["requests"] - errors) / seconds, 1),  # answers that drew a monster
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": errors,
    }


@dataclass
class Probes:
    """What the 80 px probe clients saw: the time of each answer drawn, and how many were
    refused (503 + Retry-After: the render thread's queue was full)."""

    ms: list[float] = field(default_factory=list)
    refused: int = 0


def probe(port: int, prefix: str, stop: threading.Event, interval: float, into: Probes) -> None:
    """GET /monster/<new name>?size=80 every `interval` s on one connection, into `into`."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    sent = 0
    while not stop.is_set():
        start = time.perf_counter()
        conn.request("GET", f"/monster/{prefix}-{sent}?size=80")
        sent += 1
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status == 200:
            into.ms.append(elapsed * 1000)
        elif response.status == 503:
            into.refused += 1
        else:
            raise RuntimeError(f"probe got HTTP {response.status}")
        stop.wait(max(0.0, interval - elapsed))
    conn.close()


@contextlib.contextmanager
def probing(port: int, prefix: str, load: Load, delay: float = 0) -> Iterator[Probes]:
    """Probe clients run (after `delay` s) for the duration of the block."""
    stop = threading.Event()
    seen = Probes()

    def client(i: int) -> None:
        if not stop.wait(delay):
            probe(port, f"{prefix}-{i}", stop, load.probe_interval, seen)

    clients = [threading.Thread(target=client, args=(i,)) for i in range(load.probe_clients)]
    for c in clients:
        c.start()
    try:
        yield seen
    finally:
        stop.set()
        for c in clients:
            c.join()


def throughput_once(config: Config, load: Load, tag: str) -> dict[str, Any]:
    busy = cpu_busy()
    with running_server(config) as port:
        run_wrk(port, 80, f"warm{tag}", 1, load.connections)
        return {**run_wrk(port, 80, f"bench{tag}", load.duration, load.connections), "busy": busy}


def stall_once(config: Config, load: Load, tag: str) -> dict[str, Any]:
    busy = cpu_busy()
    with running_server(config) as port:
        with probing(port, f"warm{tag}", load):
            time.sleep(0.5)
        with probing(port, f"idle{tag}", load) as idle:
            time.sleep(3)
        with probing(port, f"busy{tag}", load, delay=1) as under_load:
            # the probes stop when wrk does; the first second (wrk starting) is not counted
            heavy = run_wrk(port, 1024, f"big{tag}", load.duration, load.stall_connections)
    return {
        "idle": idle.ms,
        "busy_ms": under_load.ms,
        "refused": idle.refused + under_load.refused,
        "big": heavy,
        "busy": busy,
    }


def summarise(latencies: list[float]) -> dict[str, float]:
    if not latencies:  # every probe refused
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {
        "n": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(r[key] for r in runs)), 2)


def throughput_row(config: Config, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over rounds, with every round's req/s and the machine's busy % before it."""
    return {
        **config.describe(),
        "rps": _median(runs, "rps"),
        "ok_rps": _median(runs, "ok_rps"),
        "p50_ms": _median(runs, "p50_ms"),
        "p99_ms": _median(runs, "p99_ms"),
        "errors": sum(r["errors"] for r in runs),
        "rps_rounds": [r["rps"] for r in runs],
        "cpu_busy_before_pct": [r["busy"] for r in runs],
    }


def stall_row(config: Config, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Probe latencies pooled over rounds; the 1024 px load's figures as medians."""
    bigs = [r["big"] for r in runs]
    return {
        **config.describe(),
        "idle": summarise([ms for r in runs for ms in r["idle"]]),
        "busy": summarise([ms for r in runs for ms in r["busy_ms"]]),
        "refused": sum(r["refused"] for r in runs),
        "big_rps": _median(bigs, "rps"),
        "big_p99_ms": _median(bigs, "p99_ms"),
        "big_errors": sum(b["errors"] for b in bigs),
        "cpu_busy_before_pct": [r["busy"] for r in runs],
    }


Runs = dict[Config, list[dict[str, Any]]]


def in_rounds(
    configs: tuple[Config, ...],
    rounds: int,
    once: Callable[[Config, Load, str], dict[str, Any]],
    load: Load,
    part: str,
) -> Runs:
    """Run `once(config, load, tag)` for every config, `rounds` times, taking turns."""
    runs: Runs = {c: [] for c in configs}
    for n in range(rounds):
        for config in configs:
            print(f"  {part} round {n + 1}/{rounds}: {config.label} ...", flush=True)
            runs[config].append(once(config, load, f"{n}"))
    return runs


def bench_throughput(load: Load, rounds: int) -> list[dict[str, Any]]:
    runs = in_rounds(THROUGHPUT_CONFIGS, rounds, throughput_once, load, "throughput")
    return [throughput_row(c, r) for c, r in runs.items()]


def bench_stall(load: Load, rounds: int) -> list[dict[str, Any]]:
    runs = in_rounds(STALL_CONFIGS, rounds, stall_once, load, "stall")
    return [stall_row(c, r) for c, r in runs.items()]
