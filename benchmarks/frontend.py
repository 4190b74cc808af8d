"""The frontend (issue 3): a cache hit beside nginx serving the same bytes, and its memory.

Hit: `GET /monster/{name}?size=120`, one name asked over and over, answered from the cache by
`monsterstack serve frontend --workers 1` (with Redis, without, and with Redis but no
in-process tier), and by nginx (`worker_processes 1`) serving the same PNG as a static file.
Every server process runs on core 0 (`taskset -c 0`), wrk on core 1.

Memory: the frontend worker's RSS before and after 100,000 requests over 10,000 names, and
after 100,000 more (a leak keeps growing; a bounded cache levels off).

The services run from compiled modules, as in the image (`UV_COMPILE_BYTECODE=1`): here in
PYCACHE (PYTHONPYCACHEPREFIX), so the environment is left alone. A worker that compiles
every module from source at import instead keeps up to 13 MiB more (77 MiB, not 64, with
Redis).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

from monsterstack.processes import free_port, redis_answers, wait_until

from .httpbench import HOST, monsterstack_program, stop, wait_ready
from .machine import cpu_busy

SERVER_CPU, CLIENT_CPU = "0", "1"
PYCACHE = Path(tempfile.gettempdir()) / "monsterstack-bench-pycache"
HIT_NAME = "nginx-and-me"  # the one picture of the hit benchmark
HIT_PATH = f"/monster/{HIT_NAME}?size=120"
NGINX = "nginx, static file"
# Variables the services read that must come from here, not from the caller's environment.
SERVICE_VARIABLES = (
    *("PROMETHEUS_MULTIPROC_DIR", "REDIS_URL", "REDIS_DOMAIN", "CACHE_MAX_BYTES"),
    *("IMAGEBACKEND_DOMAIN", "INLINE_RENDER_MAX_PIXELS", "WORKERS", "PORT"),
    "PYTHONDONTWRITEBYTECODE",
)

LOOKUPS = r'^monsterstack_cache_lookups_total\{result="(\w+)"\} ([\d.e+]+)'
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    default_type image/png;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen {host}:{port};
        root {tmp}/www;
    }}
}}
"""


def pinned(argv: list[str], cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if cpu else argv


def spawn(stack: contextlib.ExitStack, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
    """Start a process that the stack stops (SIGTERM, then SIGKILL) when it closes."""
    proc = subprocess.Popen(argv, **kw)
    stack.callback(stop, proc)
    return proc


def start_redis(stack: contextlib.ExitStack, tmp: Path, cpu: str | None = None) -> str:
    port = free_port()
    argv = ["redis-server", "--bind", HOST, "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(tmp)]
    proc = spawn(stack, pinned(argv, cpu), stdout=subprocess.DEVNULL)
    wait_until(partial(redis_answers, port), proc, timeout=15, what="redis-server")
    return f"redis://{HOST}:{port}/0"


def start_service(
    stack: contextlib.ExitStack,
    service: str,
    workers: int,
    env: dict[str, str],
    cpu: str | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """`monsterstack serve SERVICE` on a free port, ready: the process and its port."""
    port = free_port()
    argv = [monsterstack_program(), "serve", service, "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(workers)]
    full_env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    # wrk is one client address: rate limiting is off unless a configuration turns it on.
    full_env |= {"LOG_LEVEL": "warning", "PYTHONPYCACHEPREFIX": str(PYCACHE), "RATE_LIMIT": "0"}
    full_env |= env
    proc = spawn(stack, pinned(argv, cpu), env=full_env)
    wait_ready(port, proc)
    return proc, port


def start_nginx(stack: contextlib.ExitStack, tmp: Path, path: str, body: bytes) -> int:
    """nginx serving `body` at `path` (query strings are ignored for static files)."""
    port = free_port()
    file = tmp / "www" / path.lstrip("/").split("?")[0]
    file.parent.mkdir(parents=True)
    file.write_bytes(body)
    for p in (tmp, tmp / "www", file.parent):  # nginx's worker runs as nobody when we are root
        p.chmod(0o755)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, host=HOST, port=port))
    argv = ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]
    proc = spawn(stack, pinned(argv, SERVER_CPU))

    def serving() -> bool:
        return get(port, path) == body

    wait_until(serving, proc, timeout=15, what=f"nginx serving {path}", log=tmp / "error.log")
    return port


def get(port: int, path: str) -> bytes | None:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as r,
    ):
        return bytes(r.read())
    return None


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.M)
    if match is None:
        raise RuntimeError(f"no {pattern!r} in wrk's output:\n{text}")
    return match[1]


