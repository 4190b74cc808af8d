"""Real servers for tests: each service as its own process on an ephemeral 127.0.0.1 port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from monsterstack.processes import free_port as free_port
from monsterstack.processes import http_ok, redis_answers, stop, wait_until


@dataclass
class ServiceProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait: the exit code (the test decides what it should be)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def wait_ready(
    url: str,
    process: subprocess.Popen[bytes],
    timeout: float = 30.0,
    *,
    log: Path | None = None,
    what: str | None = None,
) -> None:
    """Until a service answers /readyz with 200."""
    ready = partial(http_ok, f"{url}/readyz")
    wait_until(ready, process, timeout=timeout, what=what or url, log=log)


@contextmanager
def serve(
    service: str,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    *args: str,
    port: int | None = None,
) -> Iterator[ServiceProcess]:
    """`monsterstack serve SERVICE` on `port` (default: a free one); stopped and reaped on exit."""
    port = port or free_port()
    log = tmp_path / f"{service}-{port}.log"
    # One worker unless a test asks for more: the imagebackend's default is one per CPU, and a
    # test reading /metrics must see the one process that counted its requests.
    base = {"CONTEXT": "DEV", "PYTHONUNBUFFERED": "1", "WORKERS": "1"}
    full_env = {**os.environ, **base, **(env or {})}
    argv = [sys.executable, "-m", "monsterstack.cli", "serve", service]
    argv += ["--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    proc = ServiceProcess(service, port, process, log)
    try:
        wait_ready(proc.url, process, log=log, what=service)
        yield proc
    finally:
        stop(process)


@contextmanager
def frontend_stack(
    tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """(imagebackend, frontend) as real processes, the frontend using that imagebackend and
    `env` besides (e.g. RATE_LIMIT=0 for tests that send many requests from one address)."""
    with serve("imagebackend", tmp_path) as backend:
        domain = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}"}
        with serve("frontend", tmp_path, {**domain, **(env or {})}) as frontend:
            yield backend, frontend


@dataclass
class RedisProcess:
    port: int
    process: subprocess.Popen[bytes]
    argv: list[str]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def restart(self) -> None:
        """Start again on the same port (after kill), as a restarted pod would be."""
        self.process = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL)
        wait_redis(self.port, self.process)


def wait_redis(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    # NOAUTH counts as up: redis_server(password=...) has one.
    wait_until(partial(redis_answers, port), process, timeout=timeout, what="redis-server")


@contextmanager
def redis_server(tmp_path: Path, password: str | None = None) -> Iterator[RedisProcess]:
    """A real redis-server on an ephemeral port (with `--requirepass` when given a password;
    `url` never holds it). Missing redis-server is an error, never a skip: scripts/test
    installs it (apt-get) on a fresh machine."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run scripts/test (it installs it)")
    port = free_port()
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(tmp_path)]
    if password is not None:
        argv += ["--requirepass", password]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    proc = RedisProcess(port, process, argv)
    try:
        wait_redis(port, process)
        yield proc
    finally:
        stop(proc.process, 10)


# Process trees: granian serves from worker processes forked by the main one, so a service's
# memory is the sum over its tree, and a crash is every process of the tree dying at once.


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants alive now (from /proc), parents first."""
    if not Path(f"/proc/{pid}").exists():
        return []
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name (2nd field) may hold spaces and parentheses: split after it.
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        tree.append(current)
        todo.extend(sorted(children.get(current, [])))
    return tree


def tree_rss(pid: int) -> int:
    """Resident memory of `pid` and its descendants, in bytes (VmRSS from /proc)."""
    total = 0
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def find_descendant(pid: int, *words: str) -> int:
    """The first descendant of `pid` whose command line holds all `words` (as arguments)."""
    for p in process_tree(pid)[1:]:
        try:
            argv = Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if all(w in argv for w in words):
            return p
    raise LookupError(f"no process {' '.join(words)!r} under {pid}")


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> list[int]:
    """Sends `sig` to `pid` and every descendant (a crashed container: all of it at once)."""
    pids = process_tree(pid)
    for p in pids:
        with suppress(ProcessLookupError):
            os.kill(p, sig)
    return pids
