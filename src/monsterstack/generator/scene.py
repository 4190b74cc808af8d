"""A monster as a flat list of vector shapes, in a 100 x 100 unit square.

The smooth style builds a Scene; the SVG writer and the rasteriser both read the same Scene,
so the SVG is the same drawing as the PNG, shape for shape. Coordinates are rounded to two
decimals when a shape is built, and both back ends receive the rounded numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEW = 100  # the side of the unit square every smooth part is designed in

RGB = tuple[int, int, int]


def num(v: float) -> str:
    """Shortest fixed-point text for a coordinate: 12.5 -> '12.5', 3.0 -> '3', -0.0 -> '0'."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Paint:
    fill: RGB | None = None
    stroke: RGB | None = None
    width: float = 0.0  # stroke width in units of the 100-unit square


@dataclass(frozen=True, slots=True)
class Ellipse:
    cx: float
    cy: float
    rx: float
    ry: float
    paint: Paint


# A path segment: ("M", (x, y)), ("L", (x, y)), ("C", (x1, y1, x2, y2, x, y)) or ("Z", ()).
Segment = tuple[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class Path:
    d: str  # SVG path data (M, L, C, Q, Z)
    segments: tuple[Segment, ...]  # the same outline for the rasteriser, quadratics as cubics
    paint: Paint


Shape = Ellipse | Path


class PathBuilder:
    """Builds a path twice at once, from the same rounded numbers: SVG text and segments."""

    __slots__ = ("_at", "_parts", "_segments")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._segments: list[Segment] = []
        self._at = (0.0, 0.0)

    def _add(self, letter: str, xy: tuple[float, ...]) -> PathBuilder:
        self._parts.append(letter + " ".join(num(v) for v in xy))
        return self

    def move(self, x: float, y: float) -> PathBuilder:
        x, y = round(x, 2), round(y, 2)
        self._segments.append(("M", (x, y)))
        self._at = (x, y)
        return self._add("M", (x, y))

    def line(self, x: float, y: float) -> PathBuilder:
        x, y = round(x, 2), round(y, 2)
        self._segments.append(("L", (x, y)))
        self._at = (x, y)
        return self._add("L", (x, y))

    def quad(self, x1: float, y1: float, x: float, y: float) -> PathBuilder:
        x1, y1, x, y = (round(v, 2) for v in (x1, y1, x, y))
        # The same curve as a cubic: control points 2/3 of the way to the quadratic's.
        x0, y0 = self._at
        cubic = (
            x0 + (x1 - x0) * 2 / 3,
            y0 + (y1 - y0) * 2 / 3,
            x + (x1 - x) * 2 / 3,
            y + (y1 - y) * 2 / 3,
            x,
            y,
        )
        self._segments.append(("C", cubic))
        self._at = (x, y)
        return self._add("Q", (x1, y1, x, y))

    def cubic(self, x1: float, y1: float, x2: float, y2: float, x: float, y: float) -> PathBuilder:
        xy = tuple(round(v, 2) for v in (x1, y1, x2, y2, x, y))
        self._segments.append(("C", xy))
        self._at = (xy[4], xy[5])
        return self._add("C", xy)

    def close(self) -> PathBuilder:
        self._parts.append("Z")
        self._segments.append(("Z", ()))
        return self

    def build(self, paint: Paint) -> Path:
        return Path(" ".join(self._parts), tuple(self._segments), paint)


def polygon(points: list[tuple[float, float]], paint: Paint) -> Path:
    b = PathBuilder().move(*points[0])
    for x, y in points[1:]:
        b.line(x, y)
    return b.close().build(paint)


def ellipse(cx: float, cy: float, rx: float, ry: float, paint: Paint) -> Ellipse:
    r = round
    return Ellipse(r(cx, 2), r(cy, 2), r(rx, 2), r(ry, 2), paint)


def mirror_x(x: float) -> float:
    """The x coordinate reflected about the square's vertical centre line."""
    return VIEW - x
