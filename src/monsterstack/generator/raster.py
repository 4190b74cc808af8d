"""Scene -> anti-aliased RGBA pixels, with AGG (aggdraw) drawing onto a Pillow image.

AGG blends each shape into the buffer as if the buffer's colour were meaningful where alpha is
zero, which is exactly premultiplied-alpha compositing onto transparent black. So we hand the
buffer to Pillow as premultiplied ("RGBa") and let it convert to the straight RGBA that PNG
and WebP expect; edges then keep their colour instead of fading to a dark fringe.
"""

from __future__ import annotations

import aggdraw
from PIL import Image

from .scene import VIEW, Ellipse, Shape


def _tools(shape: Shape, scale: float) -> tuple[object, ...]:
    p = shape.paint
    tools: list[object] = []
    if p.stroke and p.width:
        # Pen widths are in pixels: aggdraw's transform moves points but does not scale pens.
        tools.append(aggdraw.Pen(p.stroke, p.width * scale))
    if p.fill:
        tools.append(aggdraw.Brush(p.fill))
    return tuple(tools)


def rasterise(shapes: list[Shape], width: int, height: int) -> Image.Image:
    """Straight-alpha RGBA image of the scene centred in a width x height canvas."""
    side = min(width, height)
    scale = side / VIEW
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = aggdraw.Draw(canvas)
    draw.settransform((scale, 0, (width - side) / 2, 0, scale, (height - side) / 2))
    for s in shapes:
        tools = _tools(s, scale)
        if isinstance(s, Ellipse):
            draw.ellipse((s.cx - s.rx, s.cy - s.ry, s.cx + s.rx, s.cy + s.ry), *tools)
        else:
            draw.symbol((0, 0), aggdraw.Symbol(s.d), *tools)
    draw.flush()
    return Image.frombuffer("RGBa", (width, height), canvas.tobytes(), "raw", "RGBa", 0, 1).convert(
        "RGBA"
    )
