from __future__ import annotations

import pytest

from monsterstack.core.monster_request import (
    BadParameter,
    decode_path_name,
    etag,
    if_none_match,
    parse,
    split_format,
)
from monsterstack.generator import Format, Style, name_digest


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
    assert if_none_match(header.encode() if header else None, '"a"') is match


def test_parse_defaults_and_dnmonster_parameters() -> None:
    req = parse(b"/monster/John%20Doe", b"", Style.SMOOTH)
    assert (req.name, req.width, req.height, req.fmt, req.style) == (
        "John Doe",
        80,
        80,
        Format.PNG,
        Style.SMOOTH,
    )
    req = parse(b"/monster/x.svg", b"size=100&height=50&style=PIXEL", Style.SMOOTH)
    assert (req.width, req.height, req.fmt, req.style) == (100, 50, Format.SVG, Style.PIXEL)


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        (b"size=%D9%A1%D9%A2", "size", 422),  # Arabic-Indic digits are not ASCII digits
        (b"size=+80", "size", 422),
        (b"size=8_0", "size", 422),
        (b"size=", "size", 422),
        (b"width=2000", "width", 422),
        (b"format=jpeg", "format", 422),
        (b"style=", "style", 422),
        (b"size=%FF", "query", 400),
        (b"size=\xff", "query", 400),
    ],
)
def test_parse_refuses_with_the_field(query: bytes, field: str, status: int) -> None:
    with pytest.raises(BadParameter) as info:
        parse(b"/monster/x", query, Style.SMOOTH)
    assert (info.value.field, info.value.status) == (field, status)
    assert field in str(info.value.body()["message"])


def test_the_first_of_repeated_parameters_wins() -> None:
    assert parse(b"/monster/x", b"size=20&size=30", Style.SMOOTH).width == 20


def test_etag_names_version_parameters_and_digest_but_not_the_name() -> None:
    tag = etag("secret name", 80, 80, Format.PNG, Style.SMOOTH)
    assert tag.startswith('"m') and tag.endswith('"')
    assert "png" in tag and "80x80" in tag and "smooth" in tag
    assert "secret" not in tag and name_digest("secret name")[:32] in tag
    assert tag != etag("secret name", 80, 80, Format.SVG, Style.SMOOTH)