def _ms(latency: str) -> float:
    """wrk's "812.00us", "1.23ms", "2.01s" in ms."""
    number = float(latency.rstrip("mus"))
    return number * {"us": 1e-3, "ms": 1.0, "s": 1e3}[latency.lstrip("0123456789.")]


def wrk_fixed(port: int, path: str, duration: float, connections: int) -> dict[str, float]:
    """wrk (on the client core) asking one URL over and over; req/s and latency in ms."""
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration:g}s", "--latency"]
    cmd = pinned([*cmd, "--timeout", "10s", f"http://{HOST}:{port}{path}"], CLIENT_CPU)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    socket_errors = re.findall(r"Socket errors: (.*)", out)  # both only when some occurred
    non_2xx = re.findall(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(_found(r"Requests/sec:\s+([\d.]+)", out)),
        "p50_ms": round(_ms(_found(r"^\s+50%\s+(\S+)$", out)), 3),
        "p99_ms": round(_ms(_found(r"^\s+99%\s+(\S+)$", out)), 3),
        "errors": sum(int(n) for n in re.findall(r"\d+", " ".join(socket_errors + non_2xx))),
    }


UNREACHED_LIMIT = {"RATE_LIMIT": "100000", "RATE_LIMIT_BURST": "1000000"}
PRODUCTION = "frontend + Redis, rate limited (production path)"


def hit_configs(redis_url: str) -> dict[str, dict[str, str]]:
    """Frontend configurations of the hit benchmark: label -> environment. The rate limiter's
    budget is one wrk never exhausts, so every request takes a token and none is refused."""
    redis = {"REDIS_URL": redis_url}
    return {
        PRODUCTION: {**redis, **UNREACHED_LIMIT},
        "frontend + Redis, rate limiter off": redis,
        "frontend, no Redis, rate limited (in-process buckets)": UNREACHED_LIMIT,
        "frontend, no Redis, rate limiter off": {},
        "frontend + Redis, limiter off, CACHE_MAX_BYTES=0 (every hit a Redis GET)": {
            **redis,
            "CACHE_MAX_BYTES": "0",
        },
    }


def bench_hit(duration: float, connections: int, rounds: int) -> list[dict[str, Any]]:
    """Every server started once; then, round after round, wrk on each in turn."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-frontend-")))
        _, backend = start_service(stack, "imagebackend", 1, {})  # idle once the cache is warm
        redis_url = start_redis(stack, tmp, SERVER_CPU)
        backend_env = {"IMAGEBACKEND_DOMAIN": f"{HOST}:{backend}"}
        ports = {
            label: start_service(stack, "frontend", 1, {**backend_env, **env}, SERVER_CPU)[1]
            for label, env in hit_configs(redis_url).items()
        }
        bodies = [get(port, HIT_PATH) for port in ports.values()]  # warms every cache
        body = bodies[0]
        if body is None or bodies.count(body) != len(bodies):
            raise RuntimeError("the frontends did not all answer the same picture")
        ports = {NGINX: start_nginx(stack, tmp, HIT_PATH, body), **ports}
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in ports}
        for n in range(rounds):
            for label, port in ports.items():
                print(f"  frontend hit round {n + 1}/{rounds}: {label} ...", flush=True)
                busy = cpu_busy()
                wrk_fixed(port, HIT_PATH, 1, connections)  # warm-up
                measured = wrk_fixed(port, HIT_PATH, duration, connections)
                runs[label].append({**measured, "busy": busy})
    nginx = statistics.median(r["rps"] for r in runs[NGINX])
    return [hit_row(label, r, nginx, len(body)) for label, r in runs.items()]


def hit_row(label: str, runs: list[dict[str, Any]], nginx_rps: float, size: int) -> dict[str, Any]:
    rps = statistics.median(r["rps"] for r in runs)
    return {
        "server": label,
        "bytes": size,
        "rps": round(rps, 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 3),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 3),
        "errors": sum(r["errors"] for r in runs),
        "of_nginx": round(rps / nginx_rps, 4),
        "rps_rounds": [round(r["rps"]) for r in runs],
        "cpu_busy_before_pct": [r["busy"] for r in runs],
    }


def memory_mib(pid: int) -> dict[str, float]:
    """A process's RSS, its peak (VmHWM) and its PSS (shared pages split among the processes
    sharing them, so main + worker PSS counts each page once), in MiB."""
    proc = Path(f"/proc/{pid}")
    text = (proc / "status").read_text() + (proc / "smaps_rollup").read_text()
    kib = dict(re.findall(r"^(VmRSS|VmHWM|Pss):\s+(\d+) kB", text, re.M))
    return {k: round(int(v) / 1024, 1) for k, v in kib.items()}


def worker_pid(main: int) -> int:
    """granian's worker: the one child of `monsterstack serve frontend --workers 1`."""
    children = Path(f"/proc/{main}/task/{main}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one worker under {main}, found {children}")
    return int(children[0])


