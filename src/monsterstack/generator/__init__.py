"""The monster generator: (name, size, format, style, theme) -> image bytes. Pure: no I/O,
no state.

ALGORITHM_VERSION names the drawing. Any change that alters a single output byte bumps it;
the golden tests in tests/unit/generator fail until it is bumped and the goldens re-recorded.
SEED_VERSION names the choices: which parts, sizes and colours a name gets. It changes only
when the monsters themselves are meant to change, so a faster or finer drawing of the same
art (a new ALGORITHM_VERSION) keeps every name's monster.
"""

from __future__ import annotations

import io
from enum import StrEnum
from typing import TYPE_CHECKING

from . import pixel, smooth
from .palette import DEFAULT_THEME, Theme, themed_rgb
from .png import encode_palette, encode_rgba
from .seed import MAX_NAME_BYTES, name_digest, normalise_name
from .svg import TITLE, hex_colour, open_tag, scene_svg

if TYPE_CHECKING:
    from PIL import Image

# Pillow and AGG are imported on the first render, not on import: the frontend uses this
# package's names and rules but never draws, and stays ~4 MB lighter for it.

# 2: fixed-point scene, two-fill outlines, zlib-ng; 3 and 4: those fills sized for aggdraw's
# fill growth (3 took it for 0.5 px; it is 0.25, which puts rings where algorithm 1 drew them)
ALGORITHM_VERSION = 4
SEED_VERSION = 1

MIN_SIZE = 16
MAX_SIZE = 1024
DEFAULT_SIZE = 80  # what the course's frontend asks for (dnmonster's own default is 20)


class Format(StrEnum):
    PNG = "png"
    SVG = "svg"
    WEBP = "webp"

    @property
    def media_type(self) -> str:
        return {"png": "image/png", "svg": "image/svg+xml", "webp": "image/webp"}[self.value]


class Style(StrEnum):
    SMOOTH = "smooth"
    PIXEL = "pixel"


DEFAULT_FORMAT = Format.PNG
DEFAULT_STYLE = Style.SMOOTH

__all__ = [
    "ALGORITHM_VERSION",
    "DEFAULT_FORMAT",
    "DEFAULT_SIZE",
    "DEFAULT_STYLE",
    "DEFAULT_THEME",
    "MAX_NAME_BYTES",
    "MAX_SIZE",
    "MIN_SIZE",
    "SEED_VERSION",
    "Format",
    "Style",
    "Theme",
    "name_digest",
    "normalise_name",
    "render",
]


def _domain(style: Style) -> str:
    # The seed domain carries the seed version: bumping it re-rolls every monster.
    return f"monsterstack/v{SEED_VERSION}/{style.value}"


def _check(width: int, height: int, name: str) -> None:
    for label, v in (("width", width), ("height", height)):
        if not MIN_SIZE <= v <= MAX_SIZE:
            raise ValueError(f"{label} must be between {MIN_SIZE} and {MAX_SIZE}, got {v}")
    if len(normalise_name(name).encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(f"name must be at most {MAX_NAME_BYTES} UTF-8 bytes")


def _webp(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    # Lossless keeps the art exact; method 0 is the fastest encoder effort.
    image.save(buf, "WEBP", lossless=True, quality=100, method=0, exact=True)
    return buf.getvalue()


def _render_pixel(name: str, width: int, height: int, fmt: Format, theme: Theme) -> bytes:
    monster = pixel.build(name, _domain(Style.PIXEL))
    monster = pixel.PixelMonster(monster.cells, themed_rgb(monster.colour, theme))
    palette = [(0, 0, 0, 0), (*monster.colour, 255)]
    if fmt is Format.SVG:
        cell, ox, oy = pixel.layout(width, height)
        colour = hex_colour(monster.colour)
        rects = "".join(
            f'<rect x="{ox + c * cell}" y="{oy + r * cell}" width="{n * cell}" height="{cell}"/>'
            for r, c, n in pixel.runs(monster)
        )
        head = open_tag(
            width, height, (0, 0, width, height), ' role="img" shape-rendering="crispEdges"'
        )
        return f'{head}{TITLE}<g fill="{colour}">{rects}</g></svg>'.encode()
    data = pixel.indices(monster, width, height)
    if fmt is Format.PNG:
        return encode_palette(width, height, data, palette)
    from PIL import Image

    image = Image.frombytes("P", (width, height), data)
    image.putpalette([v for rgba in palette for v in rgba], rawmode="RGBA")
    return _webp(image.convert("RGBA"))


def _render_smooth(name: str, width: int, height: int, fmt: Format, theme: Theme) -> bytes:
    shapes = smooth.build(name, _domain(Style.SMOOTH), theme)
    if fmt is Format.SVG:
        return scene_svg(shapes, width, height)
    from .raster import rasterise

    image = rasterise(shapes, width, height)
    if fmt is Format.PNG:
        return encode_rgba(width, height, image.tobytes())
    return _webp(image)


def render(
    name: str,
    size: int = DEFAULT_SIZE,
    fmt: Format | str = DEFAULT_FORMAT,
    style: Style | str = DEFAULT_STYLE,
    *,
    width: int | None = None,
    height: int | None = None,
    theme: Theme | str = DEFAULT_THEME,
) -> bytes:
    """The monster for `name` as image bytes.

    `size` gives a square canvas; `width`/`height` (dnmonster's parameters) override either
    side, and the monster is centred in a non-square canvas on a transparent background.
    The same arguments give byte-identical output on every run, process and machine.
    `theme` recolours (`classic`, the default, is the drawing the goldens record).
    """
    fmt, style, theme = Format(fmt), Style(style), Theme(theme)
    w = size if width is None else width
    h = size if height is None else height
    _check(w, h, name)
    if style is Style.PIXEL:
        return _render_pixel(name, w, h, fmt, theme)
    return _render_smooth(name, w, h, fmt, theme)
