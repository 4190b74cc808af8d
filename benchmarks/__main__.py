"""`python -m benchmarks`: render timings, references, HTTP under wrk, the frontend beside nginx;
print, save, README."""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
import time
from pathlib import Path

from . import frontend, httpbench, report
from .machine import cpu_busy, load_average, machine_info, source_revision
from .render import bench_png, bench_robohash, bench_side_by_side, make_names, profile_smooth

BUSY = 1.5  # one-minute load average above which the HTTP numbers would be skewed
PARTS = ("render", "http", "frontend")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--only", choices=PARTS, help="run one part (default: all)")
    p.add_argument("--names", type=int, default=1000, help="names to render (default 1000)")
    p.add_argument("--robohash-names", type=int, default=50, help="robohash is slow (default 50)")
    p.add_argument(
        "--png-names", type=int, default=200, help="names for the PNG encoder table (default 200)"
    )
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--stall-connections", type=int, default=16, help="1024 px load (default 16)")
    p.add_argument("--probe-clients", type=int, default=4, help="80 px probe clients (4)")
    p.add_argument("--probe-interval-ms", type=float, default=40, help="each probe's pacing")
    p.add_argument("--rounds", type=int, default=3, help="HTTP rounds, pooled (default 3)")
    p.add_argument("--hit-connections", type=int, default=64, help="frontend vs nginx (64)")
    p.add_argument("--memory-requests", type=int, default=100_000, help="frontend RSS, per pass")
    p.add_argument("--memory-names", type=int, default=10_000, help="distinct names (10,000)")
    p.add_argument("--memory-clients", type=int, default=8, help="keep-alive clients (8)")
    p.add_argument("--max-wait", type=float, default=180, help="seconds to wait for a quiet box")
    p.add_argument("--no-save", action="store_true", help="do not write results/<date>.json")
    p.add_argument("--readme", action="store_true", help="write the results into README.md")
    p.add_argument("--from", dest="source", type=Path, help="re-report a results JSON file")
    return p.parse_args(argv)


def provenance() -> dict[str, object]:
    """When, on which commit and how loaded a part started (parts may come from two runs)."""
    return {
        "at": datetime.datetime.now().isoformat(timespec="minutes"),
        "monsterstack": source_revision(),
        "load_average": load_average(),
    }


def run_render(args: argparse.Namespace) -> dict[str, object]:
    names = make_names(args.names)
    print(f"render: {len(names)} names (robohash: first {args.robohash_names})...", flush=True)
    started, busy = provenance(), cpu_busy()
    rows = bench_side_by_side(names) + bench_robohash(names, args.robohash_names)
    png = bench_png(names[: args.png_names])
    profile = profile_smooth(names)
    return {
        "measured": started,
        "names": len(names),
        "robohash_names": min(args.robohash_names, len(names)),
        "cpu_busy_before_pct": busy,
        "rows": rows,
        "png_names": min(args.png_names, len(names)),
        "png": png,
        "profile": profile,
    }


def wait_until_quiet(max_wait: float) -> None:
    deadline = time.monotonic() + max_wait
    while load_average()[0] > BUSY and time.monotonic() < deadline:
        print(f"  load average {load_average()[0]:.2f} > {BUSY}: waiting...", flush=True)
        time.sleep(15)
    if load_average()[0] > BUSY:
        print(f"  still busy (load {load_average()[0]:.2f}); the numbers will show it")


def run_http(args: argparse.Namespace) -> dict[str, object]:
    if not shutil.which("wrk"):
        sys.exit("benchmarks: wrk is not installed (apt-get install wrk)")
    print("http: waiting for a quiet machine, then wrk...", flush=True)
    wait_until_quiet(args.max_wait)
    load = httpbench.Load(
        duration=args.duration,
        connections=args.connections,
        stall_connections=args.stall_connections,
        probe_clients=args.probe_clients,
        probe_interval=args.probe_interval_ms / 1000,
    )
    return {
        "measured": provenance(),
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": args.connections,
        "stall_connections": args.stall_connections,
        "probe_clients": args.probe_clients,
        "probe_interval_ms": args.probe_interval_ms,
        "throughput": httpbench.bench_throughput(load, args.rounds),
        "stall": httpbench.bench_stall(load, args.rounds),
    }


def run_frontend(args: argparse.Namespace) -> dict[str, object]:
    if problem := frontend.available():
        sys.exit(f"benchmarks: frontend: {problem}")
    print("frontend: waiting for a quiet machine, then its cache beside nginx...", flush=True)
    wait_until_quiet(args.max_wait)
    measured = provenance()
    hit = frontend.bench_hit(args.duration, args.hit_connections, args.rounds)
    memory = frontend.bench_memory(args.memory_requests, args.memory_names, args.memory_clients)
    return {
        "measured": measured,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": args.hit_connections,
        "hit": hit,
        "memory_requests": args.memory_requests,
        "memory_names": args.memory_names,
        "memory_clients": args.memory_clients,
        "memory": memory,
    }


def measure(args: argparse.Namespace) -> report.Results:
    results: report.Results = {"date": datetime.date.today().isoformat()}
    if args.only in (None, "render"):
        results["render"] = run_render(args)
    if args.only in (None, "http"):
        results["http"] = run_http(args)
    if args.only in (None, "frontend"):
        results["frontend"] = run_frontend(args)
    results["machine"] = machine_info()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = report.load(args.source) if args.source else measure(args)
    if not args.source and not args.no_save:
        path = report.save(results)
        results = report.load(path)  # the day's file: this run merged with an earlier part
        print(f"saved {path}")
    print()
    print(report.text_report(results))
    if args.readme:
        report.update_readme(results)
        print(f"\nupdated {report.README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
