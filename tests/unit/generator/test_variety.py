"""Variety: enough part combinations, and distinct names give distinct images."""

from __future__ import annotations

import hashlib
import random

import pytest

from monsterstack.generator import Format, Style, pixel, render, smooth


def _random_names(n: int) -> list[str]:
    rng = random.Random(20261123)  # fixed, so a failure can be replayed
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éèçñø李龙🦖"
    names: set[str] = set()
    while len(names) < n:
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 16))).strip()
        if name:
            names.add(name)
    return sorted(names)


@pytest.mark.parametrize("module", [smooth, pixel], ids=["smooth", "pixel"])
def test_at_least_a_million_part_combinations(module) -> None:  # type: ignore[no-untyped-def]
    assert module.combinations() >= 10**6


@pytest.mark.parametrize("style", list(Style))
def test_a_thousand_random_names_give_at_least_995_distinct_images(style: Style) -> None:
    names = _random_names(1000)
    digests = {hashlib.sha256(render(n, 48, Format.PNG, style)).digest() for n in names}
    assert len(digests) >= 995


def test_every_smooth_part_variant_is_reachable() -> None:
    """Over many names, each family's every variant shows up (no dead art)."""
    from monsterstack.generator.seed import Seed

    seen: dict[str, set[str]] = {}
    families = {
        "eyes": smooth.EYES,
        "mouth": smooth.MOUTHS,
        "top": smooth.TOPS,
        "arms": smooth.ARMS,
        "legs": smooth.LEGS,
        "pattern": smooth.PATTERNS,
    }
    for i in range(400):
        for part, options in families.items():
            seen.setdefault(part, set()).add(Seed(f"probe/{part}", str(i)).choice(options))
    assert all(seen[p] == set(o) for p, o in families.items())


def test_style_and_names_change_the_picture() -> None:
    assert render("a", 64, "png", "smooth") != render("b", 64, "png", "smooth")
    assert render("a", 64, "png", "smooth") != render("a", 64, "png", "pixel")
