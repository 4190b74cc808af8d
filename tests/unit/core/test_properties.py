"""Properties of the /monster request rules, over hostile input (hypothesis).

The parser either gives a request or refuses with BadParameter (400 for undecodable bytes, 422
for the rest), and agrees with the README's rules (tests/integration/hostile/strategies.py
`expect`, written without the parser); normalised names are stable; cache keys and ETags never
carry the name and tell different pictures apart.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import assume, given
from hypothesis import strategies as st

from monsterstack.core.monster_request import BadParameter, MonsterRequest, answer_early, parse
from monsterstack.generator import (
    ALGORITHM_VERSION,
    MAX_NAME_BYTES,
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Style,
    Theme,
    name_digest,
    normalise_name,
)
from tests.integration.hostile.strategies import (
    EncodedName,
    encoded_names,
    encoded_queries,
    expect,
    names,
    norm,
)

# --- the parser never fails otherwise than with BadParameter --------------------------------


def _parse_or_refusal(raw_path: bytes, query: bytes) -> MonsterRequest | BadParameter:
    try:
        return parse(raw_path, query, Style.SMOOTH)
    except BadParameter as bad:
        assert bad.status in (400, 422)
        body = bad.body()
        assert {"error", "message", "field", "got"} <= body.keys()
        assert body["error"] == "invalid_parameter"
        json.dumps(body)  # always serialisable
        assert not isinstance(body["got"], str) or len(body["got"]) <= 65
        return bad


@given(st.binary(max_size=300), st.binary(max_size=200))
def test_any_bytes_give_a_request_or_a_400_or_422(path: bytes, query: bytes) -> None:
    _parse_or_refusal(b"/monster/" + path, query)


@given(
    st.lists(st.sampled_from(["%", "%2", "%FF", "%C3", "%A9", "%2F", "%00", "%25", "a", "."])),
    st.lists(st.sampled_from(["size=", "width=", "%", "%FF", "&", "=", "80", "9" * 9, ";"])),
)
def test_percent_fragments_give_a_request_or_a_400_or_422(
    path: list[str], query: list[str]
) -> None:
    _parse_or_refusal(b"/monster/" + "".join(path).encode(), "".join(query).encode())


# --- ... and agrees with the README's rules ---------------------------------------------------


@given(encoded_names(), encoded_queries())
def test_parse_follows_the_rules(
    name: EncodedName, query: tuple[str, list[tuple[str, str]] | None]
) -> None:
    raw_query, pairs = query
    want = expect(name.text, pairs)
    got = _parse_or_refusal(f"/monster/{name.raw}".encode(), raw_query.encode())
    if want.ok:
        assert isinstance(got, MonsterRequest), got.body() if isinstance(got, BadParameter) else ""
        assert (got.name, got.width, got.height) == (want.name, want.width, want.height)
        assert (got.fmt, got.style, got.theme) == (want.fmt, want.style, want.theme)
    else:
        assert isinstance(got, BadParameter), f"accepted, but {want.problems} are wrong"
        assert got.field in want.problems, (got.field, want.problems)
        assert got.status == want.problems[got.field]


@given(names, st.sampled_from(["/monster%2F", "/%6Donster/", "/%6d%6F%6E%73%74%65%72%2f"]))
def test_an_encoded_prefix_names_the_same_monster(name: str, prefix: str) -> None:
    """`/monster%2Fbob` is `/monster/bob` to the router: it must be bob's monster."""
    canonical = _parse_or_refusal(b"/monster/" + quote(name, safe="").encode(), b"")
    other = _parse_or_refusal((prefix + quote(name, safe="")).encode(), b"")
    if isinstance(canonical, MonsterRequest):
        assert other == canonical
    else:
        assert isinstance(other, BadParameter) and other.field == canonical.field


@given(names, st.sampled_from(list(Format)), st.sampled_from(list(Style)))
def test_a_request_path_names_exactly_its_picture(name: str, fmt: Format, style: Style) -> None:
    """What one service asks of another (MonsterRequest.path and .query) parses back to the
    same request, whatever the name: dots, slashes, suffixes, percent signs."""
    assume(len(norm(name).encode("utf-8")) <= MAX_NAME_BYTES)
    req = MonsterRequest(norm(name), 80, 64, fmt, style, Theme.WARM)
    assert "/" not in req.path.removeprefix("/monster/")
    assert req.path.removeprefix("/monster/") not in (".", "..")
    again = parse(req.path.encode(), urlencode(req.query).encode(), Style.SMOOTH)
    assert again == req


