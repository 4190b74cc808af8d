"""A small closed-loop load generator: N clients, each sending one request after another.

Workload: a hot pool of names (cache hits once warmed) mixed with fresh unique names (misses),
a few sizes, three formats (PNG by default or with `.png`, `.svg`, `.webp` by the path suffix).
Every request is recorded: when it started, how long it took, its status (0: no HTTP answer),
the error if any, and the SHA-256 of each 200 body, keyed by (name, size, format), for the
integrity check (tests/reliability/integrity.py) to compare with the generator afterwards.

Two clients, one interface: `raw` speaks HTTP/1.1 over asyncio streams (keep-alive,
Content-Length and chunked bodies); `httpx` uses httpx.AsyncClient. Measured on the 2-core
machine against the frontend (16 clients, 8 s, hot pool only): raw 14,500 req/s (p99 2.1 ms)
using 5.4 CPU-seconds, ~21,000 requests per CPU-second of its own; httpx 700 req/s (p99
114 ms), ~700 per CPU-second: httpx itself was the bottleneck. With 20% misses: raw 1,550
req/s, httpx 520. So raw is the default: on two cores the load generator competes with the
servers it measures. `python -m tests.reliability.load URL --client httpx` compares again.

The load runs in its own thread with its own event loop (`LoadRun`), so a test injects faults
from its own thread with plain blocking calls while the clients keep going.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

FORMATS = ("png", "svg", "webp")
SIZES = (32, 80, 128)
# Names that travel badly: accents, CJK, emoji, a space, a slash (allowed in names), RTL,
# percent signs. All NFC and without surrounding spaces, so the name sent is the name drawn.
SPECIAL_NAMES = (
    "John Doe",
    "Émile Zola",
    "日本語の名前",
    "🐙 octopus",
    "a/b/c",
    "مرحبا",
    "100% sure",
    "dot.name",
    "semi;colon?and#hash",
)
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml", "webp": "image/webp"}


@dataclass(frozen=True, slots=True)
class Key:
    """What a picture is: the generator's inputs (style and theme are the defaults)."""

    name: str
    size: int
    fmt: str


@dataclass(slots=True)
class Sample:
    key: Key
    hot: bool
    start: float  # time.perf_counter() when the request was sent
    latency: float  # seconds until the whole body was read (or the error)
    status: int  # 0: no HTTP answer (connection error, timeout)
    error: str = ""  # empty, or what went wrong ("ConnectionResetError", "timeout", ...)
    digest: str = ""  # SHA-256 of a 200 body
    content_type: str = ""
    retry_after: str = ""

    @property
    def end(self) -> float:
        return self.start + self.latency

    @classmethod
    def answered(
        cls,
        key: Key,
        hot: bool,
        start: float,
        latency: float,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
    ) -> Sample:
        """The record of an HTTP answer: the body's digest when it is a 200."""
        return cls(
            key,
            hot,
            start,
            latency,
            status,
            digest=hashlib.sha256(body).hexdigest() if status == 200 else "",
            content_type=headers.get("content-type", ""),
            retry_after=headers.get("retry-after", ""),
        )


def path_for(key: Key, png_suffix: bool = False) -> str:
    """The request path: the name percent-encoded (`/` too), the format from the suffix."""
    suffix = "" if key.fmt == "png" and not png_suffix else f".{key.fmt}"
    return f"/monster/{quote(key.name, safe='')}{suffix}?size={key.size}"


@dataclass
class Workload:
    """Which picture each request asks for. `miss_ratio` of them are names never asked before."""

    hot_names: list[str]
    miss_ratio: float = 0.2
    sizes: tuple[int, ...] = SIZES
    formats: tuple[str, ...] = FORMATS
    prefix: str = field(default_factory=lambda: f"fresh-{random.getrandbits(40):010x}")
    seed: int = 1
    _counter: int = 0

    @classmethod
    def default(cls, hot: int = 40, miss_ratio: float = 0.2, **kw: object) -> Workload:
        names = [*SPECIAL_NAMES, *(f"hot-{i}" for i in range(hot - len(SPECIAL_NAMES)))]
        return cls(names, miss_ratio, **kw)  # type: ignore[arg-type]

    def hot_keys(self) -> list[Key]:
        return [Key(n, s, f) for n in self.hot_names for s in self.sizes for f in self.formats]

    def fresh_name(self) -> str:
        self._counter += 1
        return f"{self.prefix}-{self._counter}"

    def next(self, rng: random.Random) -> tuple[Key, bool]:
        size, fmt = rng.choice(self.sizes), rng.choice(self.formats)
        if rng.random() < self.miss_ratio:
            return Key(self.fresh_name(), size, fmt), False
        return Key(rng.choice(self.hot_names), size, fmt), True


