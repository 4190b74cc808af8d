"""Colours from hue arithmetic, so each monster's colours belong together.

Only +, -, * and / are used (no transcendental functions), which IEEE 754 defines exactly:
the same inputs give the same RGB on every platform.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from .scene import RGB
from .seed import Seed


class Theme(StrEnum):
    """A colour theme: an explicit input of the drawing, like the style.

    `classic` is the drawing the goldens record, byte for byte. The others move every hue
    into one band (the shapes and every other choice stay the same), so a second release of
    the same image can look different at a glance: the rollout demos set THEME=cool on v2.
    """

    CLASSIC = "classic"  # every hue
    COOL = "cool"  # blues, teals and violets
    WARM = "warm"  # reds, oranges and golds


DEFAULT_THEME = Theme.CLASSIC

# The hue band of each theme: (start, width) in degrees; integer arithmetic only.
_BANDS = {Theme.COOL: (170, 100), Theme.WARM: (340, 80)}


def themed_hue(hue: int, theme: Theme) -> int:
    """The body hue under a theme: `classic` keeps it, the others squeeze it into a band."""
    band = _BANDS.get(theme)
    if band is None:
        return hue
    start, width = band
    return (start + hue * width // 360) % 360


def themed_rgb(colour: tuple[int, int, int], theme: Theme) -> tuple[int, int, int]:
    """A pixel-style colour under a theme: its channels reordered so blue leads (`cool`) or
    red leads (`warm`), the weakest one deepened by a quarter. Every channel of a `classic`
    colour is at least 55, so the deepened one never equals it: every monster changes."""
    low, mid, high = sorted(colour)
    if theme is Theme.COOL:
        return (low * 3 // 4, mid, high)
    if theme is Theme.WARM:
        return (high, mid, low * 3 // 4)
    return colour


@lru_cache(maxsize=4096)
def hsl(h: int, s: int, lum: int) -> RGB:
    """RGB of hue h (degrees), saturation s and lightness lum (percent). Kept (bounded): the
    accent, mouth, tongue and cheek colours take one of a few hundred values each."""
    h %= 360
    s = max(0, min(100, s))
    lum = max(0, min(100, lum))
    c = (100 - abs(2 * lum - 100)) * s / 10000  # chroma in [0, 1]
    hp = h / 60
    x = c * (1 - abs(hp % 2 - 1))
    m = lum / 100 - c / 2
    r, g, b = [
        (c, x, 0.0),
        (x, c, 0.0),
        (0.0, c, x),
        (0.0, x, c),
        (x, 0.0, c),
        (c, 0.0, x),
    ][int(hp)]
    return (round((r + m) * 255), round((g + m) * 255), round((b + m) * 255))


class Palette(NamedTuple):  # a tuple: a third of the cost of a frozen dataclass
    body: RGB
    shade: RGB  # outline and the far side of limbs
    light: RGB  # belly, inner ears
    accent: RGB  # horns, spots, antenna tips
    mouth: RGB
    eye: RGB
    pupil: RGB
    tooth: RGB
    tongue: RGB
    cheek: RGB


# Accent hue offsets that read well next to the body: complementary, split-complementary,
# triadic and analogous.
_ACCENT_OFFSETS = (180, 150, 210, 120, 240, 40, -40)


def palette(seed: Seed, theme: Theme = DEFAULT_THEME) -> Palette:
    hue = themed_hue(seed.below(360), theme)
    sat = seed.between(52, 82)
    lum = seed.between(52, 66)
    accent_hue = hue + seed.choice(_ACCENT_OFFSETS)
    return Palette(
        body=hsl(hue, sat, lum),
        shade=hsl(hue, sat - 10, lum - 30),
        light=hsl(hue, sat - 15, min(lum + 20, 88)),
        accent=hsl(accent_hue, 70, 58),
        mouth=hsl(hue + 330, 45, 18),
        eye=(252, 252, 248),
        pupil=(28, 26, 38),
        tooth=(255, 253, 240),
        tongue=hsl(350, 75, 68),
        cheek=hsl(hue + 340 if 30 < hue < 330 else 330, 80, 76),
    )