@given(encoded_names())
def test_without_raw_path_the_decoded_path_names_the_same_monster(name: EncodedName) -> None:
    """raw_path is optional in ASGI: the decoded `path` must not be decoded a second time."""
    assume(name.text is not None)
    scope = {"method": "GET", "query_string": b"", "headers": []}
    with_raw = asyncio.run(_answer({**scope, "raw_path": f"/monster/{name.raw}".encode()}))
    without = asyncio.run(_answer({**scope, "path": f"/monster/{name.text}"}))
    assert without == with_raw


async def _answer(scope: dict[str, Any]) -> MonsterRequest | int:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    req = await answer_early(scope, send, Style.SMOOTH)
    return req if req is not None else int(sent[0]["status"])


# --- normalised names -------------------------------------------------------------------------


@given(names)
def test_normalising_twice_is_normalising_once(name: str) -> None:
    once = normalise_name(name)
    assert normalise_name(once) == once
    assert once == norm(name)
    assert name_digest(name) == name_digest(once)


@given(names, st.sampled_from([" ", "\t", "\n", "\u3000", "\u00a0", "\u2028"]))
def test_spelling_and_surrounding_space_do_not_change_the_monster(name: str, pad: str) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", name)
    assert name_digest(pad + nfd + pad) == name_digest(name)


# --- cache keys and ETags ---------------------------------------------------------------------

KEY = re.compile(
    rf"monster:v{ALGORITHM_VERSION}:(smooth|pixel):(png|svg|webp):[0-9]+x[0-9]+:"
    r"((cool|warm):)?[0-9a-f]{64}"
)
ETAG = re.compile(
    rf'"m{ALGORITHM_VERSION}-(smooth|pixel)-(png|svg|webp)-[0-9]+x[0-9]+(-cool|-warm)?-[0-9a-f]{{32}}"'
)

requests = st.builds(
    MonsterRequest,
    names.map(norm).filter(lambda n: len(n.encode("utf-8")) <= MAX_NAME_BYTES),
    st.integers(MIN_SIZE, MAX_SIZE),
    st.integers(MIN_SIZE, MAX_SIZE),
    st.sampled_from(list(Format)),
    st.sampled_from(list(Style)),
    st.sampled_from(list(Theme)),
)


@given(requests)
def test_keys_and_etags_never_carry_the_name(req: MonsterRequest) -> None:
    key, tag = req.key, req.etag
    assert KEY.fullmatch(key), key
    assert ETAG.fullmatch(tag), tag
    assert tag.isascii() and all(32 < ord(c) < 127 for c in tag)  # a valid header value
    if len(req.name) >= 3 and not set(req.name) <= set("0123456789abcdefghijklmnopqrstuvwxyz:-"):
        assert req.name not in key and req.name not in tag


def _picture(r: MonsterRequest) -> tuple[object, ...]:
    return (r.name, r.width, r.height, r.fmt, r.style, r.theme)


@given(requests, requests)
def test_keys_and_etags_tell_pictures_apart(a: MonsterRequest, b: MonsterRequest) -> None:
    same = _picture(a) == _picture(b)
    assert (a.key == b.key) is same
    assert (a.etag == b.etag) is same


@given(requests, st.data())
def test_distinct_names_distinct_keys(a: MonsterRequest, data: st.DataObject) -> None:
    """Same parameters, another name (often a near miss: one character more or less)."""
    other = data.draw(
        st.one_of(
            names.map(norm),
            st.just(a.name + "x"),
            st.just(a.name[:-1]),
            st.just(a.name.upper()),
            st.just(a.name + "\u0301"),
        )
    )
    other = norm(other)
    assume(other != a.name and len(other.encode("utf-8")) <= MAX_NAME_BYTES)
    b = MonsterRequest(other, a.width, a.height, a.fmt, a.style, a.theme)
    assert a.key != b.key
    assert a.etag != b.etag
