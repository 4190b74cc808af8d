"""What a watch saw: one sample per request, grouped into seconds, gaps, and the summary.

Pure data and arithmetic (no I/O), so the report is tested on made-up timelines too.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

ERROR = "error"  # an HTTP error status, or no connection at all
TIMEOUT = "timeout"  # no complete answer within the timeout
NO_HEADER = "(no version header)"  # answered 2xx/3xx without X-Monsterstack-Version


@dataclass(frozen=True, slots=True)
class Sample:
    sent: float  # seconds since the watch started, when the request was sent
    latency: float  # seconds until the answer (or the failure)
    outcome: str  # the version that answered, or ERROR / TIMEOUT
    detail: str = ""  # for failures: the status code or the exception's name

    @property
    def ok(self) -> bool:
        return self.outcome not in (ERROR, TIMEOUT)


@dataclass
class Bucket:
    """One second of the watch: the answers sent in it, by outcome."""

    second: int
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def versions(self) -> dict[str, int]:
        return {k: v for k, v in self.counts.items() if k not in (ERROR, TIMEOUT)}


@dataclass(frozen=True, slots=True)
class Gap:
    """Requests in a row that all failed: the service was down for users meanwhile."""

    start: float  # the last success before it (or the first failure, at the very start)
    end: float  # the first success after it (or the last failure, at the very end)
    failed: int

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: str
    responses: int
    share: float  # of all requests
    first: float
    last: float


@dataclass
class Timeline:
    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def ordered(self) -> list[Sample]:
        return sorted(self.samples, key=lambda s: s.sent)

    def versions(self) -> list[str]:
        """Every version seen, in the order each first answered."""
        seen: dict[str, None] = {}
        for s in self.ordered():
            if s.ok:
                seen.setdefault(s.outcome, None)
        return list(seen)

    def buckets(self, seconds: int | None = None) -> list[Bucket]:
        """One bucket per second (by send time), empty seconds included."""
        last = max((s.sent for s in self.samples), default=0.0)
        n = seconds if seconds is not None else math.floor(last) + 1
        out = [Bucket(i) for i in range(max(n, 0))]
        for s in self.samples:
            i = math.floor(s.sent)
            if 0 <= i < len(out):
                out[i].counts[s.outcome] += 1
        return out

    def gaps(self) -> list[Gap]:
        """Every run of consecutive failed requests (by send order)."""
        out: list[Gap] = []
        ordered = self.ordered()
        last_ok: float | None = None
        run: list[Sample] = []
        for s in ordered:
            if s.ok:
                if run:
                    began = last_ok if last_ok is not None else run[0].sent
                    out.append(Gap(began, s.sent, len(run)))
                    run = []
                last_ok = s.sent
            else:
                run.append(s)
        if run:
            out.append(Gap(last_ok if last_ok is not None else run[0].sent, run[-1].sent, len(run)))
        return out

    def rows(self) -> list[VersionRow]:
        total = len(self.samples) or 1
        rows = []
        for version in self.versions():
            sent = [s.sent for s in self.samples if s.outcome == version]
            rows.append(VersionRow(version, len(sent), len(sent) / total, min(sent), max(sent)))
        return rows

    def failures(self) -> Counter[str]:
        """ERROR / TIMEOUT counts."""
        return Counter(s.outcome for s in self.samples if not s.ok)

    def failure_details(self) -> Counter[str]:
        return Counter(f"{s.outcome}: {s.detail}" for s in self.samples if not s.ok)

    def switch(self) -> tuple[float, float] | None:
        """(first answer of the last version, last answer of any other): the overlap, when
        two versions answered side by side (negative: a gap between them)."""
        versions = self.versions()
        if len(versions) < 2:
            return None
        newest = versions[-1]
        first_new = min(s.sent for s in self.samples if s.outcome == newest)
        last_old = max(s.sent for s in self.samples if s.ok and s.outcome != newest)
        return first_new, last_old

    def latency_quantile(self, q: float) -> float | None:
        values = sorted(s.latency for s in self.samples if s.ok)
        if not values:
            return None
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]

    def summary(self) -> str:
        """The table printed at the end of a watch."""
        n = len(self.samples)
        lines = [f"{n} requests", ""]
        header = f"  {'version':<24} {'responses':>9} {'share':>7} {'first':>8} {'last':>8}"
        lines += [header, "  " + "-" * (len(header) - 2)]
        for r in self.rows():
            lines.append(
                f"  {r.version:<24} {r.responses:>9} {r.share:>7.1%} "
                f"{r.first:>7.1f}s {r.last:>7.1f}s"
            )
        failures = self.failures()
        for kind in (ERROR, TIMEOUT):
            count = failures.get(kind, 0)
            lines.append(f"  {kind + 's':<24} {count:>9} {count / (n or 1):>7.1%}")
        details = self.failure_details()
        if details:
            lines.append("")
            lines.append("  failures: " + ", ".join(f"{k} x{v}" for k, v in details.most_common()))
        gaps = self.gaps()
        lines.append("")
        if gaps:
            longest = max(gaps, key=lambda g: g.seconds)
            down = sum(g.seconds for g in gaps)
            lines.append(
                f"  gaps: {len(gaps)} (no successful answer for {down:.1f}s in all; the longest "
                f"{longest.seconds:.1f}s, from {longest.start:.1f}s to {longest.end:.1f}s, "
                f"{longest.failed} requests failed)"
            )
        else:
            lines.append("  gaps: none (every request got an answer)")
        switch = self.switch()
        if switch is not None:
            first_new, last_old = switch
            both = last_old - first_new
            how = (
                f"both answered for {both:.1f}s"
                if both >= 0
                else f"{-both:.1f}s between the last old and the first new answer"
            )
            lines.append(
                f"  switch: {self.versions()[-1]} first answered at {first_new:.1f}s, "
                f"the others last at {last_old:.1f}s ({how})"
            )
        p50, p99 = self.latency_quantile(0.5), self.latency_quantile(0.99)
        if p50 is not None and p99 is not None:
            lines.append(f"  latency of answers: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
        return "\n".join(lines)
