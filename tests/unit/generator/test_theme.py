"""Colour themes: an explicit input of the pure drawing, in the ETag and the cache key.

`classic` (the default) is the drawing the goldens record; the others recolour it only.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from monsterstack.core.monster_request import BadParameter, etag, parse
from monsterstack.generator import ALGORITHM_VERSION, DEFAULT_THEME, Format, Style, Theme, render
from monsterstack.generator.palette import themed_hue, themed_rgb

NAMES = ["John Doe", "alice", "李小龙", "🦖 rex"]


def test_the_default_theme_is_classic_and_changes_nothing() -> None:
    assert DEFAULT_THEME is Theme.CLASSIC
    for style in Style:
        for fmt in Format:
            assert render("alice", 64, fmt, style, theme="classic") == render(
                "alice", 64, fmt, style
            )


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize("theme", [Theme.COOL, Theme.WARM])
def test_other_themes_recolour_every_monster_deterministically(style: Style, theme: Theme) -> None:
    for name in NAMES:
        themed = render(name, 64, Format.PNG, style, theme=theme)
        assert themed != render(name, 64, Format.PNG, style)
        assert themed == render(name, 64, Format.PNG, style, theme=theme)
        # the same shapes: only colours move, so the painted pixels are the same ones
        alpha = Image.open(io.BytesIO(themed)).convert("RGBA").getchannel("A").tobytes()
        plain = render(name, 64, Format.PNG, style)
        assert alpha == Image.open(io.BytesIO(plain)).convert("RGBA").getchannel("A").tobytes()


def test_themed_hues_stay_in_their_band() -> None:
    assert [themed_hue(h, Theme.CLASSIC) for h in range(360)] == list(range(360))
    cool = {themed_hue(h, Theme.COOL) for h in range(360)}
    assert min(cool) == 170 and max(cool) == 269
    warm = {themed_hue(h, Theme.WARM) for h in range(360)}
    assert warm <= set(range(340, 360)) | set(range(60))


def test_pixel_colours_keep_their_channels() -> None:
    assert themed_rgb((200, 100, 60), Theme.CLASSIC) == (200, 100, 60)
    assert themed_rgb((200, 100, 60), Theme.COOL) == (45, 100, 200)  # blue leads
    assert themed_rgb((60, 100, 200), Theme.WARM) == (200, 100, 45)  # red leads
    assert themed_rgb((55, 55, 55), Theme.COOL) == (41, 55, 55)  # never the same colour


def test_the_etag_names_a_theme_other_than_the_default() -> None:
    classic = etag("bob", 80, 80, Format.PNG, Style.SMOOTH)
    assert classic == etag("bob", 80, 80, Format.PNG, Style.SMOOTH, Theme.CLASSIC)
    # The tag has the shape releases before themes had: no theme part for the default.
    assert classic.startswith(f'"m{ALGORITHM_VERSION}-smooth-png-80x80-')
    cool = etag("bob", 80, 80, Format.PNG, Style.SMOOTH, Theme.COOL)
    assert "-cool-" in cool and cool != classic


def test_requests_carry_the_theme_into_etag_query_and_cache_key() -> None:
    plain = parse(b"/monster/bob", b"", Style.SMOOTH)
    asked = parse(b"/monster/bob", b"theme=COOL", Style.SMOOTH)
    by_default = parse(b"/monster/bob", b"", Style.SMOOTH, Theme.COOL)
    assert plain.theme is Theme.CLASSIC and asked.theme is by_default.theme is Theme.COOL
    assert asked.etag == by_default.etag != plain.etag
    assert asked.query["theme"] == "cool" and plain.query["theme"] == "classic"
    assert asked.key == by_default.key != plain.key
    assert ":cool:" in asked.key and "classic" not in plain.key
    overridden = parse(b"/monster/bob", b"theme=classic", Style.SMOOTH, Theme.WARM)
    assert overridden.etag == plain.etag


def test_an_unknown_theme_is_refused_with_the_fix() -> None:
    with pytest.raises(BadParameter) as info:
        parse(b"/monster/bob", b"theme=neon", Style.SMOOTH)
    assert info.value.field == "theme" and "classic, cool, warm" in info.value.body()["message"]
