"""What the scenarios share: the checks they record, probes of the servers, one-shot requests."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.servers import tree_rss

from . import integrity
from .load import Key, Results, Sample, path_for
from .profile import PROFILE
from .report import report_path, write_entry

# Load comes from one address: the frontend's per-client rate limit would refuse most of it.
# (Its own tests are elsewhere; an unknown variable is ignored by services that predate it.)
BASE_ENV = {"RATE_LIMIT": "0"}


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def rss_mib(pid: int) -> float:
    """RSS of a service: its main process and its granian workers."""
    return mib(tree_rss(pid))


def metrics(url: str) -> dict[str, float]:
    """The service's /metrics as {'name{labels}': value} (comments dropped)."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def metric(values: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for key, value in values.items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if all(found.get(k) == v for k, v in labels.items()):
            total += value
    return total


def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.05
) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `timeout`."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if condition():
                return time.perf_counter() - start
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(interval)
    return None


def ready_status(url: str) -> int:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code
    except httpx.HTTPError:
        return 0


class Poller:
    """Asks `url` every `interval` seconds in a thread: [(perf_counter, status)], 0 = no answer."""

    def __init__(self, url: str, interval: float = 0.1) -> None:
        self.url, self.interval = url, interval
        self.seen: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with httpx.Client(timeout=2) as client:
            while not self._stop.is_set():
                try:
                    status = client.get(self.url).status_code
                except httpx.HTTPError:
                    status = 0
                self.seen.append((time.perf_counter(), status))
                self._stop.wait(self.interval)

    def first(self, status: int, after: float) -> float | None:
        """When `status` was first seen after `after` (perf_counter), or None."""
        return next((t for t, s in self.seen if t >= after and s == status), None)


def one_shot(base_url: str, key: Key, timeout: float = 30.0) -> Sample:
    """One request on its own connection (`Connection: close`), read to the end."""
    parts = urlsplit(base_url)
    start = time.perf_counter()
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
            request = f"GET {path_for(key)} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        return Sample(key, False, start, time.perf_counter() - start, 0, type(exc).__name__)
    latency = time.perf_counter() - start
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head:
        return Sample(key, False, start, latency, 0, "closed without an answer")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    status = int(lines[0].split(" ", 2)[1])
    return Sample.answered(key, False, start, latency, status, body, headers)


def _dechunk(data: bytes) -> bytes:
    out = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(data[:size])
        data = data[size + 2 :]
    return b"".join(out)


def fire(base_url: str, keys: Iterable[Key]) -> tuple[list[Sample], Callable[[], None]]:
    """Sends one request per key at once, each on its own connection, in threads.

    Returns the list the samples land in and a function that waits for all of them."""
    samples: list[Sample] = []
    threads = [
        threading.Thread(target=lambda k=k: samples.append(one_shot(base_url, k)), daemon=True)
        for k in keys
    ]
    for t in threads:
        t.start()

    def join() -> None:
        for t in threads:
            t.join(60)

    return samples, join


@dataclass
class Scenario:
    """One scenario's record: its checks (problems), figures, and its entry in the report."""

    name: str
    title: str
    fault: str  # what was injected, in a few words (the table)
    injected: str  # ... in full (the details)
    load: str
    rerun: str = ""
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rss: dict[str, list[float]] = field(default_factory=dict)
    # Other work on the machine shows in the latencies: the 1-minute load average around it.
    load_average: list[float] = field(default_factory=lambda: [round(os.getloadavg()[0], 2)])

    def check(self, condition: bool, problem: str) -> bool:
        if not condition:
            self.problems.append(problem)
        return condition

    def note(self, text: str) -> None:
        self.notes.append(text)

    def integrity(self, samples: Iterable[Sample]) -> integrity.Integrity:
        result = integrity.check(samples)
        self.figures["integrity"] = result.as_dict()
        self.check(
            result.ok,
            f"integrity: {result.mismatches} wrong bodies, {result.inconsistent_keys} keys "
            f"with differing bodies, {result.wrong_content_type} wrong content types: "
            + "; ".join(result.examples[:3]),
        )
        return result

    def finish(self, results: Results | None, summary: dict[str, Any] | None = None) -> None:
        """Writes the entry (even when a check failed), then fails the test on any problem."""
        summary = summary or (results.summary() if results else {})
        entry: dict[str, Any] = {
            "title": self.title,
            "profile": PROFILE.name,
            "load": self.load,
            "fault": self.fault,
            "injected": self.injected,
            **summary,
            "mismatches": self.figures.get("integrity", {}).get("mismatches"),
            "rss_mib": self.rss,
            "figures": self.figures,
            "load_average_1min": [*self.load_average, round(os.getloadavg()[0], 2)],
            "notes": " ".join(self.notes),
            "passed": not self.problems,
            "problems": self.problems,
            "rerun": self.rerun,
        }
        path = write_entry(self.name, entry)
        assert not self.problems, (
            f"{self.title}: " + "\n  ".join(["", *self.problems]) + f"\n(figures in {path})"
        )


def describe_load(clients: int, seconds: float, miss_ratio: float = PROFILE.miss_ratio) -> str:
    return (
        f"{clients} clients, {seconds:g} s, {round(miss_ratio * 100)}% fresh names, "
        "32/80/128 px, png/svg/webp"
    )


__all__ = ["BASE_ENV", "PROFILE", "Poller", "Scenario", "report_path"]
