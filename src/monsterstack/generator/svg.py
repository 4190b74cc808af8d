"""Scene -> SVG text. Deterministic: fixed attribute order, fixed number formatting."""

from __future__ import annotations

from .scene import VIEW, Ellipse, Paint, Shape, num

# A fixed title: the name is never written into the image (an SVG is a document a browser
# may open on its own, so echoing input there would be a script-injection vector).
TITLE = "<title>monster</title>"


def hex_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return f"#{r:02x}{g:02x}{b:02x}"


def _paint(p: Paint, scale: float) -> str:
    fill = hex_colour(p.fill) if p.fill else "none"
    out = f' fill="{fill}"'
    if p.stroke and p.width:
        out += f' stroke="{hex_colour(p.stroke)}" stroke-width="{num(p.width * scale)}"'
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
    # The viewBox grows on the long axis so the 100-unit square stays centred and square.
    vw, vh = VIEW * width / side, VIEW * height / side
    view = (-(vw - VIEW) / 2, -(vh - VIEW) / 2, vw, vh)
    parts = [open_tag(width, height, view, ' role="img"'), TITLE]
    for s in shapes:
        if isinstance(s, Ellipse):
            parts.append(
                f'<ellipse cx="{num(s.cx)}" cy="{num(s.cy)}" rx="{num(s.rx)}" ry="{num(s.ry)}"'
                f"{_paint(s.paint, 1)}/>"
            )
        else:
            parts.append(f'<path d="{s.d}"{_paint(s.paint, 1)}/>')
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")