@dataclass(slots=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class RawConnection:
    """One keep-alive HTTP/1.1 connection over asyncio streams; reopened after any error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, headers: Iterable[tuple[str, str]] = ()) -> RawResponse:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            head = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers)
            self.writer.write(head.encode("latin-1") + b"\r\n")
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields: dict[str, str] = {}
            for line in lines[1:]:
                if line:
                    k, _, v = line.partition(":")
                    fields[k.strip().lower()] = v.strip()
            if "content-length" in fields:
                body = await self.reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                body = await self._chunked()
            elif status in (204, 304):
                body = b""
            else:  # delimited by the end of the connection
                body = await self.reader.read()
                fields["connection"] = "close"
        except BaseException:
            self.close()
            raise
        if fields.get("connection", "").lower() == "close":
            self.close()
        return RawResponse(status, fields, body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers from our servers
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "IncompleteRead"  # the server closed mid-answer (or before answering)
    return type(exc).__name__


@dataclass
class Results:
    samples: list[Sample]
    started: float
    ended: float
    clients: int
    client_kind: str

    @property
    def duration(self) -> float:
        return self.ended - self.started

    def select(self, where: Callable[[Sample], bool]) -> list[Sample]:
        return [s for s in self.samples if where(s)]

    def summary(
        self,
        where: Callable[[Sample], bool] | None = None,
        ok: Iterable[int] = (200,),
    ) -> dict[str, object]:
        """Requests, statuses, errors (no answer, or a status not in `ok`), latency, rate."""
        chosen = self.samples if where is None else self.select(where)
        return summarise(chosen, self.duration, ok)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of sorted `values`; 0 for none."""
    if not values:
        return 0.0
    rank = max(1, min(len(values), round(q / 100 * len(values) + 0.5)))
    return values[rank - 1]


def summarise(
    samples: list[Sample], duration: float, ok: Iterable[int] = (200,)
) -> dict[str, object]:
    allowed = set(ok)
    latencies = sorted(s.latency for s in samples)
    statuses = Counter(str(s.status) for s in samples if s.status)
    failures = Counter(s.error for s in samples if not s.status)
    unexpected = sum(1 for s in samples if s.status and s.status not in allowed)
    return {
        "requests": len(samples),
        "statuses": dict(sorted(statuses.items())),
        "connection_errors": dict(sorted(failures.items())),
        "errors": sum(failures.values()) + unexpected,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round((latencies[-1] if latencies else 0.0) * 1000, 2),
        "throughput_rps": round(len(samples) / duration, 1) if duration > 0 else 0.0,
    }


class LoadRun:
    """N clients for `duration` seconds (or until stop()), in a thread of their own."""

    def __init__(
        self,
        base_url: str,
        workload: Workload,
        clients: int,
        duration: float,
        *,
        timeout: float = 10.0,
        client: str = "raw",
        seed: int = 1,
        keepalive: bool = True,
    ) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname and parts.port, base_url
        self.host, self.port, self.base_url = parts.hostname, parts.port, base_url
        self.workload, self.clients, self.duration = workload, clients, duration
        self.timeout, self.client_kind, self.seed = timeout, client, seed
        self.keepalive = keepalive  # False: a new connection per request (new visitors)
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.started = self.ended = 0.0

    def start(self) -> LoadRun:
        self._thread = threading.Thread(target=self._main, name="load", daemon=True)
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> Results:
        assert self._thread is not None
        self._thread.join(self.duration + self.timeout + 60)
        if self._thread.is_alive():
            raise RuntimeError("the load generator did not stop")
        if self._failure is not None:
            raise self._failure
        return Results(self.samples, self.started, self.ended, self.clients, self.client_kind)

    def run(self) -> Results:
        return self.start().join()

    def _main(self) -> None:
        try:
            asyncio.run(self._all())
        except BaseException as exc:  # handed to join()
            self._failure = exc
        self.ended = time.perf_counter()

    async def _all(self) -> None:
        deadline = self.started + self.duration
        if self.client_kind == "httpx":
            import httpx

            limits = httpx.Limits(
                max_connections=self.clients, max_keepalive_connections=self.clients
            )
            async with httpx.AsyncClient(
                base_url=self.base_url, limits=limits, timeout=self.timeout
            ) as client:

                async def send(conn: RawConnection, path: str) -> RawResponse:
                    r = await client.get(path)
                    return RawResponse(r.status_code, dict(r.headers), r.content)

                await asyncio.gather(
                    *(self._client(i, deadline, send) for i in range(self.clients))
                )
            return

        close = () if self.keepalive else (("Connection", "close"),)

        async def send_raw(conn: RawConnection, path: str) -> RawResponse:
            try:
                return await conn.request(path, close)
            finally:
                if not self.keepalive:
                    conn.close()

        await asyncio.gather(*(self._client(i, deadline, send_raw) for i in range(self.clients)))

    async def _client(
        self,
        index: int,
        deadline: float,
        send: Callable[[RawConnection, str], Awaitable[RawResponse]],
    ) -> None:
        rng = random.Random(self.seed * 1_000_003 + index)
        conn = RawConnection(self.host, self.port)
        record = self.samples.append
        try:
            while not self._stop.is_set() and time.perf_counter() < deadline:
                key, hot = self.workload.next(rng)
                path = path_for(key, png_suffix=rng.random() < 0.5)
                start = time.perf_counter()
                try:
                    async with asyncio.timeout(self.timeout):
                        response = await send(conn, path)
                except Exception as exc:
                    latency = time.perf_counter() - start
                    record(Sample(key, hot, start, latency, 0, _error_name(exc)))
                    # A refused connection comes back at once: do not spin on it.
                    await asyncio.sleep(0.01)
                    continue
                latency = time.perf_counter() - start
                record(
                    Sample.answered(
                        key, hot, start, latency, response.status, response.body, response.headers
                    )
                )
        finally:
            conn.close()


def warm(base_url: str, keys: Iterable[Key], clients: int = 8, timeout: float = 30.0) -> Results:
    """Asks for each key once (so the hot pool is cached before the measured run)."""
    pending = list(keys)
    parts = urlsplit(base_url)
    assert parts.hostname and parts.port
    samples: list[Sample] = []

    async def worker() -> None:
        conn = RawConnection(parts.hostname or "", parts.port or 0)
        try:
            while pending:
                key = pending.pop()
                start = time.perf_counter()
                try:
                    r = await asyncio.wait_for(conn.request(path_for(key)), timeout)
                except Exception as exc:
                    samples.append(
                        Sample(key, True, start, time.perf_counter() - start, 0, _error_name(exc))
                    )
                    continue
                latency = time.perf_counter() - start
                answer = Sample.answered(key, True, start, latency, r.status, r.body, r.headers)
                samples.append(answer)
        finally:
            conn.close()

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    return Results(samples, started, time.perf_counter(), clients, "raw")


def main() -> None:
    p = argparse.ArgumentParser(description="Mixed load against a monsterstack service.")
    p.add_argument("url", help="e.g. http://127.0.0.1:5000")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--miss-ratio", type=float, default=0.2)
    p.add_argument("--client", choices=("raw", "httpx"), default="raw")
    p.add_argument("--no-warm", action="store_true", help="do not ask for the hot pool first")
    args = p.parse_args()
    workload = Workload.default(miss_ratio=args.miss_ratio)
    if not args.no_warm:
        warm(args.url, workload.hot_keys())
    cpu = time.process_time()
    results = LoadRun(args.url, workload, args.clients, args.duration, client=args.client).run()
    summary = results.summary()
    summary["client"] = args.client
    summary["client_cpu_s"] = round(time.process_time() - cpu, 2)
    summary["requests_per_client_cpu_s"] = round(
        len(results.samples) / max(summary["client_cpu_s"], 1e-9),
        1,  # type: ignore[arg-type]
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
