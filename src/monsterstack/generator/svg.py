"""Scene -> SVG text. Deterministic: fixed attribute order, fixed number formatting."""

from __future__ import annotations

from functools import lru_cache

from .scene import GRID, UNIT, Ellipse, Paint, Shape, num

# A fixed title: the name is never written into the image (an SVG is a document a browser
# may open on its own, so echoing input there would be a script-injection vector).
TITLE = "<title>monster</title>"


def hex_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return f"#{r:02x}{g:02x}{b:02x}"


@lru_cache(maxsize=1024)
def _paint(p: Paint) -> str:
    """The paint's attributes; a monster repeats a few paints, and the eye, pupil and tooth
    ones are in every monster, so the text is kept (bounded) rather than made again."""
    fill = hex_colour(p.fill) if p.fill else "none"
    out = f' fill="{fill}"'
    if p.stroke and p.width:
        out += f' stroke="{hex_colour(p.stroke)}" stroke-width="{num(p.width * UNIT)}"'
        out += ' stroke-linejoin="round"'
    return out


def open_tag(width: int, height: int, view: tuple[float, float, float, float], extra: str) -> str:
    vb = " ".join(num(v) for v in view)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="{vb}"{extra}>'
    )


def scene_svg(shapes: list[Shape], width: int, height: int) -> bytes:
    """The monster centred in a width x height canvas, as the rasteriser draws it."""
    side = min(width, height)
    # The viewBox grows on the long axis so the square stays centred and square.
    vw, vh = GRID * width / side, GRID * height / side
    view = (-(vw - GRID) / 2, -(vh - GRID) / 2, vw, vh)
    parts = [open_tag(width, height, view, ' role="img"'), TITLE]
    for s in shapes:
        if isinstance(s, Ellipse):
            parts.append(
                f'<ellipse cx="{s.cx}" cy="{s.cy}" rx="{s.rx}" ry="{s.ry}"{_paint(s.paint)}/>'
            )
        else:
            parts.append(f'<path d="{s.d}"{_paint(s.paint)}/>')
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")
