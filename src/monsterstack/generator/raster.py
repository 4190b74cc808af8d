"""Scene -> anti-aliased RGBA pixels, with AGG (aggdraw) drawing onto a Pillow image.

AGG blends each shape into the buffer as if the buffer's colour were meaningful where alpha is
zero, which is exactly premultiplied-alpha compositing onto transparent black. So we hand the
buffer to Pillow as premultiplied ("RGBa") and let its decoder unpremultiply it into the
straight RGBA that PNG and WebP expect; edges then keep their colour instead of fading to a
dark fringe.
"""

from __future__ import annotations

from functools import lru_cache

import aggdraw
from PIL import Image

from .scene import GRID, RGB, UNIT, Ellipse, Paint, Path, Shape

# Pens and brushes are kept across renders (bounded): the eye, pupil and tooth paints are the
# same in every monster, and a Pen or Brush is only its colour and width, so sharing one
# between draws changes nothing drawn.


@lru_cache(maxsize=1024)
def _brush(colour: RGB) -> aggdraw.Brush:
    return aggdraw.Brush(colour)


@lru_cache(maxsize=1024)
def _tools(paint: Paint, s: float) -> tuple[object, ...]:
    """The pen and brush for a paint, `s` pixels per scene coordinate."""
    tools: list[object] = []
    if paint.stroke and paint.width:
        # Pen widths are in pixels: aggdraw's transform moves points but does not scale pens.
        tools.append(aggdraw.Pen(paint.stroke, paint.width * UNIT * s))
    if paint.fill:
        tools.append(_brush(paint.fill))
    return tuple(tools)


def _path(shape: Path, s: float, ox: float, oy: float) -> aggdraw.Path:
    """The outline in pixel coordinates. Scaling here rather than with a draw transform lets
    AGG flatten curves for the final size, so a 1024 px monster has round curves. One branch
    per command, unpacked by hand: this loop runs ~60 times an avatar."""
    path = aggdraw.Path()
    x0 = y0 = 0  # the current point, in scene coordinates
    for op, xy in shape.commands:
        if op == "C":
            x1, y1, x2, y2, x0, y0 = xy
            path.curveto(
                x1 * s + ox, y1 * s + oy, x2 * s + ox, y2 * s + oy, x0 * s + ox, y0 * s + oy
            )
        elif op == "L":
            x0, y0 = xy
            path.lineto(x0 * s + ox, y0 * s + oy)
        elif op == "Q":  # the same curve as a cubic: controls 2/3 of the way to the quadratic's
            qx, qy, x, y = xy
            path.curveto(
                (x0 + (qx - x0) * 2 / 3) * s + ox,
                (y0 + (qy - y0) * 2 / 3) * s + oy,
                (x + (qx - x) * 2 / 3) * s + ox,
                (y + (qy - y) * 2 / 3) * s + oy,
                x * s + ox,
                y * s + oy,
            )
            x0, y0 = x, y
        elif op == "M":
            x0, y0 = xy
            path.moveto(x0 * s + ox, y0 * s + oy)
        else:
            path.close()
    return path


# aggdraw fills a pen-less shape through AGG's contour generator with width 0.5 ("expand
# polygons by 0.5 pixels by default"), and AGG's stroker offsets by half the width: the fill
# comes out 0.25 px beyond the outline. (With a pen the contour is half the pen's width, under
# the stroke.) Measured against algorithm 1's fill-and-stroke on 200 names, 0.25 gives the
# smallest difference (mean 0.16 of 255 at 80 px on white; 0.2: 0.25, 0.3: 0.26, 0.5: 0.98).
FILL_GROWTH = 0.25


def _ellipse(draw: aggdraw.Draw, e: Ellipse, s: float, ox: float, oy: float) -> None:
    x, y, rx, ry = e.cx * s + ox, e.cy * s + oy, e.rx * s, e.ry * s
    p = e.paint
    half = p.width * UNIT * s / 2  # half the pen, in pixels
    if p.fill and p.stroke and p.width and half + FILL_GROWTH < min(rx, ry):
        # An outlined ellipse as two pen-less fills: the outline colour out to the pen's outer
        # edge, then the fill up to its inner edge, each asked FILL_GROWTH smaller since it
        # comes out that much bigger. The same edges as filling and stroking (each edge pixel
        # blends the same two colours by the same coverage), and AGG fills two discs in ~60%
        # of the time it fills one and strokes it.
        outer = half - FILL_GROWTH  # how far each edge moves out from the ellipse
        inner = -half - FILL_GROWTH
        draw.ellipse(
            (x - rx - outer, y - ry - outer, x + rx + outer, y + ry + outer), _brush(p.stroke)
        )
        draw.ellipse(
            (x - rx - inner, y - ry - inner, x + rx + inner, y + ry + inner), _brush(p.fill)
        )
        return
    draw.ellipse((x - rx, y - ry, x + rx, y + ry), *_tools(p, s))


def rasterise(shapes: list[Shape], width: int, height: int) -> Image.Image:
    """Straight-alpha RGBA image of the scene centred in a width x height canvas."""
    side = min(width, height)
    s = side / GRID  # pixels per scene coordinate
    ox, oy = (width - side) / 2, (height - side) / 2
    draw = aggdraw.Draw("RGBA", (width, height), (0, 0, 0, 0))  # its own buffer: no copies
    for shape in shapes:
        if isinstance(shape, Ellipse):
            _ellipse(draw, shape, s, ox, oy)
        else:
            draw.path(_path(shape, s, ox, oy), *_tools(shape.paint, s))
    # Read as premultiplied ("RGBa"): Pillow's decoder turns it into straight alpha on the way.
    return Image.frombytes("RGBA", (width, height), draw.tobytes(), "raw", "RGBa")
