"""Formats, sizes, canvases and validation of the pure generator."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from monsterstack.generator import (
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Style,
    normalise_name,
    render,
)
from monsterstack.generator.pixel import GRID, layout


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize("size", [MIN_SIZE, 32, 80, 256, MAX_SIZE])
def test_png_has_the_asked_size_and_a_transparent_background(style: Style, size: int) -> None:
    image = _image(render("size check", size, Format.PNG, style)).convert("RGBA")
    assert image.size == (size, size)
    assert image.getpixel((0, 0))[3] == 0  # transparent corner
    assert image.getbbox() is not None  # something is drawn


@pytest.mark.parametrize("style", list(Style))
def test_webp_decodes_to_the_same_pixels_as_png(style: Style) -> None:
    png = _image(render("twin", 120, Format.PNG, style)).convert("RGBA")
    webp = _image(render("twin", 120, Format.WEBP, style)).convert("RGBA")
    assert png.tobytes() == webp.tobytes()


@pytest.mark.parametrize("style", list(Style))
def test_svg_is_well_formed_and_sized(style: Style) -> None:
    root = ET.fromstring(render("svg check", 200, Format.SVG, style))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("200", "200")
    assert len(list(root.iter())) > 5


def test_svg_never_contains_the_name() -> None:
    svg = render("<script>alert(1)</script>", 80, Format.SVG).decode()
    assert "script" not in svg and "alert" not in svg


@pytest.mark.parametrize("style", list(Style))
def test_non_square_canvas_centres_the_monster(style: Style) -> None:
    image = _image(render("wide", 80, Format.PNG, style, width=300, height=100)).convert("RGBA")
    assert image.size == (300, 100)
    left, top, right, bottom = image.getbbox()  # type: ignore[misc]
    assert abs((left + right) / 2 - 150) <= 3  # centred horizontally
    assert right - left <= 100 and bottom - top <= 100  # in the square, not stretched


def test_pixel_style_uses_one_colour_in_range_and_integer_cells() -> None:
    image = _image(render("pixels", 100, Format.PNG, Style.PIXEL)).convert("RGBA")
    colours = {px for _, px in image.getcolors(1 << 16) if px[3]}
    assert len(colours) == 1
    (r, g, b, a) = colours.pop()
    assert all(55 <= c <= 254 for c in (r, g, b)) and a == 255
    cell, ox, oy = layout(100, 100)
    assert cell == 100 // GRID and (ox, oy) == ((100 - GRID * cell) // 2,) * 2


def test_smooth_style_is_anti_aliased() -> None:
    image = _image(render("smooth edges", 128, Format.PNG, Style.SMOOTH)).convert("RGBA")
    alphas = {px[3] for _, px in image.getcolors(1 << 16)}
    assert len(alphas) > 10  # partial coverage at the edges, not just on/off


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": MIN_SIZE - 1}, "width"),
        ({"size": MAX_SIZE + 1}, "width"),
        ({"size": 80, "height": 5000}, "height"),
    ],
)
def test_out_of_range_sizes_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render("x", **kwargs)


def test_too_long_names_and_unknown_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="512"):
        render("é" * 257)
    with pytest.raises(ValueError):
        render("x", fmt="gif")
    with pytest.raises(ValueError):
        render("x", style="cubist")


def test_names_are_normalised() -> None:
    assert normalise_name("  E\u0301mile \n") == "Émile"
    assert render(" Émile ") == render("E\u0301mile")
    assert render("Bob") != render("bob")
