"""Hostile input for the property tests: names, percent-encodings, sizes, query strings, and
an oracle that says, from the README's rules alone, what the services must answer.

Also the hypothesis profiles: `ci` (the default: moderate, reproducible) and `full`
(`HYPOTHESIS_PROFILE=full`: many more examples, a fresh random seed each run). Importing this
module registers and loads them, so every test using these strategies runs under a profile
whether it is collected alone or with the whole suite.
"""

from __future__ import annotations

import os
import re
import string
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from monsterstack.generator import (
    DEFAULT_THEME,
    MAX_NAME_BYTES,
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Style,
    Theme,
)

# --- profiles -------------------------------------------------------------------------------

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,  # nothing written into the tree
    print_blob=True,
    suppress_health_check=_SLOW,
)
settings.register_profile(
    "full",
    max_examples=2000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """`ci` examples under the ci profile, ten times as many under `full`."""
    return ci * 10 if PROFILE == "full" else ci


def runs(n: int) -> settings:
    """n examples (ci profile), with the tests' fixtures shared by all of them: the apps or
    servers live for the whole test, their state (caches, metrics) carrying over between
    examples, as a server's would between requests."""
    checks = [*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture]
    return settings(max_examples=examples(n), suppress_health_check=checks)


MAX_URL = 65_000  # httpx refuses longer URLs (longer ones are sent raw, test_served.py)


# --- names ----------------------------------------------------------------------------------

RTL = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\u180e"
SEPARATORS = "\u2028\u2029\u0085\u000b\u000c\u001c\u001d\u001e\u001f\u00a0\u3000\u2000\u2001"
TOKENS = [
    # path and percent-encoding tricks, as literal text of the name
    ".",
    "..",
    "/",
    "../",
    "/..",
    "./",
    "//",
    "\\",
    "%",
    "%%",
    "%2F",
    "%2f",
    "%00",
    "%2E%2E",
    "%252F",
    "%25",
    "%FF",
    "%C0%AF",
    "%zz",
    "?",
    "?size=2000",
    "#",
    "&",
    "=",
    "+",
    ";",
    # format suffixes, right and wrong
    ".png",
    ".PNG",
    ".svg",
    ".Svg",
    ".webp",
    ".jpg",
    ".ſvg",  # long s: re.I would call it 's', str.lower() does not
    # control characters, whitespace, invisible and bidi controls
    "\x00",
    "\x01",
    "\x7f",
    "\r\n",
    "\t",
    " ",
    *RTL,
    *INVISIBLE,
    *SEPARATORS,
    # combining marks and normalisation (NFC composes, expands, reorders)
    "e\u0301",
    "\u0301",
    "\u0323\u0307",
    "\u1100\u1161\u11a8",
    "\ufb2c",  # NFC: 3 UTF-8 bytes become 6
    "\U0001d160",  # NFC: 4 bytes become 12
    "\u212b",  # angstrom sign: NFC is Å
    "\ufffd",
    "\U0001f47e",
    "\U0001f469\u200d\U0001f52c",
    # markup and templates (the page must show these as text)
    "<script>",
    '"',
    "'",
    "`",
    "{{7*7}}",
    "${7*7}",
]

_alphabet = st.one_of(
    st.characters(codec="utf-8"),  # any Unicode scalar value (surrogates cannot be UTF-8)
    st.characters(categories=["Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp"]),
    st.sampled_from(RTL + INVISIBLE + SEPARATORS),
    st.sampled_from(string.printable),
)
_short = st.text(_alphabet, max_size=24)


def _repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


names: st.SearchStrategy[str] = st.one_of(
    _short,
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(_alphabet, max_size=4)), max_size=10).map(
        "".join
    ),
    # around the 512-byte limit, in characters of 1 to 4 bytes
    st.builds(
        _repeat,
        st.sampled_from(["a", "é", "e\u0301", "中", "\U0001f47e", "\ufb2c", " "]),
        st.integers(100, 530),
    ),
    # 10 KB and more
    st.builds(_repeat, st.text(_alphabet, min_size=1, max_size=3), st.integers(10_240, 12_000)),
    # double encoding: the name is itself a percent-encoded string
    _short.map(lambda s: quote(s, safe="")),
    # dots and suffixes: a name that is a dot segment, or ends in a format once its own
    # format suffix is taken off
    st.sampled_from([".", "..", "...", " .. ", "./..", "../..", "/..", "../"]),
    st.builds(
        "".join,
        st.tuples(
            _short,
            st.sampled_from([".png", ".svg", ".webp", ".SVG", ".Png", "..", "."]),
            st.sampled_from(["", ".png", ".svg", ".webp", ".WEBP", " "]),
        ),
    ),
)


def norm(name: str) -> str:
    """The README's rule, written out here rather than imported: NFC, then trimmed."""
    return unicodedata.normalize("NFC", name).strip()


# --- the name in a path ---------------------------------------------------------------------


def _segment(seg: str, lower_hex: bool, every_byte: bool) -> str:
    if seg in (".", ".."):  # a literal dot segment would be resolved away by the client
        return "%2E" * len(seg)
    if every_byte:
        return "".join(f"%{b:02X}" for b in seg.encode("utf-8"))
    out = quote(seg, safe="")
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), out) if lower_hex else out


@dataclass(frozen=True)
class EncodedName:
    """A name as sent in the path (`raw`, ASCII) and the text the server must decode from it;
    `text` is None when the bytes are not UTF-8 (the server must answer 400)."""

    raw: str
    text: str | None
    how: str


