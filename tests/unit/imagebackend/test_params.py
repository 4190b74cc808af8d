from __future__ import annotations

import pytest

from monsterstack.generator import Format
from monsterstack.imagebackend.app import (
    BadParameter,
    decode_path_name,
    if_none_match,
    split_format,
)


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        ("bob", None, ("bob", None)),
        ("bob.svg", None, ("bob", Format.SVG)),
        ("bob.WEBP", None, ("bob", Format.WEBP)),
        ("bob.svg", Format.SVG, ("bob", Format.SVG)),
        ("bob.jpg", None, ("bob.jpg", None)),  # not a format we make: part of the name
        ("a.b.png", Format.PNG, ("a.b", Format.PNG)),
    ],
)
def test_split_format(raw: str, fmt: Format | None, expected: tuple[str, Format | None]) -> None:
    assert split_format(raw, fmt) == expected


def test_split_format_refuses_a_suffix_that_contradicts_the_parameter() -> None:
    with pytest.raises(BadParameter) as info:
        split_format("bob.svg", Format.PNG)
    assert info.value.field == "format"


def test_decode_path_name() -> None:
    assert decode_path_name(b"/monster/%C3%A9t%C3%A9") == "été"
    assert decode_path_name(b"/monster/a%2Fb?size=3") == "a/b"
    with pytest.raises(BadParameter) as info:
        decode_path_name(b"/monster/%FF")
    assert info.value.status == 400 and info.value.field == "name"


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (None, False),
        ('"a"', True),
        ('W/"a"', True),
        ('"b", "a"', True),
        ('"b"', False),
        ("*", True),
    ],
)
def test_if_none_match(header: str | None, match: bool) -> None:
    assert if_none_match(header, '"a"') is match
