"""The smooth style: an anti-aliased vector monster assembled from parts.

Every part is designed in the 100 x 100 unit square. The body is a smooth closed curve through
a symmetric width profile; the face, limbs and top are placed from that profile, so any body
gets a face that fits it. Draw order: legs, arms and top behind the body, then the body, its
pattern, the eyes and the mouth.
"""

from __future__ import annotations

from typing import NamedTuple

from .palette import DEFAULT_THEME, Palette, Theme, palette
from .scene import Paint, PathBuilder, Shape, ellipse, mirror_x, polygon
from .seed import Seed, name_key

CX = 50.0  # the body's vertical axis
OUTLINE = 2.2  # outline width, in units of the 100-unit square

# Height fractions of the profile points between the top (0) and the bottom (1) of the body.
_FRACTIONS = (0.0, 0.12, 0.32, 0.55, 0.78, 0.94, 1.0)

# Half-widths at those fractions: the silhouettes. Top and bottom points sit on the axis.
_BODIES: dict[str, tuple[float, ...]] = {
    "egg": (0, 19, 26, 28, 27, 19, 0),
    "pear": (0, 13, 19, 26, 31, 25, 0),
    "box": (0, 25, 29, 29, 29, 26, 0),
    "blob": (0, 23, 32, 34, 32, 23, 0),
    "bean": (0, 15, 19, 20, 20, 16, 0),
    "onion": (0, 24, 30, 27, 21, 13, 0),
    "ghost": (0, 20, 25, 26, 27, 27, 27),
}
_BODY_KINDS = tuple(sorted(_BODIES))  # the order the seed picks from

# The part families: one variant of each is drawn per monster.
EYES = ("pair", "cyclops", "trio", "sleepy", "angry", "dots", "odd")
MOUTHS = ("smile", "grin", "fangs", "oh", "toothy", "tongue", "tusks", "wavy")
TOPS = ("none", "horns", "unicorn", "ears", "pointy", "antennae", "spikes", "tuft")
ARMS = ("none", "stubby", "raised", "down", "wave", "tentacles", "claws")
LEGS = ("none", "stubby", "legs", "three", "tentacles", "long")
PATTERNS = ("none", "belly", "spots", "cheeks", "freckles", "gem")


def combinations() -> int:
    """Distinct part combinations (body kind, eyes and gaze, mouth, top, arms, legs, pattern,
    body hue), not counting the continuous variation of sizes, proportions and shades."""
    return (
        len(_BODIES)
        * len(EYES)
        * len(_LOOK)
        * len(MOUTHS)
        * len(TOPS)
        * len(ARMS)
        * len(LEGS)
        * len(PATTERNS)
        * 360
    )


class Body(NamedTuple):  # a tuple: a third of the cost of a frozen dataclass
    top: float
    bottom: float
    widths: tuple[float, ...]
    ghost: bool

    def y(self, f: float) -> float:
        return self.top + (self.bottom - self.top) * f

    def half_width(self, f: float) -> float:
        """Half-width of the profile at height fraction f, by linear interpolation."""
        for i in range(1, len(_FRACTIONS)):
            f0, f1 = _FRACTIONS[i - 1], _FRACTIONS[i]
            if f <= f1:
                w0, w1 = self.widths[i - 1], self.widths[i]
                return w0 + (w1 - w0) * (f - f0) / (f1 - f0)
        return self.widths[-1]


class Face(NamedTuple):  # a tuple: a third of the cost of a frozen dataclass
    eye_y: float
    mouth_y: float
    width: float  # half-width available for the face


def _body(seed: Seed) -> Body:
    kind = seed.choice(_BODY_KINDS)
    top = float(seed.between(27, 36))
    bottom = float(seed.between(78, 85))
    girth = seed.between(88, 110) / 100
    widths = tuple(min(w * girth, 38.0) for w in _BODIES[kind])
    return Body(top, bottom, widths, kind == "ghost")


def _catmull_rom(points: list[tuple[float, float]], closed: bool) -> PathBuilder:
    """A smooth curve through the points, as cubic Bezier segments (Catmull-Rom, tension 1/6)."""
    n = len(points)
    b = PathBuilder().move(*points[0])
    last = n if closed else n - 1
    for i in range(last):
        x0, y0 = points[(i - 1) % n] if closed or i > 0 else points[0]
        x1, y1 = points[i]
        x2, y2 = points[(i + 1) % n]
        x3, y3 = points[(i + 2) % n] if closed or i + 2 < n else points[-1]
        b.cubic(
            x1 + (x2 - x0) / 6, y1 + (y2 - y0) / 6, x2 - (x3 - x1) / 6, y2 - (y3 - y1) / 6, x2, y2
        )
    return b.close() if closed else b


