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


@dataclass(frozen=True, slots=True)
class Path:
    d: str  # SVG path data using only M, L, C, Q and Z (what both back ends understand)
    paint: Paint


Shape = Ellipse | Path


class PathBuilder:
    """Builds SVG path data with coordinates already rounded, so both back ends agree."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def _cmd(self, letter: str, *xy: float) -> PathBuilder:
        self._parts.append(letter + " ".join(num(v) for v in xy))
        return self

    def move(self, x: float, y: float) -> PathBuilder:
        return self._cmd("M", x, y)

    def line(self, x: float, y: float) -> PathBuilder:
        return self._cmd("L", x, y)

    def quad(self, x1: float, y1: float, x: float, y: float) -> PathBuilder:
        return self._cmd("Q", x1, y1, x, y)

    def cubic(self, x1: float, y1: float, x2: float, y2: float, x: float, y: float) -> PathBuilder:
        return self._cmd("C", x1, y1, x2, y2, x, y)

    def close(self) -> PathBuilder:
        self._parts.append("Z")
        return self

    def build(self, paint: Paint) -> Path:
        return Path(" ".join(self._parts), paint)


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
