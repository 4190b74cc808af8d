"""Scene -> anti-aliased RGBA pixels, with AGG (aggdraw) drawing onto a Pillow image.

AGG blends each shape into the buffer as if the buffer's colour were meaningful where alpha is
zero, which is exactly premultiplied-alpha compositing onto transparent black. So we hand the
buffer to Pillow as premultiplied ("RGBa") and let it convert to the straight RGBA that PNG
and WebP expect; edges then keep their colour instead of fading to a dark fringe.
"""

from __future__ import annotations

import aggdraw
from PIL import Image

from .scene import VIEW, Ellipse, Path, Shape


def _tools(shape: Shape, scale: float) -> tuple[object, ...]:
    p = shape.paint
    tools: list[object] = []
    if p.stroke and p.width:
        # Pen widths are in pixels: aggdraw's transform moves points but does not scale pens.
        tools.append(aggdraw.Pen(p.stroke, p.width * scale))
    if p.fill:
        tools.append(aggdraw.Brush(p.fill))
    return tuple(tools)


def _path(shape: Path, scale: float, ox: float, oy: float) -> aggdraw.Path:
    """The outline in pixel coordinates. Scaling here rather than with a draw transform lets
    AGG flatten curves for the final size, so a 1024 px monster has round curves."""
    path = aggdraw.Path()
    x0 = y0 = 0.0  # the current point, in units
    for op, xy in shape.commands:
        if op == "Z":
            path.close()
            continue
        if op == "Q":  # the same curve as a cubic: controls 2/3 of the way to the quadratic's
            qx, qy, x, y = xy
            xy = (
                x0 + (qx - x0) * 2 / 3,
                y0 + (qy - y0) * 2 / 3,
                x + (qx - x) * 2 / 3,
                y + (qy - y) * 2 / 3,
                x,
                y,
            )
        pts = [v * scale + (ox if i % 2 == 0 else oy) for i, v in enumerate(xy)]
        if op == "M":
            path.moveto(*pts)
        elif op == "L":
            path.lineto(*pts)
        else:
            path.curveto(*pts)
        x0, y0 = xy[-2], xy[-1]
    return path


def rasterise(shapes: list[Shape], width: int, height: int) -> Image.Image:
    """Straight-alpha RGBA image of the scene centred in a width x height canvas."""
    side = min(width, height)
    scale = side / VIEW
    ox, oy = (width - side) / 2, (height - side) / 2
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = aggdraw.Draw(canvas)
    for s in shapes:
        tools = _tools(s, scale)
        if isinstance(s, Ellipse):
            x, y = s.cx * scale + ox, s.cy * scale + oy
            rx, ry = s.rx * scale, s.ry * scale
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), *tools)
        else:
            draw.path(_path(s, scale, ox, oy), *tools)
    draw.flush()
    premultiplied = canvas.tobytes()
    return Image.frombuffer("RGBa", (width, height), premultiplied, "raw", "RGBa", 0, 1).convert(
        "RGBA"
    )
