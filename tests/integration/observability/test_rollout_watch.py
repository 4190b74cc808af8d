"""`monsterstack rollout watch` against real servers whose version changes mid-run: v1 stops
(a Recreate), v2 (VERSION_LABEL=2.0.0) starts on the same port. The watch must see both
versions, the failed requests between them, and say so in its chart, summary and plot."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.servers import free_port, serve

RATE, DURATION = 20, 9.0


def test_the_watch_shows_v1_then_a_gap_then_v2(tmp_path: Path) -> None:
    port = free_port()
    plot = tmp_path / "rollout.svg"
    argv = [sys.executable, "-m", "monsterstack.cli", "rollout", "watch"]
    argv += [f"http://127.0.0.1:{port}/livez", "--rate", str(RATE), "--duration", str(DURATION)]
    argv += ["--timeout", "0.5", "--out", str(plot)]
    with serve("imagebackend", tmp_path, {"VERSION_LABEL": "1.0.0"}, port=port):
        watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert watcher.stdout is not None
        first = watcher.stdout.readline()  # printed as the requests start
        time.sleep(2.5)
    time.sleep(1.0)  # Recreate: nothing answers between the old pods and the new
    with serve("imagebackend", tmp_path, {"VERSION_LABEL": "2.0.0"}, port=port):
        out, _ = watcher.communicate(timeout=DURATION + 30)
    text = (first + out).decode()
    assert watcher.returncode == 0, text

    # the live chart: one line per second, the new version announced when it first answers
    lines = re.findall(r"^\s+(\d+)s \|", text, re.M)
    assert [int(s) for s in lines] == list(range(len(lines))) and len(lines) >= DURATION - 1
    assert re.search(r"new version 1\.0\.0 .* in second 0", text)
    new = re.search(r"new version 2\.0\.0 .* in second (\d+)", text)
    assert new and 3 <= int(new[1]) < DURATION, text
    assert re.search(r"\| .*error \d+", text)  # failed requests are on the chart

    # the summary: both versions, their share, and the gap between them
    v1 = re.search(r"^\s+1\.0\.0\s+(\d+)\s+([\d.]+)%", text, re.M)
    v2 = re.search(r"^\s+2\.0\.0\s+(\d+)\s+([\d.]+)%", text, re.M)
    assert v1 and v2, text
    assert int(v1[1]) >= 2 * RATE and int(v2[1]) >= RATE
    errors = re.search(r"^\s+errors\s+(\d+)", text, re.M)
    assert errors and int(errors[1]) >= RATE // 2  # at least half a second of refusals
    gap = re.search(r"gaps: (\d+) \(no successful answer for ([\d.]+)s", text)
    assert gap and int(gap[1]) >= 1 and 1.0 <= float(gap[2]) < DURATION, text
    assert re.search(r"switch: 2\.0\.0 first answered at [\d.]+s.*s between the last old", text)
    total = int(re.search(r"^(\d+) requests", text, re.M)[1])  # type: ignore[index]
    assert abs(total - RATE * DURATION) <= 2

    # the plot: both versions and the errors in the legend, a column per second
    svg = ET.parse(plot).getroot()
    labels = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("1.0.0 (") for t in labels)
    assert any(t.startswith("2.0.0 (") for t in labels)
    assert any(t.startswith("errors (") for t in labels)
