"""Clients that hold a server's connections: slowloris variants, and oversized requests.

Slow connections (asyncio, many at once, in a thread of their own):
- `trickle`: a request line and headers sent one byte a second, never finished;
- `partial`: a request line and one header, then silence;
- `silent`: a TCP connection that never sends a byte.
Each records how it ended and when: the server closed it (`closed`), reset it (`reset`),
answered it (the status, e.g. `408`, `400`), or it was still open at the bound (`open`).

Oversized requests (blocking sockets): huge headers, long paths, many headers; each records
the status the server answered (or `closed`/`reset`) and how long that took.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    kind: str
    result: str  # a status ("431"), "closed", "reset", "open" (still open at the bound)
    seconds: float  # from the connection's opening to the result


def _status(data: bytes) -> str:
    parts = data.split(b" ", 2)
    return parts[1].decode("latin-1") if len(parts) > 1 and data.startswith(b"HTTP/") else "junk"


async def _watch(
    kind: str,
    host: str,
    port: int,
    bound: float,
    opened: asyncio.Event,
    payload: bytes = b"",
    trickle: bytes = b"",
) -> Outcome:
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        opened.set()
        return Outcome(kind, f"refused ({type(exc).__name__})", time.perf_counter() - start)
    start = time.perf_counter()
    opened.set()
    result = "open"
    try:
        if payload:
            writer.write(payload)
        position = 0
        while (left := bound - (time.perf_counter() - start)) > 0:
            if trickle:
                writer.write(trickle[position % len(trickle) : position % len(trickle) + 1])
                position += 1
            try:
                data = await asyncio.wait_for(reader.read(4096), min(1.0, left))
            except TimeoutError:
                continue
            result = _status(data) if data else "closed"
            break
    except (ConnectionResetError, BrokenPipeError):
        result = "reset"
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return Outcome(kind, result, time.perf_counter() - start)


class SlowAttack:
    """`counts` slow connections per kind, held until the server lets go or `bound` passes."""

    def __init__(self, host: str, port: int, counts: dict[str, int], bound: float) -> None:
        self.host, self.port, self.counts, self.bound = host, port, counts, bound
        self.outcomes: list[Outcome] = []
        self.all_open = threading.Event()  # every connection made (or refused)
        self.opened_at = 0.0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> SlowAttack:
        self._thread.start()
        return self

    def join(self) -> list[Outcome]:
        self._thread.join(self.bound + 60)
        return self.outcomes

    async def _main(self) -> None:
        head = b"GET /monster/slowloris HTTP/1.1\r\nHost: monsterstack\r\n"
        kinds = {
            "trickle": {"trickle": head + b"X-Slow: " + b"a" * 10_000},
            "partial": {"payload": head},
            "silent": {},
        }
        tasks, events = [], []
        for kind, n in self.counts.items():
            for _ in range(n):
                opened = asyncio.Event()
                events.append(opened)
                args = (kind, self.host, self.port, self.bound, opened)
                tasks.append(asyncio.create_task(_watch(*args, **kinds[kind])))  # type: ignore[arg-type]
                await asyncio.sleep(0)  # let it connect: no burst beyond the accept backlog
        for e in events:
            await e.wait()
        self.opened_at = time.perf_counter()
        self.all_open.set()
        self.outcomes = list(await asyncio.gather(*tasks))


def summarise_slow(outcomes: list[Outcome]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for kind in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == kind]
        ended = sorted(o.seconds for o in mine if o.result != "open")
        out[kind] = {
            "connections": len(mine),
            "results": dict(Counter(o.result for o in mine)),
            "cut_after_s_min": round(ended[0], 1) if ended else None,
            "cut_after_s_max": round(ended[-1], 1) if ended else None,
        }
    return out


BIG_REQUESTS: dict[str, bytes] = {
    "header 100 KB": b"GET /livez HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    "header 1 MB": b"GET /livez HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
    "header 10 MB": b"GET /livez HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 10_000_000 + b"\r\n\r\n",
    "1,000 headers of 100 B": b"GET /livez HTTP/1.1\r\nHost: t\r\n"
    + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(1000))
    + b"\r\n",
    "path 64 KB": b"GET /monster/" + b"a" * 65_536 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    "path 1 MB": b"GET /monster/" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    "query 64 KB": b"GET /monster/a?size=80&x=" + b"a" * 65_536 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
}


def big_request(host: str, port: int, kind: str, timeout: float) -> Outcome:
    """Sends one oversized request; what the server answered, or how it let go."""
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(BIG_REQUESTS[kind])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused midway: the answer (if any) is still there to read
        except TimeoutError:
            return Outcome(kind, "open", time.perf_counter() - start)
        try:
            data = sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return Outcome(kind, "reset", time.perf_counter() - start)
        except TimeoutError:
            return Outcome(kind, "open", time.perf_counter() - start)
    return Outcome(kind, _status(data) if data else "closed", time.perf_counter() - start)