def _body_outline(body: Body) -> list[tuple[float, float]]:
    right = [(CX + w, body.y(f)) for f, w in zip(_FRACTIONS, body.widths, strict=True)][1:-1]
    if body.ghost:
        # A scalloped hem instead of a rounded bottom.
        w = body.widths[-1]
        hem = [(CX + w, body.bottom), (CX + w / 2, body.bottom - 5), (CX, body.bottom)]
        hem += [(CX - w / 2, body.bottom - 5), (CX - w, body.bottom)]
        left = [(mirror_x(x), y) for x, y in reversed(right)]
        return [(CX, body.top), *right, *hem, *left]
    left = [(mirror_x(x), y) for x, y in reversed(right)]
    return [(CX, body.top), *right, (CX, body.bottom), *left]


# --- eyes -------------------------------------------------------------------------------------

_LOOK = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, 1), (1, 1))


def _eyeball(x: float, y: float, r: float, pal: Palette, look: tuple[int, int]) -> list[Shape]:
    pr = r * 0.5
    px, py = x + look[0] * r * 0.3, y + look[1] * r * 0.3
    return [
        ellipse(x, y, r, r, Paint(pal.eye, pal.shade, OUTLINE * 0.7)),
        ellipse(px, py, pr, pr, Paint(pal.pupil)),
        ellipse(px - pr * 0.35, py - pr * 0.4, pr * 0.3, pr * 0.3, Paint(pal.eye)),
    ]


def _lid(x: float, y: float, r: float, pal: Palette) -> Shape:
    """An upper eyelid: the top half of the eye, in the outline colour."""
    k = r * 0.5523  # Bezier handle length for a quarter circle
    return (
        PathBuilder()
        .move(x - r - 0.4, y)
        .cubic(x - r - 0.4, y - k, x - k, y - r - 0.4, x, y - r - 0.4)
        .cubic(x + k, y - r - 0.4, x + r + 0.4, y - k, x + r + 0.4, y)
        .close()
        .build(Paint(pal.shade))
    )


def _eyes(seed: Seed, face: Face, pal: Palette) -> list[Shape]:
    kind = seed.choice(EYES)
    look = seed.choice(_LOOK)
    y = face.eye_y
    r = min(seed.between(55, 80) / 10, face.width * 0.3)
    d = min(r * 1.45, face.width - r - 1.5)
    out: list[Shape] = []
    if kind == "cyclops":
        out += _eyeball(CX, y, r * 1.55, pal, look)
    elif kind == "trio":
        small = r * 0.75
        for x, yy in ((CX - d, y + 2), (CX, y - small * 0.9), (CX + d, y + 2)):
            out += _eyeball(x, yy, small, pal, look)
    elif kind == "dots":
        for x in (CX - d * 0.85, CX + d * 0.85):
            out.append(ellipse(x, y, r * 0.42, r * 0.6, Paint(pal.pupil)))
            out.append(ellipse(x - r * 0.12, y - r * 0.25, r * 0.14, r * 0.14, Paint(pal.eye)))
    elif kind == "odd":
        out += _eyeball(CX - d * 0.9, y, r * 1.15, pal, look)
        out += _eyeball(CX + d, y + 1, r * 0.7, pal, look)
    else:
        for x in (CX - d, CX + d):
            out += _eyeball(x, y, r, pal, look)
            if kind == "sleepy":
                out.append(_lid(x, y, r, pal))
        if kind == "angry":
            for side in (-1, 1):
                inner, outer = CX + side * (d - r * 0.9), CX + side * (d + r * 1.1)
                top = y - r - 1.2
                out.append(
                    polygon(
                        [
                            (inner, top + 2.2),
                            (outer, top - 2.4),
                            (outer, top - 0.4),
                            (inner, top + 4),
                        ],
                        Paint(pal.shade),
                    )
                )
    return out


# --- mouths -----------------------------------------------------------------------------------


