"""Golden digests: any drift in the drawing fails here until ALGORITHM_VERSION is bumped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monsterstack.generator import ALGORITHM_VERSION, SEED_VERSION, Style

from .golden_cases import CASES, NAMES, choices, fingerprint, key, webp_pixels

GOLDENS = json.loads((Path(__file__).parent / "goldens.json").read_text())
HOW = "if the drawing changed on purpose: bump ALGORITHM_VERSION and re-record (golden_cases.py)"
CHOSEN = (
    "the monsters themselves changed (parts or colours a name gets): if on purpose, bump "
    "SEED_VERSION (every name re-rolls) and re-record (golden_cases.py); if not, the drawing "
    "change shifted a seed draw"
)


def test_goldens_belong_to_this_algorithm_version() -> None:
    assert GOLDENS["algorithm"] == ALGORITHM_VERSION, HOW


def test_goldens_belong_to_this_seed_version() -> None:
    assert GOLDENS["seed"] == SEED_VERSION, CHOSEN


@pytest.mark.parametrize("style", list(Style))
def test_every_name_keeps_its_monster(style: Style) -> None:
    """A new drawing (ALGORITHM_VERSION) must not re-roll anyone's monster: the parts and
    colours each golden name gets are recorded apart from the bytes."""
    got = [choices(n, style) for n in NAMES]
    assert got == GOLDENS["choices"][style.value], CHOSEN


@pytest.mark.parametrize(("style", "fmt", "size"), CASES, ids=[key(*c) for c in CASES])
def test_output_bytes_match_goldens(style, fmt, size) -> None:  # type: ignore[no-untyped-def]
    expected = GOLDENS["digests"][key(style, fmt, size)]
    got = [fingerprint(n, style, fmt, size) for n in NAMES]
    drifted = [NAMES[i][:20] for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
    assert not drifted, f"output drifted for {drifted}: {HOW}"


@pytest.mark.parametrize("style", list(Style))
def test_webp_pixels_match_goldens(style: Style) -> None:
    got = [webp_pixels(n, style, 80) for n in NAMES]
    assert got == GOLDENS["webp_pixels"][style.value], HOW


def test_golden_names_cover_the_required_kinds() -> None:
    assert "   " in NAMES  # empty after trimming
    assert any(len(n.encode()) == 512 for n in NAMES)
    assert any("\u4e00" <= ch <= "\u9fff" for n in NAMES for ch in n)  # CJK
    assert any(ord(ch) > 0x1F000 for n in NAMES for ch in n)  # emoji
    assert any(ch in "éëøÆ" for n in NAMES for ch in n)  # accented
