"""Results as tables (plain text for the terminal, Markdown for README.md) and as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monsterstack.generator import png

from .frontend import HIT_NAME, HIT_PATH, PRODUCTION
from .httpbench import ONE_PROCESS as ONE
from .httpbench import TWO_PROCESSES as TWO
from .render import SIZES, STYLES

HERE = Path(__file__).parent
RESULTS_DIR = HERE / "results"
README = HERE / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# README.md's blocks of results: (begin marker, end marker, the parts each one shows)
BLOCKS = (
    (BEGIN, END, ("render", "http")),
    ("<!-- frontend:begin -->", "<!-- frontend:end -->", ("frontend",)),
)

Table = tuple[list[str], list[list[str]]]
Results = dict[str, Any]


def find(rows: list[dict[str, Any]], label: str, size: int, fmt: str) -> dict[str, Any] | None:
    for r in rows:
        if (r["label"], r["size"], r["format"]) == (label, size, fmt):
            return r
    return None


def speedup(rows: list[dict[str, Any]], reference: str, row: dict[str, Any]) -> float | None:
    """How many times faster `row` is than `reference` at the same size (references: PNG)."""
    ref = find(rows, reference, row["size"], "png")
    if ref is None or ref is row:
        return None
    return float(ref["median_ms"]) / float(row["median_ms"])


def _ratio(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.1f}x" if x >= 10 else f"{x:.2g}x" if x < 0.1 else f"{x:.2f}x"


def render_table(rows: list[dict[str, Any]]) -> Table:
    headers = ["renderer", "size", "format", "n", "median ms", "p99 ms"]
    headers += ["robohash ÷ this", "pydenticon ÷ this"]
    body = [
        [
            r["label"],
            str(r["size"]),
            r["format"],
            str(r["n"]),
            f"{r['median_ms']:.3f}",
            f"{r['p99_ms']:.3f}",
            _ratio(speedup(rows, "robohash", r)),
            _ratio(speedup(rows, "pydenticon", r)),
        ]
        for r in rows
    ]
    return headers, body


def png_table(rows: list[dict[str, Any]]) -> Table:
    """Deflate time and output per library and level, with the level the encoder picks."""
    headers = ["style", "size", "library", "level", "median ms", "mean bytes", "used"]
    body = [
        [
            r["style"],
            str(r["size"]),
            r["library"],
            str(r["level"]),
            f"{r['median_ms']:.3f}",
            f"{r['mean_bytes']:,}",
            "✓" if _encoder_uses(r) else "",
        ]
        for r in rows
    ]
    return headers, body


def profile_table(rows: list[dict[str, Any]]) -> Table:
    return ["step", "µs per avatar (median)"], [[r["step"], f"{r['median_us']:.0f}"] for r in rows]


def _encoder_uses(r: dict[str, Any]) -> bool:
    if r["library"] != "zlib-ng":
        return False
    if r["style"] == "pixel":
        return bool(r["level"] == png.PALETTE_LEVEL)
    return bool(r["level"] == png.rgba_level(r["size"], r["size"]))


def _busy(row: dict[str, Any]) -> str:
    return " / ".join(f"{x:.0f}" for x in row["cpu_busy_before_pct"])


def throughput_table(rows: list[dict[str, Any]]) -> Table:
    headers = ["configuration", "req/s", "of which 200/s", "p50 ms", "p99 ms", "errors"]
    headers += ["req/s each round", "CPU busy % before"]
    body = [
        [
            r["config"],
            f"{r['rps']:,.0f}",
            f"{r['ok_rps']:,.0f}" if "ok_rps" in r else "—",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            str(r["errors"]),
            " / ".join(f"{x:,.0f}" for x in r["rps_rounds"]),
            _busy(r),
        ]
        for r in rows
    ]
    return headers, body


def _latency(s: dict[str, Any]) -> str:
    return f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} / {s['max_ms']:.0f} (n={s['n']})"


def stall_table(rows: list[dict[str, Any]]) -> Table:
    headers = ["configuration", "80 px idle p50/p99/max ms", "80 px under load p50/p99/max ms"]
    headers += ["80 px refused", "1024 px req/s", "1024 px p99 ms", "CPU busy % before"]
    body = [
        [
            r["config"],
            _latency(r["idle"]),
            _latency(r["busy"]),
            str(r.get("refused", "—")),
            f"{r['big_rps']:,.0f}",
            f"{r['big_p99_ms']:.0f}",
            _busy(r),
        ]
        for r in rows
    ]
    return headers, body


def hit_table(rows: list[dict[str, Any]]) -> Table:
    headers = ["server (one core)", "req/s", "÷ nginx", "p50 ms", "p99 ms", "errors"]
    headers += ["req/s each round", "CPU busy % before"]
    body = [
        [
            r["server"],
            f"{r['rps']:,.0f}",
            f"{100 * r['of_nginx']:.1f} %",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            str(r["errors"]),
            " / ".join(f"{x:,.0f}" for x in r["rps_rounds"]),
            _busy(r),
        ]
        for r in rows
    ]
    return headers, body


def _lookups(p: dict[str, Any]) -> str:
    n = p["lookups"]
    return f"{n['hit_memory']:,} / {n['hit_shared']:,} / {n['miss']:,}"


def memory_table(rows: list[dict[str, Any]], requests: int) -> Table:
    headers = ["configuration", "worker RSS MiB: start", f"after {requests:,}"]
    headers += [f"after {2 * requests:,}", "worker peak", "main RSS MiB: start / end"]
    headers += ["main + worker PSS MiB: start / end", "req/s pass 1 / 2", "errors"]
    headers += ["hits in-process / Redis / misses, pass 1; 2"]
    body = [
        [
            r["config"],
            *(f"{x:.1f}" for x in r["worker_rss_mib"]),
            f"{r['worker_peak_mib']:.1f}",
            f"{r['main_rss_mib'][0]:.1f} / {r['main_rss_mib'][-1]:.1f}",
            f"{r['pss_mib'][0]:.1f} / {r['pss_mib'][-1]:.1f}",
            " / ".join(f"{p['rps']:,.0f}" for p in r["passes"]),
            str(sum(p["errors"] for p in r["passes"])),
            "; ".join(_lookups(p) for p in r["passes"]),
        ]
        for r in rows
    ]
    return headers, body


def _render_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for style in STYLES:
        label = f"monsterstack {style}"
        for fmt, limit in (("png", 0.35), ("svg", 0.15)):  # issue 13
            r = find(rows, label, 80, fmt)
            if r:
                target = f"{style} 80 px {fmt.upper()} median ≤ {limit} ms"
                out.append(_target(target, f"{r['median_ms']:.3f} ms", r["median_ms"] <= limit))
        for size in SIZES:
            r = find(rows, label, size, "png")
            for ref, least in (("robohash", 10.0), ("pydenticon", 1.0)):
                x = speedup(rows, ref, r) if r else None
                if x is not None:
                    at_least = f"≥ {least:g}x faster" if least > 1 else "faster"
                    target = f"{style} {size} px PNG {at_least} than {ref}"
                    out.append(_target(target, _ratio(x), x >= least if least > 1 else x > 1))
    return out


def _http_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Issue 13: uncached 80 px with 2 processes at p99 < 20 ms and >= 3,000 req/s, wrk on the
    # same 2 cores; and 2 processes >= 1.8x one.
    two = next((r for r in rows if r["config"] == TWO), None)
    one = next((r for r in rows if r["config"] == ONE), None)
    if two is None:
        return []
    out = [
        _target(
            f"HTTP 80 px, 32 conns, {TWO} (wrk on the same 2 cores): ≥ 3,000 req/s, p99 < 20 ms",
            f"{two['rps']:,.0f} req/s, p99 {two['p99_ms']:.2f} ms",
            two["rps"] >= 3000 and two["p99_ms"] < 20,
        )
    ]
    if one is not None:
        x = two["rps"] / one["rps"]
        out.append(_target("HTTP: 2 processes ≥ 1.8x one process", _ratio(x), x >= 1.8))
    return out


RSS_LIMIT_MIB = 80
LEAK_MIB = 2  # growth over the second pass that still counts as a plateau


def _frontend_targets(part: dict[str, Any]) -> list[dict[str, Any]]:
    # Issue 12: the production path (Redis + the rate limiter) at 25 % of nginx, 35 % stretch.
    out = [
        _target(
            f"{r['server']}: ≥ {100 * share:.0f} % of nginx's req/s{label}",
            f"{100 * r['of_nginx']:.1f} % ({r['rps']:,.0f} vs nginx)",
            r["of_nginx"] >= share,
        )
        for r in part.get("hit", [])
        if r["server"] == PRODUCTION
        for share, label in ((0.25, ""), (0.35, " (stretch)"))
    ]
    n = part.get("memory_requests", 0)
    for r in part.get("memory", []):
        _, first, second = r["worker_rss_mib"]
        out.append(
            _target(
                f"{r['config']}: worker RSS < {RSS_LIMIT_MIB} MiB after {n:,} requests",
                f"{first:.1f} MiB (start {r['worker_rss_mib'][0]:.1f})",
                first < RSS_LIMIT_MIB,
            )
        )
        out.append(
            _target(
                f"{r['config']}: no leak (≤ {LEAK_MIB} MiB more after {n:,} more)",
                f"{second - first:+.1f} MiB ({second:.1f} MiB)",
                second - first <= LEAK_MIB,
            )
        )
    return out


def _target(target: str, figure: str, met: bool) -> dict[str, Any]:
    return {"target": target, "figure": figure, "met": bool(met)}


def targets(results: Results) -> list[dict[str, Any]]:
    found = _render_targets(results.get("render", {}).get("rows", []))
    found += _http_targets(results.get("http", {}).get("throughput", []))
    return found + _frontend_targets(results.get("frontend", {}))


def targets_table(results: Results) -> Table:
    rows = [[t["target"], t["figure"], "met" if t["met"] else "MISSED"] for t in targets(results)]
    return ["target", "measured", "result"], rows


def as_text(table: Table) -> str:
    headers, body = table
    widths = [max(len(c) for c in col) for col in zip(headers, *body, strict=True)]
    lines = [headers, ["-" * w for w in widths], *body]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines)


def as_markdown(table: Table) -> str:
    headers, body = table
    lines = [headers, ["---"] * len(headers), *body]
    return "\n".join("| " + " | ".join(r) + " |" for r in lines)


def machine_lines(machine: dict[str, Any]) -> list[str]:
    return [f"{key}: {value}" for key, value in machine.items()]


def provenance(part: dict[str, Any]) -> str:
    m = part.get("measured")
    if not m:
        return ""
    load = " / ".join(f"{x:.2f}" for x in m["load_average"])
    return f"measured {m['at']}, monsterstack {m['monsterstack']}, load average {load}"


def sections(results: Results) -> list[tuple[str, str, Table]]:
    """(title, provenance, table) for every part these results hold."""
    out = []
    if "render" in results:
        r = results["render"]
        title = (
            f"Render, one avatar at a time in-process ({r['names']} names; "
            f"robohash on the first {r['robohash_names']} only)"
        )
        out.append((title, provenance(r), render_table(r["rows"])))
        if "png" in r:
            title = (
                f"PNG encoder: deflate of one avatar's scanlines ({r['png_names']} names), per "
                "library and level; ✓ = what the encoder uses"
            )
            out.append((title, provenance(r), png_table(r["png"])))
        if "profile" in r:
            size = r["profile"][0]["size"]
            title = f"Where a smooth {size} px PNG's time goes ({r['names']} names)"
            out.append((title, provenance(r), profile_table(r["profile"])))
    if "http" in results:
        h = results["http"]
        title = (
            f"HTTP GET /monster/{{distinct name}}?size=80, wrk {h['connections']} connections, "
            f"2 threads, {h['duration_s']:g} s; medians of {h['rounds']} rounds"
        )
        out.append((title, provenance(h), throughput_table(h["throughput"])))
        title = (
            f"Stall: {h['probe_clients']} clients each ask for 80 px every "
            f"{h['probe_interval_ms']:g} ms while wrk hammers 1024 px renders "
            f"({h['stall_connections']} connections); latencies pooled over {h['rounds']} rounds"
        )
        out.append((title, provenance(h), stall_table(h["stall"])))
    if "frontend" in results:
        f = results["frontend"]
        title = (
            f"Frontend: cache hit GET {HIT_PATH.replace(HIT_NAME, '{one name}')} "
            f"({f['hit'][0]['bytes']:,} "
            f"bytes) beside nginx serving the same file; server on core 0, wrk on core 1, "
            f"{f['connections']} connections, {f['duration_s']:g} s; "
            f"medians of {f['rounds']} rounds"
        )
        out.append((title, provenance(f), hit_table(f["hit"])))
        title = (
            f"Frontend RSS: {f['memory_requests']:,} GET /monster/name-{{i % "
            f"{f['memory_names']:,}}}?size=80, twice ({f['memory_clients']} keep-alive clients)"
        )
        out.append((title, provenance(f), memory_table(f["memory"], f["memory_requests"])))
    out.append(("Targets", "", targets_table(results)))
    return out


def text_report(results: Results) -> str:
    parts = ["Machine\n" + "\n".join("  " + line for line in machine_lines(results["machine"]))]
    for title, note, table in sections(results):
        parts.append("\n".join([title, *([f"({note})"] if note else []), as_text(table)]))
    return "\n\n".join(parts)


def markdown_report(results: Results) -> str:
    machine = "\n".join(f"- {line}" for line in machine_lines(results["machine"]))
    parts = [f"Recorded {results['date']} on:\n\n{machine}"]
    for title, note, table in sections(results):
        parts.append(
            "\n\n".join([f"**{title}**", *([f"_{note}_"] if note else []), as_markdown(table)])
        )
    return "\n\n".join(parts)


def save(results: Results) -> Path:
    """Write (merging into the same day's file, so a re-run of one part keeps the other)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{results['date']}.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(results)
    path.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
    return path


def load(path: Path) -> Results:
    results: Results = json.loads(path.read_text())
    return results


def update_readme(results: Results, readme: Path = README) -> None:
    """Replace what lies between each pair of markers in README.md with the results of its
    parts (a block whose parts these results do not hold is left as it is)."""
    text = readme.read_text()
    for begin, end, parts in BLOCKS:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        if not rest:
            raise ValueError(f"{readme} has no {begin} marker")
        if any(part in results for part in parts):
            keep = {k: v for k, v in results.items() if k in parts or k in ("date", "machine")}
            text = f"{head}{begin}\n{markdown_report(keep)}\n{end}{tail}"
    readme.write_text(text)
