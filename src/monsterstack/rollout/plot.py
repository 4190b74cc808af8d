"""The share of answers by version, second by second, as a stacked chart: SVG written by hand,
or PNG drawn with Pillow (the suffix of the file decides). Errors and timeouts are bands of
their own, so a gap is as visible as a switch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .timeline import ERROR, TIMEOUT, Timeline

WIDTH, HEIGHT = 960, 380
LEFT, RIGHT, TOP, BOTTOM = 56, 190, 44, 48
VERSION_COLOURS = ("#2e7d32", "#1565c0", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41")
FAIL_COLOURS = {ERROR: "#d32f2f", TIMEOUT: "#f9a825"}
EMPTY = "#eeeeee"  # a second in which no request was sent (or the watch had ended)
INK, GRID = "#222222", "#cccccc"


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    size: int = 12
    anchor: str = "start"  # start, middle, end


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = GRID


Shape = Rect | Text | Line


def colours(timeline: Timeline) -> dict[str, str]:
    out = {v: VERSION_COLOURS[i % len(VERSION_COLOURS)] for i, v in enumerate(timeline.versions())}
    return {**out, **FAIL_COLOURS}


def _step(seconds: int) -> int:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if seconds / step <= 12:
            return step
    return 900


def shapes(timeline: Timeline, title: str) -> list[Shape]:
    buckets = timeline.buckets()
    n = max(1, len(buckets))
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    dx = pw / n
    palette = colours(timeline)
    order = [*timeline.versions(), ERROR, TIMEOUT]
    out: list[Shape] = [Rect(0, 0, WIDTH, HEIGHT, "#ffffff"), Text(LEFT, 24, title, 14)]
    for bucket in buckets:
        x = LEFT + bucket.second * dx
        total = bucket.total
        if not total:
            out.append(Rect(x, TOP, dx, ph, EMPTY))
            continue
        y: float = TOP + ph
        for outcome in order:
            count = bucket.counts.get(outcome, 0)
            if count:
                h = ph * count / total
                y -= h
                out.append(Rect(x, y, dx, h, palette[outcome]))
    for pct in (0, 25, 50, 75, 100):
        y = TOP + ph * (1 - pct / 100)
        out.append(Line(LEFT, y, LEFT + pw, y))
        out.append(Text(LEFT - 6, y + 4, f"{pct}%", 11, "end"))
    step = _step(n)
    for s in range(0, n + 1, step):
        x = LEFT + s * dx
        out.append(Line(x, TOP + ph, x, TOP + ph + 5, INK))
        out.append(Text(x, TOP + ph + 18, f"{s}s", 11, "middle"))
    out.append(Text(LEFT + pw / 2, HEIGHT - 8, "seconds since the watch started", 12, "middle"))
    out.append(Line(LEFT, TOP + ph, LEFT + pw, TOP + ph, INK))
    out.append(Line(LEFT, TOP, LEFT, TOP + ph, INK))
    counts = {r.version: r.responses for r in timeline.rows()} | dict(timeline.failures())
    legend_x, y = LEFT + pw + 16, TOP + 4
    out.append(Text(legend_x, y + 8, "share of answers", 12))
    for outcome in order:
        if outcome in (ERROR, TIMEOUT) and not counts.get(outcome):
            continue
        y += 22
        out.append(Rect(legend_x, y, 14, 14, palette[outcome]))
        label = outcome + ("s" if outcome in (ERROR, TIMEOUT) else "")
        out.append(Text(legend_x + 20, y + 12, f"{label} ({counts.get(outcome, 0)})", 12))
    return out


def to_svg(items: list[Shape]) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">'
    ]
    for s in items:
        if isinstance(s, Rect):
            parts.append(
                f'<rect x="{s.x:.2f}" y="{s.y:.2f}" width="{s.w:.2f}" height="{s.h:.2f}" '
                f'fill="{s.fill}"/>'
            )
        elif isinstance(s, Line):
            parts.append(
                f'<line x1="{s.x1:.2f}" y1="{s.y1:.2f}" x2="{s.x2:.2f}" y2="{s.y2:.2f}" '
                f'stroke="{s.stroke}"/>'
            )
        else:
            parts.append(
                f'<text x="{s.x:.2f}" y="{s.y:.2f}" font-size="{s.size}" '
                f'text-anchor="{s.anchor}" fill="{INK}">{escape(s.text)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def to_png(items: list[Shape]) -> bytes:
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    fonts: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}
    for s in items:
        if isinstance(s, Rect):
            draw.rectangle(
                (round(s.x), round(s.y), round(s.x + s.w), round(s.y + s.h)), fill=s.fill
            )
        elif isinstance(s, Line):
            draw.line((s.x1, s.y1, s.x2, s.y2), fill=s.stroke)
        else:
            font = fonts.get(s.size)
            if font is None:
                font = fonts[s.size] = ImageFont.load_default(s.size)
            anchor = {"start": "ls", "middle": "ms", "end": "rs"}[s.anchor]
            draw.text((s.x, s.y), s.text, fill=INK, font=font, anchor=anchor)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def save(timeline: Timeline, path: Path, title: str) -> Path:
    """The plot to `path`: PNG if it ends in .png, SVG otherwise."""
    items = shapes(timeline, title)
    if path.suffix.lower() == ".png":
        path.write_bytes(to_png(items))
    else:
        path.write_text(to_svg(items))
    return path
