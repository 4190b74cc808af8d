"""The bounded request loop and the live terminal chart.

Requests leave on a fixed schedule (open loop: a slow answer never delays the next request,
so a stalled service shows as timeouts, not as a quieter chart), each on a new connection as
the course's `curl` does, so a Kubernetes Service spreads them over its pods. Every request
ends within the timeout; the loop ends after the duration (or Ctrl-C), then waits for the
requests still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from .timeline import ERROR, NO_HEADER, TIMEOUT, Bucket, Sample, Timeline

VERSION_HEADER = "x-monsterstack-version"
MAX_RATE = 200.0  # requests per second: a watch, not a load test
MAX_DURATION = 3600.0
MAX_TIMEOUT = 30.0
WIDTH = 40  # chart cells for the expected requests of one second

GLYPHS = "█▓▒░#="
COLOURS = ("\033[32m", "\033[36m", "\033[35m", "\033[34m", "\033[33m", "\033[37m")
FAIL_GLYPHS = {ERROR: "x", TIMEOUT: "·"}
FAIL_COLOURS = {ERROR: "\033[31m", TIMEOUT: "\033[33m"}
RESET = "\033[0m"


@dataclass(frozen=True)
class WatchOptions:
    url: str
    rate: float = 10.0
    duration: float = 60.0
    timeout: float = 1.0
    headers: Sequence[tuple[str, str]] = ()

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"the URL must start with http:// or https://, got {self.url!r}")
        if not 0 < self.rate <= MAX_RATE:
            raise ValueError(f"rate must be above 0 and at most {MAX_RATE:g} requests/s")
        if not 0 < self.duration <= MAX_DURATION:
            raise ValueError(f"duration must be above 0 and at most {MAX_DURATION:g} s")
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"timeout must be above 0 and at most {MAX_TIMEOUT:g} s")

    @property
    def requests(self) -> int:
        return max(1, math.floor(self.rate * self.duration))


@dataclass
class LiveChart:
    """One line per second: a bar of that second's answers by version, then errors and
    timeouts, scaled so the expected requests of one second fill WIDTH cells."""

    rate: float
    write: Callable[[str], object]
    colour: bool = False
    versions: list[str] = field(default_factory=list)

    def _style(self, outcome: str) -> tuple[str, str]:
        if outcome in FAIL_GLYPHS:
            return FAIL_GLYPHS[outcome], FAIL_COLOURS[outcome]
        i = self.versions.index(outcome)
        return GLYPHS[i % len(GLYPHS)], COLOURS[i % len(COLOURS)]

    def _paint(self, text: str, colour: str) -> str:
        return f"{colour}{text}{RESET}" if self.colour else text

    def header(self, options: WatchOptions) -> None:
        self.write(
            f"watching {options.url}: {options.rate:g} requests/s for {options.duration:g}s, "
            f"timeout {options.timeout:g}s (Ctrl-C stops early)\n"
            f"one line per second; {WIDTH} cells = {options.rate:g} answers; "
            f"{FAIL_GLYPHS[ERROR]} error, {FAIL_GLYPHS[TIMEOUT]} timeout\n"
        )

    def line(self, bucket: Bucket, at_most: float | None = None) -> None:
        for version in sorted(bucket.versions(), key=lambda v: (-bucket.counts[v], v)):
            if version not in self.versions:
                self.versions.append(version)
                glyph, colour = self._style(version)
                self.write(
                    f"      new version {self._paint(version, colour)} "
                    f"({self._paint(glyph * 2, colour)}) in second {bucket.second}\n"
                )
        order = [*self.versions, ERROR, TIMEOUT]
        bar, legend = "", []
        scale = WIDTH / max(self.rate, 1e-9)
        for outcome in order:
            n = bucket.counts.get(outcome, 0)
            if not n:
                continue
            glyph, colour = self._style(outcome)
            bar += self._paint(glyph * max(1, round(n * scale)), colour)
            legend.append(f"{self._paint(outcome, colour)} {n}")
        cells = sum(max(1, round(bucket.counts.get(o, 0) * scale)) for o in bucket.counts)
        pad = " " * max(0, WIDTH - cells)
        text = "  ".join(legend) if legend else "no answers"
        self.write(f"{bucket.second:>5}s |{bar}{pad}| {text}\n")


async def _one(client: httpx.AsyncClient, options: WatchOptions, sent: float) -> Sample:
    start = time.monotonic()
    try:
        response = await asyncio.wait_for(client.get(options.url), options.timeout)
    except (TimeoutError, httpx.TimeoutException):
        return Sample(sent, time.monotonic() - start, TIMEOUT, "no answer in time")
    except httpx.HTTPError as exc:
        return Sample(sent, time.monotonic() - start, ERROR, type(exc).__name__)
    latency = time.monotonic() - start
    if response.status_code >= 400:
        return Sample(sent, latency, ERROR, str(response.status_code))
    return Sample(sent, latency, response.headers.get(VERSION_HEADER, NO_HEADER))


async def watch(
    options: WatchOptions,
    chart: LiveChart | None = None,
    stop: asyncio.Event | None = None,
) -> Timeline:
    """Runs the watch; the chart (if any) gets each second once all its requests ended."""
    timeline = Timeline()
    stop = stop or asyncio.Event()
    pending: dict[int, int] = {}  # second -> requests sent in it still in flight
    seconds: dict[int, Bucket] = {}
    printed = 0
    limits = httpx.Limits(
        max_connections=math.ceil(options.rate * options.timeout) + 8,
        max_keepalive_connections=0,  # a new connection each time, as `curl` in a loop
    )
    headers = {"connection": "close", "user-agent": "monsterstack-rollout-watch"}
    headers.update(dict(options.headers))
    tasks: set[asyncio.Task[None]] = set()
    clock0 = time.monotonic()

    def flush(until: float) -> None:
        nonlocal printed
        while printed < until and pending.get(printed, 0) == 0:
            if chart is not None:
                chart.line(seconds.get(printed, Bucket(printed)))
            printed += 1

    async def record(client: httpx.AsyncClient, sent: float) -> None:
        sample = await _one(client, options, sent)
        timeline.add(sample)
        second = math.floor(sent)
        seconds.setdefault(second, Bucket(second)).counts[sample.outcome] += 1
        pending[second] -= 1

    async with httpx.AsyncClient(
        timeout=httpx.Timeout(options.timeout), limits=limits, headers=headers
    ) as client:
        for i in range(options.requests):
            due = clock0 + i / options.rate
            while (now := time.monotonic()) < due and not stop.is_set():
                flush(now - clock0 - 1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(due - now, 0.05))
            if stop.is_set():
                break
            sent = time.monotonic() - clock0
            pending[math.floor(sent)] = pending.get(math.floor(sent), 0) + 1
            task = asyncio.create_task(record(client, sent))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        end = time.monotonic() - clock0
        while tasks:
            flush(time.monotonic() - clock0 - 1)
            await asyncio.wait(set(tasks), timeout=0.05)
    last = max((s.sent for s in timeline.samples), default=end)
    flush(math.floor(last) + 1)
    return timeline


def run(options: WatchOptions, write: Callable[[str], object] | None = None) -> Timeline:
    """The watch from synchronous code, Ctrl-C ending it early (the report still comes)."""
    out = write or _stdout
    chart = LiveChart(options.rate, out, colour=write is None and sys.stdout.isatty())
    chart.header(options)

    async def main() -> Timeline:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        return await watch(options, chart, stop)

    return asyncio.run(main())


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
