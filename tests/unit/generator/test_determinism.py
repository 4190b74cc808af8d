"""Same input, same bytes: across calls, and across separate processes with other hash seeds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from monsterstack.generator import Format, Style, render

from .golden_cases import NAMES

SCRIPT = """
import hashlib, json, sys
from monsterstack.generator import render
names = json.loads(sys.stdin.read())
out = [hashlib.sha256(render(n, 96, f, s)).hexdigest()
       for n in names for f in ("png", "svg", "webp") for s in ("smooth", "pixel")]
print(json.dumps(out))
"""


def _in_subprocess(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(NAMES),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return list(json.loads(done.stdout))


def test_two_processes_with_different_hash_seeds_agree_byte_for_byte() -> None:
    a, b = _in_subprocess("1"), _in_subprocess("4242")
    assert len(a) == len(NAMES) * 6
    assert a == b
    here = [
        hashlib.sha256(render(n, 96, f, s)).hexdigest()
        for n in NAMES
        for f in ("png", "svg", "webp")
        for s in ("smooth", "pixel")
    ]
    assert here == a


def test_repeated_calls_agree() -> None:
    for style in Style:
        for fmt in Format:
            first = render("repeat me", 64, fmt, style)
            assert all(render("repeat me", 64, fmt, style) == first for _ in range(3))
