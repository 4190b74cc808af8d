"""The suite's own instruments: the integrity check must catch a wrong picture, the load
generator must ask for the format and name it records, and the report must merge entries."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from urllib.parse import unquote

from monsterstack.core.monster_request import parse
from monsterstack.generator import DEFAULT_STYLE, normalise_name, render

from .integrity import check
from .load import MEDIA_TYPES, Key, Sample, Workload, path_for
from .report import table, write_entry


def _sample(key: Key, body: bytes, content_type: str | None = None) -> Sample:
    return Sample(
        key,
        True,
        0.0,
        0.001,
        200,
        digest=hashlib.sha256(body).hexdigest(),
        content_type=content_type or MEDIA_TYPES[key.fmt],
    )


def test_the_invariant_holds_for_the_generators_bytes_and_catches_any_other() -> None:
    a, b = Key("Ada", 80, "png"), Key("Bob", 32, "svg")
    good = [_sample(a, render("Ada", size=80, fmt="png")), _sample(b, render("Bob", 32, "svg"))]
    assert check(good).ok and check(good).bodies == 2
    swapped = [*good, _sample(a, render("Bob", size=80, fmt="png"))]  # another name's picture
    result = check(swapped)
    assert result.mismatches == 1 and result.inconsistent_keys == 1 and not result.ok
    truncated = [_sample(a, render("Ada", size=80, fmt="png")[:-10])]  # a partial write
    assert check(truncated).mismatches == 1
    other_size = [_sample(a, render("Ada", size=81, fmt="png"))]
    assert check(other_size).mismatches == 1
    wrong_type = [_sample(b, render("Bob", 32, "svg"), content_type="image/png")]
    assert check(wrong_type).wrong_content_type == 1


def test_every_request_path_parses_back_to_the_key_it_is_recorded_under() -> None:
    workload = Workload.default(miss_ratio=0.5)
    rng = random.Random(7)
    for _ in range(500):
        key, _hot = workload.next(rng)
        assert normalise_name(key.name) == key.name  # the name sent is the name drawn
        for png_suffix in (False, True):
            raw = path_for(key, png_suffix)
            path, _, query = raw.partition("?")
            req = parse(path.encode(), query.encode(), DEFAULT_STYLE)
            assert (req.name, req.width, req.height, req.fmt.value) == (
                key.name,
                key.size,
                key.size,
                key.fmt,
            ), unquote(raw)


def test_report_entries_merge_into_one_file_and_render_as_a_table(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_entry("a", {"title": "A", "requests": 10, "passed": True}, path)
    write_entry("b", {"title": "B", "requests": 5, "passed": False, "problems": ["x"]}, path)
    write_entry("a", {"title": "A2", "requests": 11, "passed": True}, path)
    report = json.loads(path.read_text())
    assert list(report["scenarios"]) == ["a", "b"]
    assert report["scenarios"]["a"]["requests"] == 11
    text = table(report)
    assert "[A2](#a2)" in text and "**FAIL** (1)" in text and "- **Failed**: x" in text
