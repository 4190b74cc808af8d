"""The fixed inputs of the golden tests, and how their outputs are fingerprinted.

Re-record (only together with an ALGORITHM_VERSION bump, and for "choices" a SEED_VERSION bump):
    uv run python -m tests.unit.generator.golden_cases > tests/unit/generator/goldens.json
"""

from __future__ import annotations

import hashlib
import io
import json

from PIL import Image

from monsterstack.generator import (
    ALGORITHM_VERSION,
    SEED_VERSION,
    Format,
    Style,
    _domain,
    pixel,
    render,
    smooth,
)

NAMES = [
    "John Doe",  # the course's default name
    "alice",
    "Bob",
    "bob",
    "x",
    "a" * 40,
    "kubernetes",
    "monster-42",
    "Émile Zola",  # accented, precomposed
    "E\u0301mile Zola",  # the same name with a combining accent
    "Zoë",
    "Ærøskøbing",
    "李小龙",  # CJK
    "こんにちは",
    "Привет",
    "🦖",  # emoji
    "👩\u200d🚀 astronaut",  # ZWJ sequence
    "   ",  # empty after trimming
    "<script>alert(1)</script>",
    "é" * 256,  # 512 UTF-8 bytes: the longest name accepted
]

CASES = [
    (Style.SMOOTH, Format.PNG, 80),
    (Style.SMOOTH, Format.SVG, 80),
    (Style.SMOOTH, Format.PNG, 256),
    (Style.PIXEL, Format.PNG, 80),
    (Style.PIXEL, Format.SVG, 80),
    (Style.PIXEL, Format.PNG, 256),
]


def fingerprint(name: str, style: Style, fmt: Format, size: int) -> str:
    return hashlib.sha256(render(name, size, fmt, style)).hexdigest()[:24]


def webp_pixels(name: str, style: Style, size: int) -> str:
    """WebP bytes depend on the libwebp release; its lossless pixels must not."""
    image = Image.open(io.BytesIO(render(name, size, Format.WEBP, style))).convert("RGBA")
    return hashlib.sha256(image.tobytes()).hexdigest()[:24]


def choices(name: str, style: Style) -> str:
    """What the seed chose for a name, and nothing of how it is drawn: for `smooth` the kind
    and paint of each shape in draw order (which parts, which colours), for `pixel` the cells
    and the colour. A new drawing of the same monsters keeps these."""
    if style is Style.PIXEL:
        picked = repr(pixel.build(name, _domain(style)))
    else:
        picked = repr([(type(s).__name__, s.paint) for s in smooth.build(name, _domain(style))])
    return hashlib.sha256(picked.encode()).hexdigest()[:24]


def key(style: Style, fmt: Format, size: int) -> str:
    return f"{style.value}/{fmt.value}/{size}"


def record() -> dict[str, object]:
    return {
        "algorithm": ALGORITHM_VERSION,
        "seed": SEED_VERSION,
        "choices": {style.value: [choices(n, style) for n in NAMES] for style in Style},
        "digests": {
            key(style, fmt, size): [fingerprint(n, style, fmt, size) for n in NAMES]
            for style, fmt, size in CASES
        },
        "webp_pixels": {style.value: [webp_pixels(n, style, 80) for n in NAMES] for style in Style},
    }


if __name__ == "__main__":
    print(json.dumps(record(), indent=1, ensure_ascii=True))
