"""The watch's arithmetic on made-up timelines: buckets, gaps, the switch, the plot."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from PIL import Image

from monsterstack.rollout.plot import save, shapes
from monsterstack.rollout.timeline import ERROR, TIMEOUT, Sample, Timeline
from monsterstack.rollout.watch import LiveChart, WatchOptions, _one


def _timeline(pattern: str, rate: int = 4) -> Timeline:
    """One character per request at `rate`/s: 1/2 a version, x an error, t a timeout."""
    names = {"1": "1.0.0", "2": "2.0.0", "x": ERROR, "t": TIMEOUT}
    t = Timeline()
    for i, ch in enumerate(pattern):
        t.add(Sample(i / rate, 0.01, names[ch]))
    return t


def test_recreate_has_one_gap_between_the_versions() -> None:
    t = _timeline("111111xxxxxxx2222222")
    assert t.versions() == ["1.0.0", "2.0.0"]
    [gap] = t.gaps()
    assert (gap.start, gap.end, gap.failed) == (1.25, 3.25, 7)
    first_new, last_old = t.switch()  # type: ignore[misc]
    assert first_new == 3.25 and last_old == 1.25
    buckets = t.buckets()
    assert [b.total for b in buckets] == [4] * 5
    assert buckets[1].counts == {"1.0.0": 2, ERROR: 2}
    summary = t.summary()
    assert "gaps: 1 (no successful answer for 2.0s" in summary
    assert "2.0s between the last old and the first new answer" in summary


def test_a_rolling_update_overlaps_without_gaps() -> None:
    t = _timeline("1111112121212222")
    assert not t.gaps()
    rows = {r.version: r for r in t.rows()}
    assert rows["1.0.0"].responses == 9 and rows["2.0.0"].responses == 7
    assert "gaps: none" in t.summary() and "both answered for" in t.summary()


def test_failures_at_the_start_and_end_are_gaps_too() -> None:
    t = _timeline("tt11xx")
    assert [(g.failed, g.start, g.end) for g in t.gaps()] == [(2, 0.0, 0.5), (2, 0.75, 1.25)]
    assert t.failures() == {TIMEOUT: 2, ERROR: 2}


def test_the_live_chart_scales_and_announces_versions() -> None:
    lines: list[str] = []
    chart = LiveChart(4, lines.append)
    for bucket in _timeline("111111xxx222").buckets():
        chart.line(bucket)
    text = "".join(lines)
    assert "new version 1.0.0" in text and "new version 2.0.0 (▓▓) in second 2" in text
    assert "    1s |████████████████████xxxxxxxxxxxxxxxxxxxx| 1.0.0 2  error 2" in text


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_the_plot_has_a_column_per_second_and_a_legend(tmp_path: Path, suffix: str) -> None:
    t = _timeline("111111xxxxxxx2222222")
    path = save(t, tmp_path / f"plot{suffix}", "a <title> & more")
    if suffix == ".svg":
        svg = ET.parse(path).getroot()  # well-formed, the title escaped
        texts = [e.text for e in svg.iter("{http://www.w3.org/2000/svg}text")]
        assert "a <title> & more" in texts
        assert {"1.0.0 (6)", "2.0.0 (7)", "errors (7)"} <= set(texts)
    else:
        assert Image.open(path).size == (960, 380)
    fills = [getattr(s, "fill", None) for s in shapes(t, "")]
    assert fills.count("#d32f2f") == 4  # the error band in seconds 1 to 3, and the legend


def test_options_are_bounded() -> None:
    for bad in (
        {"url": "ftp://x"},
        {"url": "http://x", "rate": 0},
        {"url": "http://x", "rate": 1000},
        {"url": "http://x", "duration": 100000},
        {"url": "http://x", "timeout": 0},
    ):
        with pytest.raises(ValueError):
            WatchOptions(**bad)  # type: ignore[arg-type]
    assert WatchOptions("http://x", rate=5, duration=3).requests == 15


def test_one_request_reads_the_version_or_classifies_the_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ok":
            return httpx.Response(200, headers={"x-monsterstack-version": "2.0.0"})
        if request.url.path == "/plain":
            return httpx.Response(200)
        if request.url.path == "/down":
            raise httpx.ConnectError("refused")
        return httpx.Response(503)

    async def go(path: str) -> Sample:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await _one(client, WatchOptions(f"http://t{path}", timeout=1), 0.0)

    assert asyncio.run(go("/ok")).outcome == "2.0.0"
    assert asyncio.run(go("/plain")).outcome == "(no version header)"
    assert (asyncio.run(go("/down")).outcome, asyncio.run(go("/down")).detail) == (
        ERROR,
        "ConnectError",
    )
    assert (asyncio.run(go("/503")).outcome, asyncio.run(go("/503")).detail) == (ERROR, "503")


def test_a_slow_answer_is_a_timeout() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(200, headers={"x-monsterstack-version": "1.0.0"})

    async def go() -> Sample:
        async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
            return await _one(client, WatchOptions("http://t/", timeout=0.1), 0.0)

    sample = asyncio.run(go())
    assert sample.outcome == TIMEOUT and sample.latency < 0.5
