"""What the numbers were measured on: CPU, cores, kernel, versions, and how busy it was."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from importlib.metadata import version
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # (idle + iowait, total), in ticks


def cpu_busy(seconds: float = 1.0) -> float:
    """Percent of all cores busy over the next `seconds`: what others run before we start."""
    try:
        idle0, total0 = _cpu_times()
        time.sleep(seconds)
        idle1, total1 = _cpu_times()
    except OSError:
        return float("nan")
    return round(100 * (1 - (idle1 - idle0) / max(1, total1 - total0)), 1)


def wrk_version() -> str:
    if not shutil.which("wrk"):
        return "not installed"
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return out.split("Copyright")[0].strip() or "unknown"


def tool_version(argv: list[str]) -> str:
    """The start of the line a tool prints about its version (nginx prints it on stderr)."""
    if not shutil.which(argv[0]):
        return "not installed"
    out = subprocess.run(argv, capture_output=True, text=True)
    first = (out.stdout + out.stderr).strip().split("\n")[0]
    return " ".join(first.split()[:3]) or "unknown"


def source_revision() -> str:
    """The commit measured, and whether src/ differed from it (others may be editing)."""
    root = Path(__file__).parent.parent
    git = ["git", "-C", str(root)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True)
    except OSError:
        return "unknown"
    revision = head.stdout.decode().strip() or "unknown"
    return f"{revision} (src/ modified)" if dirty.stdout.strip() else revision


def machine_info() -> dict[str, object]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pillow": version("pillow"),
        "granian": version("granian"),
        "wrk": wrk_version(),
        "nginx": tool_version(["nginx", "-v"]),
        "redis": tool_version(["redis-server", "--version"]),
    }