def _teeth(left: float, right: float, y: float, n: int, h: float, pal: Palette) -> list[Shape]:
    """n triangles hanging from the line y between left and right (negative h: pointing up)."""
    step = (right - left) / n
    return [
        polygon(
            [(left + i * step, y), (left + (i + 1) * step, y), (left + (i + 0.5) * step, y + h)],
            Paint(pal.tooth),
        )
        for i in range(n)
    ]


def _mouth(seed: Seed, face: Face, body: Body, pal: Palette) -> list[Shape]:
    kind = seed.choice(MOUTHS)
    y = face.mouth_y
    mw = min(face.width * 0.62, float(seed.between(9, 15)))
    depth = min(mw * 0.8, (body.bottom - y) * 0.55)
    lx, rx = CX - mw, CX + mw
    dark = Paint(pal.mouth)
    if kind in ("smile", "fangs", "tusks"):
        bend = depth if kind != "tusks" else depth * 0.45
        crescent = (
            PathBuilder()
            .move(lx, y)
            .quad(CX, y + bend * 1.6, rx, y)
            .quad(CX, y + bend * 0.7, lx, y)
            .close()
            .build(dark)
        )
        out: list[Shape] = [crescent]
        if kind == "fangs":
            for x in (CX - mw * 0.45, CX + mw * 0.45):
                out.append(
                    polygon([(x - 2, y + 1.2), (x + 2, y + 1.2), (x, y + 6.5)], Paint(pal.tooth))
                )
        if kind == "tusks":
            for side in (-1, 1):
                x = CX + side * mw * 0.8
                out.append(
                    polygon(
                        [(x - 2, y + 2), (x + 2, y + 2), (x + side * 1.5, y - 5)],
                        Paint(pal.tooth, pal.shade, OUTLINE * 0.4),
                    )
                )
        return out
    if kind == "oh":
        return [
            ellipse(CX, y + depth * 0.4, mw * 0.4, depth * 0.55, dark),
            ellipse(CX, y + depth * 0.7, mw * 0.25, depth * 0.2, Paint(pal.tongue)),
        ]
    if kind == "wavy":
        b = PathBuilder().move(lx, y)
        n = 4
        step = 2 * mw / n
        for i in range(n):
            b.line(lx + (i + 0.5) * step, y + (2.5 if i % 2 == 0 else -2.5))
        b.line(rx, y)
        return [b.build(Paint(None, pal.mouth, OUTLINE * 1.1))]
    # grin, toothy, tongue: an open D-shaped mouth
    open_mouth = (
        PathBuilder()
        .move(lx, y)
        .line(rx, y)
        .cubic(rx, y + depth * 1.3, lx, y + depth * 1.3, lx, y)
        .close()
        .build(Paint(pal.mouth, pal.shade, OUTLINE * 0.6))
    )
    out = [open_mouth]
    if kind == "tongue":
        out.append(ellipse(CX, y + depth * 0.72, mw * 0.45, depth * 0.26, Paint(pal.tongue)))
    teeth_n = 4 if kind == "grin" else 6
    out += _teeth(lx + mw * 0.25, rx - mw * 0.25, y, teeth_n, depth * 0.35, pal)
    if kind == "toothy":
        out += _teeth(CX - mw * 0.45, CX + mw * 0.45, y + depth * 0.96, 3, -depth * 0.3, pal)
    return out


# --- top: horns, ears, antennae ----------------------------------------------------------------


