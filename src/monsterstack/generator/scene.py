"""A monster as a flat list of vector shapes, in a 100 x 100 unit square.

The smooth style builds a Scene; the SVG writer and the rasteriser both read the same Scene,
so the SVG is the same drawing as the PNG, shape for shape. Parts are designed in units of
the square (floats), and a shape stores its coordinates in fixed point: integers in
hundredths of a unit (`fixed`), so the square is GRID = 10,000 wide in the scene. Both back
ends receive the same integers: the SVG prints them as they are (viewBox 0 0 10000 10000), the
rasteriser scales them to pixels.
"""

from __future__ import annotations

from typing import NamedTuple

VIEW = 100  # the side of the unit square every smooth part is designed in
UNIT = 100  # scene coordinates per design unit: hundredths
GRID = VIEW * UNIT  # the side of the square in scene coordinates

RGB = tuple[int, int, int]


def fixed(v: float) -> int:
    """A design-unit coordinate in the scene's fixed point: the nearest hundredth, as an int.
    One multiplication and round-half-even on a double: the same on every machine, and ~5x
    cheaper than round(v, 2), which goes through decimal text."""
    return round(v * UNIT)


def num(v: float) -> str:
    """Short text for a number that is not an integer coordinate (a viewBox edge, a stroke
    width), to 8 significant digits: without float noise (154, not 154.00000000000003), and
    within 1e-6 of a unit for a non-square canvas's viewBox (100 x 30: -11666.667)."""
    text = f"{v:.8g}"
    return "0" if text == "-0" else text


# The shapes are NamedTuples: immutable and hashable like frozen dataclasses, but made in a
# third of the time (a tuple, where a frozen dataclass sets each field through
# object.__setattr__), and a monster makes ~50 of them.


class Paint(NamedTuple):
    fill: RGB | None = None
    stroke: RGB | None = None
    width: float = 0.0  # stroke width in design units (not fixed point: few, and constants)


class Ellipse(NamedTuple):
    cx: int  # fixed point, like every scene coordinate
    cy: int
    rx: int
    ry: int
    paint: Paint


# A path command: ("M", (x, y)), ("L", (x, y)), ("Q", (x1, y1, x, y)),
# ("C", (x1, y1, x2, y2, x, y)) or ("Z", ()), coordinates in fixed point.
Command = tuple[str, tuple[int, ...]]


class Path(NamedTuple):
    commands: tuple[Command, ...]
    paint: Paint

    @property
    def d(self) -> str:
        """SVG path data, integers in the scene's fixed point."""
        return " ".join(_TEMPLATES[op] % xy for op, xy in self.commands)


Shape = Ellipse | Path


_TEMPLATES = {
    "M": "M%d %d",
    "L": "L%d %d",
    "Q": "Q%d %d %d %d",
    "C": "C%d %d %d %d %d %d",
    "Z": "Z",
}


class PathBuilder:
    """Collects path commands in design units, stored in fixed point; both back ends read the
    same integers."""

    __slots__ = ("_commands",)

    def __init__(self) -> None:
        self._commands: list[Command] = []

    # Each command rounds its own coordinates (fixed(), written out): this is the innermost
    # loop of a render, ~60 commands an avatar, and a generic *args version costs twice as much.

    def move(self, x: float, y: float) -> PathBuilder:
        self._commands.append(("M", (round(x * UNIT), round(y * UNIT))))
        return self

    def line(self, x: float, y: float) -> PathBuilder:
        self._commands.append(("L", (round(x * UNIT), round(y * UNIT))))
        return self

    def quad(self, x1: float, y1: float, x: float, y: float) -> PathBuilder:
        u = UNIT
        self._commands.append(("Q", (round(x1 * u), round(y1 * u), round(x * u), round(y * u))))
        return self

    def cubic(self, x1: float, y1: float, x2: float, y2: float, x: float, y: float) -> PathBuilder:
        u = UNIT
        xy = (
            round(x1 * u),
            round(y1 * u),
            round(x2 * u),
            round(y2 * u),
            round(x * u),
            round(y * u),
        )
        self._commands.append(("C", xy))
        return self

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
    return Ellipse(fixed(cx), fixed(cy), fixed(rx), fixed(ry), paint)


def mirror_x(x: float) -> float:
    """The x coordinate reflected about the square's vertical centre line."""
    return VIEW - x
