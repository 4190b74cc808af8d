"""Time one avatar at a time, in this process: ours against robohash and pydenticon."""

from __future__ import annotations

import io
import math
import random
import string
import time
from collections.abc import Callable

from monsterstack.generator import render

SEED = 20240601
SIZES = (80, 256)
FORMATS = ("png", "svg")
STYLES = ("smooth", "pixel")


def make_names(count: int, seed: int = SEED) -> list[str]:
    """`count` distinct names, the same on every run: 4-16 letters and digits."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    names: dict[str, None] = {}
    while len(names) < count:
        names["".join(rng.choices(alphabet, k=rng.randint(4, 16)))] = None
    return list(names)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least pct% of samples <= it."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1]


def time_each(draw: Callable[[str], object], names: list[str]) -> list[float]:
    """Milliseconds per call of `draw(name)`, one sample per name, after one warm-up call."""
    draw("warm-up")
    samples = []
    for name in names:
        start = time.perf_counter_ns()
        draw(name)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def row(label: str, size: int, fmt: str, samples: list[float]) -> dict[str, object]:
    return {
        "label": label,
        "size": size,
        "format": fmt,
        "n": len(samples),
        "median_ms": round(percentile(samples, 50), 4),
        "p99_ms": round(percentile(samples, 99), 4),
    }


def bench_ours(names: list[str]) -> list[dict[str, object]]:
    rows = []
    for style in STYLES:
        for size in SIZES:
            for fmt in FORMATS:
                samples = time_each(lambda n, s=size, f=fmt, st=style: render(n, s, f, st), names)
                rows.append(row(f"monsterstack {style}", size, fmt, samples))
    return rows


def pydenticon_draw(size: int) -> Callable[[str], bytes]:
    import pydenticon

    # The configuration from pydenticon's own documentation: 5x5 cells, md5, 7 colours.
    foreground = [
        "rgb(45,79,255)",
        "rgb(254,180,44)",
        "rgb(226,121,234)",
        "rgb(30,179,253)",
        "rgb(232,77,65)",
        "rgb(49,203,115)",
        "rgb(141,69,170)",
    ]
    generator = pydenticon.Generator(5, 5, foreground=foreground, background="rgb(224,224,224)")
    return lambda name: generator.generate(name, size, size, output_format="png")


def robohash_draw(size: int) -> Callable[[str], bytes]:
    from robohash import Robohash

    def draw(name: str) -> bytes:
        robot = Robohash(name)
        robot.assemble(roboset="set1", sizex=size, sizey=size)
        buf = io.BytesIO()
        robot.img.save(buf, "png")
        return buf.getvalue()

    return draw


def bench_references(names: list[str], robohash_count: int) -> list[dict[str, object]]:
    """pydenticon on every name; robohash (~0.1-0.3 s an avatar) on the first few."""
    rows = []
    for size in SIZES:
        rows.append(row("pydenticon", size, "png", time_each(pydenticon_draw(size), names)))
    for size in SIZES:
        samples = time_each(robohash_draw(size), names[:robohash_count])
        rows.append(row("robohash", size, "png", samples))
    return rows
