"""Hostile input against the real served processes (granian on 127.0.0.1): fewer hypothesis
examples than in process, and raw bytes on a socket for what an HTTP client would tidy up
first (dot segments, raw UTF-8, bad percent escapes, control bytes, 100 KB URLs).

A refusal comes from the app (JSON with `error` and `message`, the version header) or, for
bytes that are not HTTP at all, from the HTTP server itself (400, 414 for a request line over
~64 KB, 431 for a head over its buffer; empty body, nothing echoed)."""

from __future__ import annotations

import socket
from urllib.parse import quote, unquote_to_bytes

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from .checks import check_error, check_monster
from .conftest import Served
from .strategies import EncodedName, encoded_names, encoded_queries, expect, runs

SERVICES = ["imagebackend", "frontend"]
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
MAX_SERVED_URL = 30_000  # under MAX_HEADER_BYTES with the request's other headers


@pytest.mark.parametrize("service", SERVICES)
@runs(60)
@given(name=encoded_names(), query=encoded_queries(), head=st.booleans())
def test_monster_answers_follow_the_rules(
    served: Served,
    service: str,
    name: EncodedName,
    query: tuple[str, list[tuple[str, str]] | None],
    head: bool,
) -> None:
    raw_query, pairs = query
    want = expect(name.text, pairs)
    url = f"{served.url(service)}/monster/{name.raw}" + (f"?{raw_query}" if raw_query else "")
    # Beyond MAX_HEADER_BYTES (32 KiB by default) granian answers 431 itself, before the app:
    # those are sent raw below (NOT_HTTP).
    assume(len(url) < MAX_SERVED_URL)
    r = httpx.request("HEAD" if head else "GET", url, timeout=10)
    check_monster(r, want)


def raw_request(port: int, target: bytes, extra: bytes = b"") -> httpx.Response:
    """One request written byte for byte on a socket (no client tidies the target first)."""
    request = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request + extra + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in lines]
    shown = quote(target[:2000], safe="/?=&%")  # for messages only
    return httpx.Response(
        int(status_line.split()[1]),
        headers=headers,
        content=body,
        request=httpx.Request("GET", f"http://127.0.0.1:{port}{shown}"),
    )


def from_the_app(r: httpx.Response) -> bool:
    return "x-monsterstack-version" in r.headers


# (raw target, the name the README says it carries or None for "refused")
LITERAL = [
    (b"/monster/..", ".."),
    (b"/monster/.", "."),
    (b"/monster/a/../b", "a/../b"),
    (b"/monster/./x/.", "./x/."),
    (b"/monster/../../etc/passwd", "../../etc/passwd"),
    (b"/monster/a//b/", "a//b/"),
    (b"/monster/\xc3\xa9t\xc3\xa9", "été"),  # raw UTF-8 in the request line
    (b"/monster/%zz", "%zz"),  # not a percent escape: kept as text
    (b"/monster/100%", "100%"),
    (b"/monster/a%2", "a%2"),
    (b"/monster/%2525", "%25"),  # decoded once, never twice
    (b"/monster/a%00b", "a\x00b"),
    (b"/monster/%E2%80%AEevil", "\u202eevil"),  # right-to-left override
    (b"/monster%2Fbob", "bob"),  # the router's /monster/bob
    (b"/%6Donster/bob", "bob"),
    (b"/monster/bob?size=80&size=2000", "bob"),  # the first of repeated parameters
    (b"/monster/" + b"%C3%A9" * 256, "é" * 256),  # 512 bytes: the limit
]
REFUSED = [
    b"/monster/a%FFb",  # not UTF-8
    b"/monster/%C0%AF",  # overlong '/'
    b"/monster/%ED%A0%80",  # a surrogate
    b"/monster/x?size=%FF",
    b"/monster/x?size=80%00",
    b"/monster/x?size=1025",
    b"/monster/x?format=gif",
    b"/monster/x.svg?format=png",
    b"/monster/" + b"x" * 10_240,  # 10 KB
    b"/monster/" + b"%C3%A9" * 4_000,  # 24 KB of URL, 8 KB of name
    b"/MONSTER/x",
    b"//monster/x",
]
NOT_HTTP = [
    b"/monster/\xff",  # a byte that is not URL text at all
    b"/monster/a b",
    b"/monster/\x01",
    b"/monster/" + b"%C3%A9" * 17_000,  # 100 KB of URL: beyond MAX_HEADER_BYTES (32 KiB): 431
    b"/monster/" + b"a" * 70_000,  # beyond the server's request-line bound: 414
    b"/monster/" + b"a" * 200_000,  # beyond its buffer for the whole head: 431
]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("target", "text"), LITERAL, ids=[repr(t[:24]) for t, _ in LITERAL])
def test_raw_targets_name_their_literal_monster(
    served: Served, service: str, target: bytes, text: str
) -> None:
    query = target.partition(b"?")[2]
    pairs = [tuple(p.split("=", 1)) for p in query.decode().split("&")] if query else []
    want = expect(text, pairs)  # type: ignore[arg-type]
    r = raw_request(getattr(served, service).port, target)
    assert from_the_app(r), r
    check_monster(r, want)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("target", REFUSED, ids=[repr(t[:24]) for t in REFUSED])
def test_raw_targets_are_refused_with_json(served: Served, service: str, target: bytes) -> None:
    r = raw_request(getattr(served, service).port, target)
    assert from_the_app(r), r
    body = check_error(r)
    assert r.status_code in (400, 404, 422), (r.status_code, body)
    if target.startswith(b"/monster/"):
        path, _, query = target.partition(b"?")
        try:
            text: str | None = unquote_to_bytes(path[len(b"/monster/") :]).decode()
        except UnicodeDecodeError:
            text = None
        pairs = [tuple(p.split("=", 1)) for p in query.decode().split("&")] if query else []
        try:
            want = expect(text, [(k, unquote_to_bytes(v).decode()) for k, v in pairs])
        except UnicodeDecodeError:
            want = expect(text, None)
        assert body is not None and body["field"] in want.problems, (body, want.problems)
        assert r.status_code == want.problems[body["field"]]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("target", NOT_HTTP, ids=[repr(t[:24]) for t in NOT_HTTP])
def test_what_is_not_http_is_refused_by_the_server(
    served: Served, service: str, target: bytes
) -> None:
    r = raw_request(getattr(served, service).port, target)
    assert r.status_code in (400, 414, 431), r
    if not from_the_app(r):  # the HTTP server's own refusal: nothing echoed back
        assert r.content == b""
    else:
        check_error(r)


@pytest.mark.parametrize("service", SERVICES)
def test_big_and_odd_headers_do_not_break_a_request(served: Served, service: str) -> None:
    port = getattr(served, service).port
    etag = raw_request(port, b"/monster/bob").headers["etag"]
    odd = [
        b"If-None-Match: " + b"W/" + etag.encode() + b", " + b'"x", ' * 1500 + b"\r\n",
        b"If-None-Match: *\r\n",
        b"If-None-Match: \xff\xfe\r\n",
        b"Accept: " + b"image/*;q=0.9, " * 500 + b"\r\n",
        b"X-Forwarded-For: 1.2.3.4, " + b"::1, " * 500 + b"\r\n",
    ]
    for extra in odd:
        r = raw_request(port, b"/monster/bob", extra)
        assert r.status_code in (200, 304), (extra[:40], r.status_code, r.content[:200])
        if r.status_code == 200:
            check_monster(r, expect("bob", []))