def _top(seed: Seed, body: Body, pal: Palette) -> list[Shape]:
    kind = seed.choice(TOPS)
    t = body.top
    w = body.half_width(0.12)
    lined = Paint(pal.accent, pal.shade, OUTLINE)
    out: list[Shape] = []
    if kind == "horns":
        spread = seed.between(0, 6)
        for side in (-1, 1):
            base_in, base_out = CX + side * (w * 0.35), CX + side * (w * 0.8)
            tip = (CX + side * (w * 0.9 + spread + 4), t - 15)
            out.append(
                PathBuilder()
                .move(base_in, t + 6)
                .quad(base_in + side * 2, t - 6, *tip)
                .quad(base_out + side * 2, t - 2, base_out, t + 8)
                .close()
                .build(lined)
            )
    elif kind == "unicorn":
        out.append(polygon([(CX - 5, t + 5), (CX + 5, t + 5), (CX, t - 19)], lined))
    elif kind in ("ears", "pointy"):
        for side in (-1, 1):
            x = CX + side * w * 0.85
            if kind == "ears":
                out.append(ellipse(x, t + 3, 9, 9, Paint(pal.body, pal.shade, OUTLINE)))
                out.append(ellipse(x, t + 3, 5, 5, Paint(pal.light)))
            else:
                tip = (x + side * 7, t - 14)
                out.append(
                    polygon(
                        [(x - 8, t + 8), tip, (x + 8, t + 8)], Paint(pal.body, pal.shade, OUTLINE)
                    )
                )
                out.append(
                    polygon(
                        [(x - 4, t + 6), (x + side * 5.5, t - 8), (x + 4, t + 6)], Paint(pal.light)
                    )
                )
    elif kind == "antennae":
        for side in (-1, 1):
            end = (CX + side * (w * 0.6 + 6), t - 15)
            out.append(
                PathBuilder()
                .move(CX + side * 5, t + 4)
                .quad(CX + side * 5, t - 8, *end)
                .build(Paint(None, pal.shade, OUTLINE * 1.2))
            )
            out.append(ellipse(*end, 4, 4, Paint(pal.accent, pal.shade, OUTLINE * 0.8)))
    elif kind == "spikes":
        n = seed.between(3, 5)
        span = w * 1.3
        step = span / n
        for i in range(n):
            x0 = CX - span / 2 + i * step
            out.append(polygon([(x0, t + 7), (x0 + step / 2, t - 8), (x0 + step, t + 7)], lined))
    elif kind == "tuft":
        for dx, h in ((-6, 11), (0, 16), (6, 11)):
            out.append(
                PathBuilder()
                .move(CX + dx - 4, t + 5)
                .quad(CX + dx - 3, t - h * 0.6, CX + dx + 2, t - h)
                .quad(CX + dx + 1, t - h * 0.4, CX + dx + 4, t + 5)
                .close()
                .build(Paint(pal.shade))
            )
    return out


# --- arms and legs -----------------------------------------------------------------------------


def _limb(points: list[tuple[float, float]], thick: float, pal: Palette) -> list[Shape]:
    """A limb as a curve, outline colour under body colour, so it reads as an outlined tube."""
    curve = _catmull_rom(points, closed=False)
    return [
        curve.build(Paint(None, pal.shade, thick + OUTLINE * 2)),
        curve.build(Paint(None, pal.body, thick)),
    ]


def _hand(x: float, y: float, r: float, pal: Palette) -> Shape:
    return ellipse(x, y, r, r, Paint(pal.body, pal.shade, OUTLINE))


def _arms(seed: Seed, face: Face, body: Body, pal: Palette) -> list[Shape]:
    kind = seed.choice(ARMS)
    y = face.mouth_y - 2
    w = body.half_width((y - body.top) / (body.bottom - body.top)) - 3
    out: list[Shape] = []
    for side in (-1, 1):
        x = CX + side * w
        pose = kind if kind != "wave" else ("raised" if side < 0 else "down")
        if pose == "stubby":
            out.append(ellipse(x + side * 5, y + 2, 8, 5, Paint(pal.body, pal.shade, OUTLINE)))
        elif pose in ("raised", "down", "claws"):
            dy = -17 if pose == "raised" else 13
            end = (x + side * 13, y + dy)
            out += _limb([(x, y), (x + side * 9, y + dy * 0.35), end], 5.0, pal)
            out.append(_hand(*end, 4, pal))
            if pose == "claws":
                for k in (-1, 0, 1):
                    cx, cy = end[0] + side * 2 + k * 2.5, end[1] + 3
                    claw = [(cx - 1.2, cy), (cx + 1.2, cy), (cx, cy + 4.5)]
                    out.append(polygon(claw, Paint(pal.tooth, pal.shade, 0.5)))
        elif pose == "tentacles":
            out += _limb(
                [(x, y), (x + side * 10, y + 2), (x + side * 12, y + 12), (x + side * 18, y + 14)],
                4.0,
                pal,
            )
    return out


