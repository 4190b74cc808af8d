"""Properties of the drawing over hostile names (hypothesis): the same input gives the same
bytes, spelling variants of one name give one monster, every picture has the asked size, an
SVG is well-formed and never contains the name, and bad input is a ValueError, never more."""

from __future__ import annotations

import io
import re
import string
import unicodedata
import xml.etree.ElementTree as ET

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from monsterstack.generator import MAX_NAME_BYTES, MAX_SIZE, MIN_SIZE, Format, Style, Theme, render
from tests.integration.hostile.strategies import examples, names, norm

fits = names.filter(lambda n: len(norm(n).encode("utf-8")) <= MAX_NAME_BYTES)
small = st.integers(MIN_SIZE, 96)
formats = st.sampled_from(list(Format))
styles = st.sampled_from(list(Style))
themes = st.sampled_from(list(Theme))


@given(fits, small, small, formats, styles, themes)
def test_same_input_same_bytes(
    name: str, w: int, h: int, fmt: Format, style: Style, theme: Theme
) -> None:
    first = render(name, fmt=fmt, style=style, width=w, height=h, theme=theme)
    assert render(name, fmt=fmt, style=style, width=w, height=h, theme=theme) == first


@given(fits, styles, st.sampled_from(["NFD", "NFKC", "pad"]))
def test_one_name_however_spelled_is_one_monster(name: str, style: Style, how: str) -> None:
    if how == "pad":
        other = f" \t{name}\u3000\n"
    else:
        other = unicodedata.normalize(how, name)
        assume(norm(other) == norm(name))  # NFKC can change the name itself: then no claim
    assert render(other, 48, Format.SVG, style) == render(name, 48, Format.SVG, style)


@settings(max_examples=examples(40))  # up to 1024 x 1024 each
@given(fits, st.integers(MIN_SIZE, MAX_SIZE), st.integers(MIN_SIZE, MAX_SIZE), styles)
def test_every_picture_has_the_asked_size(name: str, w: int, h: int, style: Style) -> None:
    png = render(name, fmt=Format.PNG, style=style, width=w, height=h)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (w, h)


TAGS = {"svg", "title", "g", "path", "ellipse", "rect"}
ATTRIBUTES = {
    "xmlns", "width", "height", "viewBox", "role", "shape-rendering", "fill", "stroke",
    "stroke-width", "stroke-linejoin", "d", "cx", "cy", "rx", "ry", "x", "y",
}  # fmt: skip
VALUE = re.compile(
    r"[-0-9. MCLQZz]*|#[0-9a-f]{6}|none|round|img|crispEdges|http://www\.w3\.org/2000/svg"
)
SVG_ALPHABET = set(string.ascii_letters + string.digits + ' .-#/:="<>')


@given(fits, small, styles, themes)
def test_an_svg_is_made_of_the_drawing_only_never_the_name(
    name: str, size: int, style: Style, theme: Theme
) -> None:
    svg = render(name, size, Format.SVG, style, theme=theme).decode("utf-8")
    root = ET.fromstring(svg)  # well-formed
    for el in root.iter():
        assert el.tag.removeprefix("{http://www.w3.org/2000/svg}") in TAGS
        assert el.text in (None, "monster") and not (el.tail or "").strip()
        for key, value in el.attrib.items():
            assert key in ATTRIBUTES, key
            assert VALUE.fullmatch(value), (key, value)
    if not set(norm(name)) <= SVG_ALPHABET:
        assert norm(name) not in svg


@given(
    st.one_of(fits, names),
    st.one_of(st.integers(-(10**6), 10**6), st.integers(MIN_SIZE, MAX_SIZE)),
    formats,
    styles,
)
def test_bad_input_is_a_value_error(name: str, size: int, fmt: Format, style: Style) -> None:
    ok = MIN_SIZE <= size <= MAX_SIZE and len(norm(name).encode("utf-8")) <= MAX_NAME_BYTES
    assume(size <= 128 or not ok)  # big valid renders belong to the size test
    try:
        render(name, size, fmt, style)
    except ValueError:
        assert not ok
    else:
        assert ok
