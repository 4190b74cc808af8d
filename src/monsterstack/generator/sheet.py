"""A contact sheet: a grid of monsters, for eyeballing the art (`monsterstack sheet`)."""

from __future__ import annotations

import io

from PIL import Image

from . import DEFAULT_STYLE, Format, Style, render


def sheet(
    names: list[str],
    cell: int = 128,
    columns: int = 8,
    style: Style | str = DEFAULT_STYLE,
    background: tuple[int, int, int] = (246, 244, 240),
) -> bytes:
    """PNG of the monsters for `names`, `columns` per row, on a light background."""
    rows = (len(names) + columns - 1) // columns
    pad = cell // 16
    step = cell + pad
    canvas = Image.new("RGBA", (columns * step + pad, rows * step + pad), (*background, 255))
    for i, name in enumerate(names):
        tile = Image.open(io.BytesIO(render(name, cell, Format.PNG, style))).convert("RGBA")
        x, y = pad + (i % columns) * step, pad + (i // columns) * step
        canvas.alpha_composite(tile, (x, y))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()


def sample_names(n: int) -> list[str]:
    """A fixed, varied list of names, so two sheets from two versions compare side by side."""
    base = ["John Doe", "Émile", "李小龙", "🦖", "alice", "bob", "Zoë", "kubernetes"]
    return (base + [f"monster-{i}" for i in range(n)])[:n]
