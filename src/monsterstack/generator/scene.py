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
    """Shortest text for a coordinate already rounded to 2 decimals: 12.5, 3, 0.25.

    '%g' keeps 6 significant digits, more than any coordinate here needs (all are < 10000).
    """
    text = f"{v:g}"
    return "0" if text == "-0" else text


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


# A path command: ("M", (x, y)), ("L", (x, y)), ("Q", (x1, y1, x, y)),
# ("C", (x1, y1, x2, y2, x, y)) or ("Z", ()), coordinates rounded to 2 decimals.
Command = tuple[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class Path:
    commands: tuple[Command, ...]
    paint: Paint

    @property
    def d(self) -> str:
        """SVG path data (coordinates print as num() prints them: never -0, see _add)."""
        return " ".join(_TEMPLATES[op] % xy for op, xy in self.commands)


Shape = Ellipse | Path


_TEMPLATES = {
    "M": "M%g %g",
    "L": "L%g %g",
    "Q": "Q%g %g %g %g",
    "C": "C%g %g %g %g %g %g",
    "Z": "Z",
}


class PathBuilder:
    """Collects path commands with rounded coordinates; both back ends read the same ones."""

    __slots__ = ("_commands",)

    def __init__(self) -> None:
        self._commands: list[Command] = []

    def _add(self, op: str, *xy: float) -> PathBuilder:
        # "+ 0.0" turns -0.0 into 0.0, so "%g" never prints "-0".
        self._commands.append((op, tuple([round(v, 2) + 0.0 for v in xy])))
        return self

    def move(self, x: float, y: float) -> PathBuilder:
        return self._add("M", x, y)

    def line(self, x: float, y: float) -> PathBuilder:
        return self._add("L", x, y)

    def quad(self, x1: float, y1: float, x: float, y: float) -> PathBuilder:
        return self._add("Q", x1, y1, x, y)

    def cubic(self, x1: float, y1: float, x2: float, y2: float, x: float, y: float) -> PathBuilder:
        return self._add("C", x1, y1, x2, y2, x, y)

    def close(self) -> PathBuilder:
        self._commands.append(("Z", ()))
        return self

    def build(self, paint: Paint) -> Path:
        return Path(tuple(self._commands), paint)


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
