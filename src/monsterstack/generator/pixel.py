"""The pixel style: the course's look, with parts of our own.

Like the course's dnmonster, a monster is one variant from each of six part families (legs,
hair, arms, body, eyes, mouth) on a 12 x 12 grid, in one colour whose channels lie in 55-254,
with the eyes and the mouth cut out as transparent holes and each cell scaled by an integer.
The part shapes are ours. Every part is left-right symmetric: it is written as the left half
of each row (6 cells, outer edge first) and mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .seed import Seed

GRID = 12
HALF = GRID // 2

# Body: half-widths for rows 2..9, every body at least 4 wide where the face goes (rows 3..8).
_BODY_TOP = 2
_BODIES: tuple[tuple[int, ...], ...] = (
    (3, 4, 5, 5, 5, 5, 4, 3),  # round
    (5, 5, 5, 5, 5, 5, 5, 5),  # block
    (3, 4, 4, 4, 4, 4, 4, 3),  # slim
    (3, 4, 4, 4, 5, 5, 6, 5),  # pear
    (6, 6, 5, 5, 4, 4, 4, 3),  # top-heavy
    (2, 4, 4, 5, 5, 5, 4, 2),  # egg
    (4, 6, 6, 6, 6, 6, 5, 4),  # wide
    (5, 5, 4, 4, 4, 5, 5, 5),  # hourglass
    (4, 4, 4, 4, 4, 4, 4, 4),  # column
    (3, 5, 6, 5, 5, 6, 5, 3),  # lumpy
)

# Other parts: {row: left half of the row}; '#' is a cell of the part.
Part = dict[int, str]

_HAIR: tuple[Part, ...] = (
    {},
    {0: "#.....", 1: ".#....", 2: "..##.."},  # curled horns
    {0: "...#..", 1: "....#.", 2: "....#."},  # antennae
    {0: ".....#", 1: ".....#", 2: "....##"},  # crest
    {0: "..#..#", 1: ".##.##", 2: "######"},  # spikes
    {1: ".##...", 2: ".###.."},  # ears
    {0: "....#.", 1: "...#.#", 2: "....##"},  # tuft
    {0: ".#..#.", 1: ".####.", 2: ".#####"},  # crown
    {1: "..####", 2: ".#####"},  # flat top
    {1: ".....#", 2: "....##"},  # nub
)

_ARMS: tuple[Part, ...] = (
    {},
    {5: "######"},  # straight out
    {2: "#.....", 3: "#.....", 4: "#.....", 5: "######"},  # raised
    {5: ".#####", 6: ".#....", 7: ".#...."},  # hanging
    {4: "######", 7: "######"},  # two pairs
    {6: ".#####"},  # stubby
    {4: "#.....", 5: "######", 6: "#....."},  # pincers
    {3: "#.....", 4: "##....", 5: "######", 6: "##...."},  # wings
)

_LEGS: tuple[Part, ...] = (
    {10: "...#..", 11: "...#.."},  # two legs
    {10: "..#...", 11: ".##..."},  # wide stance
    {10: "...#..", 11: "..##.."},  # feet
    {10: ".#.#.#", 11: "#.#.#."},  # tentacles
    {10: "..##.."},  # stubs
    {10: "....##", 11: "....##"},  # one thick leg
    {10: "..#...", 11: "..#..."},  # long apart
    {10: ".#####", 11: "#.#.#."},  # skirt
)

_EYES: tuple[Part, ...] = (
    {4: "...#.."},  # dots
    {4: "..##..", 5: "..##.."},  # big
    {4: "..####"},  # visor
    {4: "....##", 5: "....##"},  # cyclops
    {5: "..##.."},  # slits
    {3: "...#..", 4: "...#..", 5: "...#.."},  # tall
    {3: ".....#", 5: "..#..."},  # three eyes
    {4: "..#...", 5: "...#.."},  # sad
    {3: "..#...", 4: "...#.."},  # angry
    {4: "..#.#."},  # far apart pairs
)

_MOUTHS: tuple[Part, ...] = (
    {7: "...###"},  # line
    {6: "..#...", 7: "...###"},  # smile
    {6: "...###", 7: "..#..."},  # frown
    {7: "....##", 8: "....##"},  # oh
    {7: "..####", 8: "..#.#."},  # teeth
    {7: "..####", 8: "..#.##"},  # fangs
    {7: "..####", 8: "..####"},  # grin
    {7: "....##"},  # small
    {7: "..#.#.", 8: "...#.#"},  # zigzag
    {6: "..####", 7: "...#.."},  # vampire
)


@dataclass(frozen=True, slots=True)
class PixelMonster:
    cells: tuple[tuple[bool, ...], ...]  # GRID rows of GRID cells: True where painted
    colour: tuple[int, int, int]


def _cells(part: Part) -> set[tuple[int, int]]:
    """The (row, column) cells of a half-written part, mirrored to both halves."""
    out = set()
    for row, half in part.items():
        for col, ch in enumerate(half):
            if ch == "#":
                out.add((row, col))
                out.add((row, GRID - 1 - col))
    return out


def _body_cells(widths: tuple[int, ...]) -> set[tuple[int, int]]:
    return {(_BODY_TOP + i, col) for i, w in enumerate(widths) for col in range(HALF - w, HALF + w)}


def combinations() -> int:
    """Distinct monsters: one variant per part family times the 200^3 colours."""
    shapes = 1
    for family in (_BODIES, _HAIR, _ARMS, _LEGS, _EYES, _MOUTHS):
        shapes *= len(family)
    return shapes * 200**3


def build(name: str, domain: str) -> PixelMonster:
    seed = Seed(domain, name)
    filled = _body_cells(seed.choice(_BODIES))
    for family in (_HAIR, _ARMS, _LEGS):
        filled |= _cells(seed.choice(family))
    holes = _cells(seed.choice(_EYES)) | _cells(seed.choice(_MOUTHS))
    painted = filled - holes
    colour = (seed.between(55, 254), seed.between(55, 254), seed.between(55, 254))
    cells = tuple(tuple((r, c) in painted for c in range(GRID)) for r in range(GRID))
    return PixelMonster(cells, colour)


def layout(width: int, height: int) -> tuple[int, int, int]:
    """Cell size and the grid's top-left offset: the largest integer scale, centred."""
    cell = min(width, height) // GRID
    return cell, (width - GRID * cell) // 2, (height - GRID * cell) // 2


def indices(monster: PixelMonster, width: int, height: int) -> bytes:
    """One byte per pixel, 1 where painted and 0 where transparent."""
    cell, ox, oy = layout(width, height)
    blank = bytes(width)
    right = width - ox - GRID * cell
    rows = [blank] * oy
    for grid_row in monster.cells:
        line = bytes(ox) + b"".join(b"\x01" * cell if on else bytes(cell) for on in grid_row)
        rows += [line + bytes(right)] * cell
    rows += [blank] * (height - oy - GRID * cell)
    return b"".join(rows)


def runs(monster: PixelMonster) -> list[tuple[int, int, int]]:
    """Horizontal runs of painted cells as (row, first column, length): the SVG's rectangles."""
    out = []
    for r, row in enumerate(monster.cells):
        c = 0
        while c < GRID:
            if row[c]:
                start = c
                while c < GRID and row[c]:
                    c += 1
                out.append((r, start, c - start))
            else:
                c += 1
    return out