def cycle(port: int, total: int, names: int, clients: int) -> dict[str, float]:
    """`total` GETs of /monster/name-{i % names}?size=80 from `clients` keep-alive clients."""
    errors: list[int] = []

    def client(first: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        for i in range(first, total, clients):
            try:
                conn.request("GET", f"/monster/name-{i % names}?size=80")
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()  # the next request connects again
                status = 0
            if status != 200:
                errors.append(status)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": round(total / (time.perf_counter() - start)), "errors": len(errors)}


def lookups(port: int) -> dict[str, int]:
    """The frontend's cache lookups so far, by result (from its /metrics)."""
    text = (get(port, "/metrics") or b"").decode()
    found = re.findall(LOOKUPS, text, re.M)
    return {result: int(float(n)) for result, n in found}


def memory_once(label: str, redis: bool, total: int, names: int, clients: int) -> dict[str, Any]:
    """Memory of the frontend's worker and main process at start and after each pass."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-frontend-")))
        _, backend = start_service(stack, "imagebackend", 2, {})
        env = {"IMAGEBACKEND_DOMAIN": f"{HOST}:{backend}"}
        if redis:
            env["REDIS_URL"] = start_redis(stack, tmp)
        frontend, port = start_service(stack, "frontend", 1, env)
        main, worker = frontend.pid, worker_pid(frontend.pid)
        row: dict[str, Any] = {"config": label, "passes": []}
        row |= {"worker_rss_mib": [], "main_rss_mib": [], "pss_mib": []}

        def measure() -> None:
            w, m = memory_mib(worker), memory_mib(main)
            row["worker_rss_mib"].append(w["VmRSS"])
            row["main_rss_mib"].append(m["VmRSS"])
            row["pss_mib"].append(round(w["Pss"] + m["Pss"], 1))
            row["worker_peak_mib"] = w["VmHWM"]

        measure()
        for n in range(2):
            print(f"  frontend memory, {label}: pass {n + 1}/2 ...", flush=True)
            before = lookups(port)
            done = cycle(port, total, names, clients)
            after = lookups(port)
            row["passes"].append({**done, "lookups": {k: after[k] - before[k] for k in after}})
            measure()
    return row


def bench_memory(total: int, names: int, clients: int) -> list[dict[str, Any]]:
    memory_once("short first run, compiles the modules into PYCACHE", True, 100, 10, 1)
    return [
        memory_once("frontend + Redis (4 MiB hot tier)", True, total, names, clients),
        memory_once("frontend, no Redis (24 MiB LRU)", False, total, names, clients),
    ]


def available() -> str | None:
    """What is missing to run this part, or None."""
    missing = [p for p in ("wrk", "nginx", "redis-server", "taskset") if not shutil.which(p)]
    if missing:
        return f"not installed: {', '.join(missing)} (scripts/bench installs them)"
    if (os.cpu_count() or 1) < 2:
        return "needs 2 cores (server on one, wrk on the other)"
    return None
