"""Time one avatar at a time, in this process: ours against robohash and pydenticon."""

from __future__ import annotations

import io
import math
import random
import string
import time
from collections.abc import Callable
from functools import partial

from monsterstack.generator import render

SEED = 20240601
SIZES = (80, 256)
FORMATS = ("png", "svg", "webp")
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


BLOCK = 100  # names a renderer draws in a row before the next one takes its turn


def time_side_by_side(
    draws: dict[tuple[str, int, str], Callable[[str], object]], names: list[str]
) -> dict[tuple[str, int, str], list[float]]:
    """Milliseconds per call for every draw, taking turns by blocks of BLOCK names: a busy
    spell on the machine hits every renderer alike, so the ratios between them hold even
    when it is noisy, while within a block each renderer runs warm, as it would alone."""
    for draw in draws.values():
        draw("warm-up")
    samples: dict[tuple[str, int, str], list[float]] = {key: [] for key in draws}
    for start in range(0, len(names), BLOCK):
        block = names[start : start + BLOCK]
        for key, draw in draws.items():
            for name in block:
                began = time.perf_counter_ns()
                draw(name)
                samples[key].append((time.perf_counter_ns() - began) / 1e6)
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


def bench_side_by_side(names: list[str]) -> list[dict[str, object]]:
    """Both styles in every size and format, and pydenticon at each size, in turns."""
    draws: dict[tuple[str, int, str], Callable[[str], object]] = {}
    for style in STYLES:
        for size in SIZES:
            for fmt in FORMATS:
                key = (f"monsterstack {style}", size, fmt)
                draws[key] = partial(render, size=size, fmt=fmt, style=style)
    for size in SIZES:
        draws[("pydenticon", size, "png")] = pydenticon_draw(size)
    return [row(*key, samples) for key, samples in time_side_by_side(draws, names).items()]


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


def bench_robohash(names: list[str], count: int) -> list[dict[str, object]]:
    """robohash (~0.1-0.3 s an avatar) on the first few names only."""
    return [
        row("robohash", size, "png", time_each(robohash_draw(size), names[:count]))
        for size in SIZES
    ]


# The PNG encoder's choice (src/monsterstack/generator/png.py), measured: each deflate library
# and level on the very rows our encoder compresses (unfiltered scanlines), per style and size.
PNG_LEVELS = (("zlib", (1, 3, 6)), ("zlib-ng", (1, 2, 3, 6)))


def png_rows(name: str, style: str, size: int) -> bytes:
    """The scanlines, filter bytes included, that the PNG encoder deflates for this avatar."""
    from monsterstack.generator import Style, _domain, pixel, smooth
    from monsterstack.generator.png import scanlines
    from monsterstack.generator.raster import rasterise

    if style == "pixel":
        monster = pixel.build(name, _domain(Style.PIXEL))
        return scanlines(pixel.indices(monster, size, size), size, size)
    shapes = smooth.build(name, _domain(Style.SMOOTH))
    return scanlines(rasterise(shapes, size, size).tobytes(), size * 4, size)


def bench_png(names: list[str]) -> list[dict[str, object]]:
    import zlib

    from zlib_ng import zlib_ng

    compress = {"zlib": zlib.compress, "zlib-ng": zlib_ng.compress}
    rows = []
    for style in STYLES:
        for size in SIZES:
            data = [png_rows(n, style, size) for n in names]
            for lib, levels in PNG_LEVELS:
                for level in levels:
                    samples, sizes = [], []
                    for raw in data:
                        start = time.perf_counter_ns()
                        out = compress[lib](raw, level)
                        samples.append((time.perf_counter_ns() - start) / 1e6)
                        sizes.append(len(out))
                    rows.append(
                        {
                            "style": style,
                            "size": size,
                            "library": lib,
                            "level": level,
                            "median_ms": round(percentile(samples, 50), 4),
                            "mean_bytes": round(sum(sizes) / len(sizes)),
                        }
                    )
    return rows


def profile_smooth(names: list[str], size: int = 80) -> list[dict[str, object]]:
    """Where a smooth PNG's time goes: each step of `render` timed apart, per avatar (medians;
    the steps run cold one after another, so they add to a little more than a whole render)."""
    import aggdraw
    from PIL import Image
    from zlib_ng import zlib_ng

    from monsterstack.generator import Style, _domain, png, smooth
    from monsterstack.generator.raster import _ellipse, _path, _tools
    from monsterstack.generator.scene import GRID, Ellipse

    scale = size / GRID
    steps: dict[str, list[float]] = {
        "building the scene in Python (parts, curves, fixed point)": [],
        "making AGG's paths and pens in Python": [],
        "AGG drawing the shapes (anti-aliased fills and strokes)": [],
        "unpremultiply (Pillow) and PNG scanlines": [],
        "deflate (zlib-ng, the encoder's level)": [],
    }
    timers = list(steps.values())
    for name in names:
        t0 = time.perf_counter_ns()
        shapes = smooth.build(name, _domain(Style.SMOOTH))
        t1 = time.perf_counter_ns()
        made = [
            (s, None) if isinstance(s, Ellipse) else (_path(s, scale, 0, 0), _tools(s.paint, scale))
            for s in shapes
        ]
        t2 = time.perf_counter_ns()
        draw = aggdraw.Draw("RGBA", (size, size), (0, 0, 0, 0))
        for shape, tools in made:
            if tools is None:
                _ellipse(draw, shape, scale, 0, 0)
            else:
                draw.path(shape, *tools)
        t3 = time.perf_counter_ns()
        image = Image.frombytes("RGBA", (size, size), draw.tobytes(), "raw", "RGBa")
        rows = png.scanlines(image.tobytes(), size * 4, size)
        t4 = time.perf_counter_ns()
        zlib_ng.compress(rows, png.rgba_level(size, size))
        t5 = time.perf_counter_ns()
        marks = (t0, t1, t2, t3, t4, t5)
        for timer, a, b in zip(timers, marks, marks[1:], strict=False):
            timer.append((b - a) / 1e3)
    return [
        {"step": step, "size": size, "median_us": round(percentile(us, 50), 1)}
        for step, us in steps.items()
    ]