def _legs(seed: Seed, body: Body, pal: Palette) -> list[Shape]:
    kind = seed.choice(LEGS)
    if body.ghost and kind in ("legs", "long"):
        kind = "none"  # a ghost's hem hides what legs it has
    b = body.bottom
    d = body.half_width(0.9) * 0.55
    foot = Paint(pal.body, pal.shade, OUTLINE)
    out: list[Shape] = []
    if kind == "stubby":
        for x in (CX - d, CX + d):
            out.append(ellipse(x, b + 1, 8, 5.5, foot))
    elif kind == "three":
        for x in (CX - d * 1.2, CX, CX + d * 1.2):
            out.append(ellipse(x, b + 1.5, 6.5, 5, foot))
    elif kind in ("legs", "long"):
        ground = 96.0 if kind == "long" else 93.0
        for side in (-1, 1):
            x = CX + side * d * (0.8 if kind == "legs" else 0.6)
            knee = x + side * (4 if kind == "long" else 0)
            out += _limb([(x, b - 6), (knee, (b + ground) / 2), (x, ground - 2)], 5.5, pal)
            out.append(ellipse(x + side * 3, ground - 1.5, 6.5, 3.2, foot))
    elif kind == "tentacles":
        for i, x in enumerate((CX - d * 1.1, CX - d * 0.37, CX + d * 0.37, CX + d * 1.1)):
            sway = 4 if i % 2 == 0 else -4
            out += _limb([(x, b - 6), (x + sway, b + 4), (x - sway * 0.5, 95)], 4.0, pal)
    return out


# --- pattern ----------------------------------------------------------------------------------


def _pattern(seed: Seed, face: Face, body: Body, pal: Palette) -> list[Shape]:
    kind = seed.choice(PATTERNS)
    out: list[Shape] = []
    if kind == "belly":
        f = 0.83
        out.append(
            ellipse(
                CX,
                body.y(f),
                body.half_width(f) * 0.6,
                (body.bottom - body.top) * 0.12,
                Paint(pal.light),
            )
        )
    elif kind == "spots":
        places = [(0.2, 0.55), (0.5, 0.78), (0.82, 0.6), (0.06, 0.0), (0.92, 0.0)]
        n = seed.between(3, 5)
        for f, reach in places[:n]:
            side = -1 if seed.chance(50) else 1
            x = CX + side * body.half_width(f) * reach
            r = seed.between(20, 40) / 10
            out.append(ellipse(x, body.y(f), r, r, Paint(pal.accent)))
    elif kind == "cheeks":
        for side in (-1, 1):
            out.append(
                ellipse(CX + side * face.width * 0.78, face.mouth_y - 3, 4, 2.6, Paint(pal.cheek))
            )
    elif kind == "freckles":
        for side in (-1, 1):
            x0 = CX + side * face.width * 0.7
            for dx, dy in ((0, 0), (2.6, 1.3), (-2.4, 1.6)):
                out.append(ellipse(x0 + dx, face.mouth_y - 6 + dy, 0.8, 0.8, Paint(pal.shade)))
    elif kind == "gem":
        y = body.top + 6
        out.append(
            polygon(
                [(CX, y - 3.5), (CX + 3, y), (CX, y + 3.5), (CX - 3, y)],
                Paint(pal.accent, pal.shade, 0.8),
            )
        )
    return out


# --- the whole monster --------------------------------------------------------------------------


def build(name: str, domain: str, theme: Theme = DEFAULT_THEME) -> list[Shape]:
    """The smooth monster for a name, as shapes in draw order.

    Each part family draws from its own seed stream, so a part that takes more or fewer
    choices never shifts what the other parts get.
    """

    key = name_key(name)  # normalised and encoded once for the 8 streams

    def seed(part: str) -> Seed:
        return Seed.of(f"{domain}/{part}", key)

    pal = palette(seed("palette"), theme)
    body = _body(seed("body"))
    face = Face(
        eye_y=body.y(0.33),
        mouth_y=body.y(0.6),
        width=min(body.half_width(0.33), body.half_width(0.6)) - 4,
    )
    legs = _legs(seed("legs"), body, pal)
    arms = _arms(seed("arms"), face, body, pal)
    top = _top(seed("top"), body, pal)
    outline = _catmull_rom(_body_outline(body), closed=True).build(
        Paint(pal.body, pal.shade, OUTLINE)
    )
    pattern = _pattern(seed("pattern"), face, body, pal)
    eyes = _eyes(seed("eyes"), face, pal)
    mouth = _mouth(seed("mouth"), face, body, pal)
    return [*legs, *arms, *top, outline, *pattern, *eyes, *mouth]