@st.composite
def encoded_names(draw: st.DrawFn, name_strategy: st.SearchStrategy[str] = names) -> EncodedName:
    name = draw(name_strategy)
    how = draw(st.sampled_from(["plain", "lower-hex", "every-byte", "slashes", "bad-utf8"]))
    if how == "slashes":  # '/' left literal: the name spans several path segments
        raw = "/".join(_segment(s, False, False) for s in name.split("/"))
        return EncodedName(raw, name, how)
    if how == "bad-utf8":
        bad = draw(st.sampled_from(["%FF", "%C0%AF", "%ED%A0%80", "%E2%82", "%80", "%F8%88%80"]))
        at = draw(st.integers(0, len(name)))
        raw = _segment(name[:at], False, False) + bad + _segment(name[at:], False, False)
        return EncodedName(raw, None, how)
    raw = _segment(name, how == "lower-hex", how == "every-byte")
    return EncodedName(raw, name, how)


# --- parameters -----------------------------------------------------------------------------

ODD_SIZES = [
    "",
    " 80",
    "80 ",
    "+80",
    "-80",
    "80.0",
    "8e1",
    "0x50",
    "0080",
    "00000080",
    "8_0",
    "٨٠",  # Arabic-Indic digits
    "８０",  # fullwidth digits
    "²",
    "NaN",
    "inf",
    "80\x00",
    "99999999999999999999999",
    "15",
    "16",
    "1024",
    "1025",
    "0",
]
sizes: st.SearchStrategy[str] = st.one_of(
    st.integers(MIN_SIZE, 160).map(str),  # in range, small enough to render fast
    st.integers(MIN_SIZE, MAX_SIZE).map(str),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(ODD_SIZES),
    st.text(_alphabet, max_size=6),
)


def _enum_values(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(values),
        st.sampled_from(values).map(str.upper),
        st.sampled_from(["", "jpeg", "gif", "PNG ", "svg\x00", "ſvg", "default", "null"]),
        st.text(_alphabet, max_size=6),
    )


VALUES = {
    "size": sizes,
    "width": sizes,
    "height": sizes,
    "format": _enum_values([f.value for f in Format]),
    "style": _enum_values([s.value for s in Style]),
    "theme": _enum_values([t.value for t in Theme]),
}


@st.composite
def query_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Parameters as (key, value) pairs: known keys with any values, repeats, unknown keys."""
    keys = st.one_of(st.sampled_from(sorted(VALUES)), st.text(_alphabet, max_size=5))
    pairs = []
    for key in draw(st.lists(keys, max_size=5)):
        value = draw(VALUES.get(key, st.text(_alphabet, max_size=5)))
        pairs.append((key, value))
    return pairs


@st.composite
def encoded_queries(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]] | None]:
    """(the raw query string, the pairs it decodes to); pairs None when it is not UTF-8."""
    pairs = draw(query_pairs())
    raw = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    if draw(st.integers(0, 9)) == 0:
        bad = draw(st.sampled_from(["%FF", "%C3", "%ED%A0%80"]))
        return f"{raw}&size={bad}" if raw else f"name={bad}", None
    return raw, pairs


# --- the oracle -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the README says a /monster request must give: the picture's parameters, or the
    fields that are wrong (each with its status; the service may name any one of them)."""

    name: str = ""
    width: int = 0
    height: int = 0
    fmt: Format = Format.PNG
    style: Style = Style.SMOOTH
    theme: Theme = DEFAULT_THEME
    problems: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _size_ok(value: str) -> bool:
    return (
        value.isascii()
        and value.isdigit()
        and len(value) <= 7
        and MIN_SIZE <= int(value) <= MAX_SIZE
    )


def expect(
    name: str | None,
    pairs: list[tuple[str, str]] | None,
    default_style: Style = Style.SMOOTH,
    default_theme: Theme = DEFAULT_THEME,
) -> Expected:
    """The README's rules for /monster/{name}: sizes 16-1024 in ASCII digits (the first of
    repeated parameters wins), format/style/theme case-insensitive, a `.png`/`.svg`/`.webp`
    suffix picks the format (refused if `format=` says otherwise), the name is valid UTF-8 of at
    most 512 bytes once NFC-normalised and trimmed."""
    problems: dict[str, int] = {}
    if pairs is None:
        problems["query"] = 400
        pairs = []
    params: dict[str, str] = {}
    for k, v in pairs:
        params.setdefault(k, v)
    dims = {}
    for key in ("size", "width", "height"):
        if key in params:
            if _size_ok(params[key]):
                dims[key] = int(params[key])
            else:
                problems[key] = 422
    chosen: dict[str, str] = {}
    for key, kind in (("format", Format), ("style", Style), ("theme", Theme)):
        if key in params:
            if params[key].lower() in {m.value for m in kind}:
                chosen[key] = params[key].lower()
            else:
                problems[key] = 422
    fmt = Format(chosen["format"]) if "format" in chosen else None
    if name is None:
        problems["name"] = 400
        name = ""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot >= 0 else ""
    if suffix in (".png", ".svg", ".webp"):
        by_suffix = Format(suffix[1:])
        if fmt is not None and fmt is not by_suffix:
            problems.setdefault("format", 422)
        fmt, name = by_suffix, name[:dot]
    name = norm(name)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        problems.setdefault("name", 422)
    size = dims.get("size", 80)
    return Expected(
        name=name,
        width=dims.get("width", size),
        height=dims.get("height", size),
        fmt=fmt or Format.PNG,
        style=Style(chosen.get("style", default_style)),
        theme=Theme(chosen.get("theme", default_theme)),
        problems=problems,
    )
