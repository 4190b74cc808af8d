"""The reliability report: one JSON file the scenarios merge their figures into, and its table.

Each scenario writes one entry (what was injected, requests, errors, mismatches, latency, RSS,
notes) into build/reliability/report.json (env RELIABILITY_REPORT), keeping the others'
entries, so one run of the suite leaves every scenario's figures in one file.

    uv run python -m tests.reliability.report                 # the markdown table
    uv run python -m tests.reliability.report --update docs/reliability.md

`--update` rewrites the table between the markers of the "## Scenarios" section of that file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "build" / "reliability" / "report.json"
START = "<!-- reliability:scenarios:start -->"
END = "<!-- reliability:scenarios:end -->"
ORDER = (
    "sustained",
    "redis-restart",
    "imagebackend-outage",
    "sigterm-frontend",
    "sigterm-imagebackend",
    "slow-clients",
)


def report_path() -> Path:
    return Path(os.environ.get("RELIABILITY_REPORT") or DEFAULT)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def write_entry(scenario: str, entry: dict[str, Any], path: Path | None = None) -> Path:
    """Merges one scenario's entry into the report (atomically: a reader never sees half)."""
    path = path or report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        report = {}
    report.setdefault("scenarios", {})
    report["machine"] = machine()
    report["scenarios"][scenario] = {
        **entry,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    tmp.replace(path)
    return path


def _ms(value: object) -> str:
    return "—" if value is None else f"{float(value):.1f}"  # type: ignore[arg-type]


def _rss(entry: dict[str, Any]) -> str:
    rss = entry.get("rss_mib") or {}
    parts = [f"{name} {v[0]:.0f} → {v[1]:.0f}" for name, v in rss.items() if v]
    return "<br>".join(parts) or "—"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _result(e: dict[str, Any]) -> str:
    if e.get("passed"):
        return "pass"
    return f"**FAIL** ({len(e.get('problems', []))})"


def table(report: dict[str, Any]) -> str:
    """The scenarios' table, then each scenario's details (what failed, figures, re-run)."""
    scenarios: dict[str, Any] = report.get("scenarios", {})
    names = [n for n in ORDER if n in scenarios] + [n for n in scenarios if n not in ORDER]
    m = report.get("machine", {})
    profiles = sorted({str(scenarios[n].get("profile", "?")) for n in names})
    lines = [
        f"Measured with the {' and '.join(profiles)} profile on {m.get('cpus', '?')} cores "
        f"({m.get('cpu_model') or 'unknown CPU'}, Python {m.get('python', '?')}, Linux "
        f"{m.get('kernel', '?')}); the load generator, the services and Redis share them. "
        "Latency is the client's: from sending the request to the last byte of the answer. "
        "RSS: a service's main process and its granian worker together.",
        "",
        "| scenario | injected | load | requests | errors | mismatches | p50 ms | p99 ms "
        "| RSS MiB before → after | result |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name in names:
        e = scenarios[name]
        cells = (
            f"[{e.get('title', name)}](#{_anchor(e.get('title', name))})",
            e.get("fault", ""),
            e.get("load", ""),
            e.get("requests", "—"),
            e.get("errors", "—"),
            e.get("mismatches", "—"),
            _ms(e.get("p50_ms")),
            _ms(e.get("p99_ms")),
            _rss(e),
            _result(e),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for name in names:
        e = scenarios[name]
        lines += ["", f"#### {e.get('title', name)}", ""]
        lines.append(f"- Injected: {e.get('injected', '')}.")
        if e.get("notes"):
            lines.append(f"- Measured: {e['notes']}")
        if e.get("load_average_1min"):
            before, after = e["load_average_1min"]
            lines.append(f"- Machine's 1-minute load average: {before} before, {after} after.")
        for problem in e.get("problems", []):
            lines.append(f"- **Failed**: {problem}")
        if e.get("rerun"):
            lines.append(f"- Re-run: `{e['rerun']}`")
    return "\n".join(lines) + "\n"


def _anchor(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def update(doc: Path, text: str) -> None:
    """Replaces the table between the markers (they must be in the file already)."""
    content = doc.read_text()
    if START not in content or END not in content:
        raise SystemExit(f"{doc}: add {START} and {END} where the table goes")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{text}{END}{tail}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report", nargs="?", type=Path, default=None, help=f"default: {DEFAULT}")
    p.add_argument("--update", type=Path, metavar="DOC", help="rewrite the table in this file")
    args = p.parse_args()
    path = args.report or report_path()
    text = table(json.loads(path.read_text()))
    if args.update:
        update(args.update, text)
        print(f"updated {args.update} from {path}")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
