"""`monsterstack up`: every service of the stack on this machine, no Docker needed.

Each service runs as its own `monsterstack serve` process, as it would in its own container;
their logs are streamed with a prefix, and Ctrl-C (or SIGTERM) stops them all cleanly. The
frontend uses its in-process cache unless REDIS_URL/REDIS_DOMAIN is set, or `--redis` starts
a local redis-server; `--monitoring` a local Prometheus scraping both services
(monsterstack.monitoring writes its config).
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .processes import ProcessExited, http_ok, redis_answers, stop, wait_until

COLOURS = {
    "imagebackend": "\033[35m",
    "frontend": "\033[36m",
    "redis": "\033[31m",
    "prometheus": "\033[33m",
}


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _pump(name: str, stream: IO[bytes]) -> None:
    colour = COLOURS.get(name, "") if sys.stdout.isatty() else ""
    reset = "\033[0m" if colour else ""
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{colour}{name:>12} |{reset} {line.decode(errors='replace')}")
        sys.stdout.flush()


def start(name: str, argv: list[str], env: dict[str, str]) -> Child:
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
    return Child(name, process)


def ready(
    child: Child, check: Callable[[], bool], timeout: float = 60.0, what: str | None = None
) -> bool:
    """Waits until `check` passes; False (said on stderr) if the child exits or times out."""
    try:
        wait_until(check, child.process, timeout=timeout, what=what or child.name)
    except (ProcessExited, TimeoutError) as exc:
        print(f"monsterstack up: {exc}", file=sys.stderr)
        return False
    return True


def stop_all(children: list[Child], grace: float = 20.0) -> None:
    """SIGTERM the services in reverse start order, each given time to drain."""
    for child in reversed(children):
        stop(child.process, grace)


def _redis(host: str, port: int, workdir: str) -> list[str]:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit(
            "monsterstack up --redis: redis-server is not installed (apt-get install redis-server)"
        )
    # A cache: no persistence, bounded memory, least-recently-used eviction.
    return [
        server, "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no",
        "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru", "--dir", workdir,
    ]  # fmt: skip


def up(args: argparse.Namespace) -> int:
    env = {**os.environ, "CONTEXT": os.environ.get("CONTEXT", "DEV"), "PYTHONUNBUFFERED": "1"}
    for inherited in ("HOST", "PORT"):  # each child gets its own
        env.pop(inherited, None)
    me = [sys.executable, "-m", "monsterstack.cli", "serve"]
    children: list[Child] = []
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    host = args.host
    with tempfile.TemporaryDirectory(prefix="monsterstack-up-") as workdir:
        try:
            if args.redis:
                redis = start("redis", _redis(host, args.redis_port, workdir), env)
                children.append(redis)
                if not ready(redis, lambda: redis_answers(args.redis_port, host), 20):
                    return 1
                env["REDIS_URL"] = f"redis://{host}:{args.redis_port}/0"
            backend_env = {**env, "HOST": host, "PORT": str(args.backend_port)}
            backend = start("imagebackend", [*me, "imagebackend"], backend_env)
            children.append(backend)
            front_env = {
                **env,
                "HOST": host,
                "PORT": str(args.port),
                "IMAGEBACKEND_DOMAIN": f"{host}:{args.backend_port}",
            }
            frontend = start("frontend", [*me, "frontend"], front_env)
            children.append(frontend)
            base = f"http://{host}:{args.port}"
            for child, url in ((backend, f"http://{host}:{args.backend_port}"), (frontend, base)):
                if not ready(child, functools.partial(http_ok, f"{url}/readyz")):
                    return 1
            extra = ""
            if args.monitoring:
                from .monitoring import graph_url, local_prometheus

                services = {
                    "imagebackend": [f"{host}:{args.backend_port}"],
                    "frontend": [f"{host}:{args.port}"],
                }
                argv, prom_url = local_prometheus(
                    Path(workdir), host, args.prometheus_port, services
                )
                prometheus = start("prometheus", argv, env)
                children.append(prometheus)
                if not ready(prometheus, functools.partial(http_ok, f"{prom_url}/-/ready")):
                    return 1
                extra = f"  prometheus: {prom_url}/   versions: {graph_url(prom_url)}\n"
            cache = "redis" if "REDIS_URL" in env or "REDIS_DOMAIN" in env else "in-process"
            print(
                f"\n  monsterstack is up: {base}/   (cache: {cache}; Ctrl-C stops it)\n{extra}",
                flush=True,
            )
            while not stopping.is_set():
                dead = [c.name for c in children if c.process.poll() is not None]
                if dead:
                    print(f"monsterstack up: {', '.join(dead)} exited; stopping", file=sys.stderr)
                    return 1
                stopping.wait(0.5)
            return 0
        finally:
            stop_all(children)
