"""`/monster/{name}` requests: parsing, validation and the caching headers, for both services.

Both the imagebackend and the frontend answer this route with the same parameters and bounds.
It is parsed here from the raw ASGI scope (the hot path of both services does not go through
a web framework's machinery), and the same rules are declared in each service's OpenAPI.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, quote, unquote_to_bytes

from starlette.types import Scope, Send

from ..generator import (
    DEFAULT_SIZE,
    DEFAULT_THEME,
    MAX_NAME_BYTES,
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Style,
    Theme,
    normalise_name,
)
from .asgi import send_json, send_response
from .identity import MonsterRequest as MonsterRequest
from .identity import etag as etag

PREFIX = b"/monster/"
ROUTE = "/monster/{name}"

# What each parameter accepts, said the way a user can act on it.
FIX = {
    "size": f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels), e.g. size=80",
    "width": f"width must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels)",
    "height": f"height must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels)",
    "format": "format must be one of: " + ", ".join(f.value for f in Format),
    "style": "style must be one of: " + ", ".join(s.value for s in Style),
    "theme": "theme must be one of: " + ", ".join(t.value for t in Theme),
    "name": f"name must be valid UTF-8 and at most {MAX_NAME_BYTES} bytes once encoded",
    "query": "the query string must be valid UTF-8 (percent-encode other bytes)",
}

_DIGITS = re.compile(r"[0-9]{1,7}")  # ASCII digits only: no signs, spaces, '_' or '١٢'
_SUFFIXES = {f".{f.value}": f for f in Format}


class BadParameter(Exception):
    """A parameter the client must fix; `status` is 400 for undecodable bytes, else 422."""

    def __init__(self, field: str, got: object, status: int = 422) -> None:
        super().__init__(field)
        self.field, self.got, self.status = field, got, status

    def body(self) -> dict[str, object]:
        got = self.got if isinstance(self.got, str | int) else repr(self.got)
        if isinstance(got, str) and len(got) > 64:
            got = got[:64] + "…"
        return {
            "error": "invalid_parameter",
            "message": FIX[self.field],
            "field": self.field,
            "got": got,
        }


def split_format(raw_name: str, fmt: Format | None) -> tuple[str, Format | None]:
    """`name.svg` -> ("name", svg). A suffix and a different `format=` disagree: refused."""
    dot = raw_name.rfind(".")
    by_suffix = _SUFFIXES.get(raw_name[dot:].lower()) if dot >= 0 else None
    if by_suffix is None:
        return raw_name, fmt
    if fmt is not None and fmt is not by_suffix:
        raise BadParameter("format", f"{fmt.value} (suffix says {by_suffix.value})")
    return raw_name[:dot], by_suffix


_HEX = b"0123456789abcdefABCDEF"


def strip_prefix(raw_path: bytes, prefix: bytes = PREFIX) -> bytes | None:
    """The raw bytes after `prefix`, matched as the router matches it: percent-decoded.

    `/monster%2Fbob` and `/%6Donster/bob` are `/monster/bob` to the router, so their name is
    `bob` (cutting `len(prefix)` raw bytes would give `2Fbob` and `r/bob`). None when the
    path does not start with the prefix at all."""
    i = 0
    for expected in prefix:
        if (
            raw_path[i : i + 1] == b"%"
            and len(raw_path) >= i + 3
            and (raw_path[i + 1] in _HEX and raw_path[i + 2] in _HEX)
        ):
            byte, i = int(raw_path[i + 1 : i + 3], 16), i + 3
        elif i < len(raw_path):
            byte, i = raw_path[i], i + 1
        else:
            return None
        if byte != expected:
            return None
    return raw_path[i:]


def decode_path_name(raw_path: bytes, prefix: bytes = PREFIX) -> str:
    """The name as the client sent it, refusing bytes that are not UTF-8 (never guessing)."""
    rest = strip_prefix(raw_path.split(b"?", 1)[0], prefix)
    if rest is None:  # not under the prefix: nothing here names a monster
        raise BadParameter("name", raw_path[:64].decode("latin-1"), 400)
    raw = unquote_to_bytes(rest)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParameter("name", raw[:64].decode("utf-8", "backslashreplace"), 400) from None


def _size(params: dict[str, str], key: str) -> int | None:
    raw = params.get(key)
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or not MIN_SIZE <= int(raw) <= MAX_SIZE:
        raise BadParameter(key, raw)
    return int(raw)


def _enum(
    params: dict[str, str], key: str, kind: type[Format] | type[Style] | type[Theme]
) -> object:
    raw = params.get(key)
    if raw is None:
        return None
    try:
        return kind(raw.lower())
    except ValueError:
        raise BadParameter(key, raw) from None


MEMO_MAX_BYTES = 256  # longer requests are parsed every time
MEMO_ENTRIES = 256  # the hot set (with 1,024 the no-Redis worker ended 2 MiB bigger in the
# memory benchmark: 80.6 MiB after 10,000 names, over its 80 MiB target)


def parse(
    raw_path: bytes,
    query_string: bytes,
    default_style: Style,
    default_theme: Theme = DEFAULT_THEME,
    *,
    prefix: bytes = PREFIX,
) -> MonsterRequest:
    """A validated request from the raw path and query string; BadParameter names the fix.

    `raw_path` is the path as received (percent-encoded), under `prefix`: the name is what
    follows it, decoded once, so `%2F` is a `/` in the name and `%252F` the text `%2F`.

    Parsing is pure, so the identities of short requests are remembered (a hot picture is
    asked for again and again: its request is parsed and its name hashed once)."""
    if len(raw_path) + len(query_string) <= MEMO_MAX_BYTES:
        return _parse_memo(raw_path, query_string, default_style, default_theme, prefix)
    return _parse(raw_path, query_string, default_style, default_theme, prefix)


def _parse(
    raw_path: bytes,
    query_string: bytes,
    default_style: Style,
    default_theme: Theme,
    prefix: bytes,
) -> MonsterRequest:
    try:
        pairs = parse_qsl(
            query_string.decode("utf-8", "strict"), keep_blank_values=True, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise BadParameter("query", query_string[:64].decode("latin-1"), 400) from None
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)  # the first of repeated parameters wins
    size = _size(params, "size") or DEFAULT_SIZE
    width, height = _size(params, "width") or size, _size(params, "height") or size
    fmt = _enum(params, "format", Format)
    style = _enum(params, "style", Style)
    theme = _enum(params, "theme", Theme)
    name, fmt = split_format(decode_path_name(raw_path, prefix), fmt)  # type: ignore[arg-type]
    name = normalise_name(name)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise BadParameter("name", f"{len(name.encode('utf-8'))} bytes")
    return MonsterRequest(
        name,
        width,
        height,
        fmt or Format.PNG,
        style or default_style,  # type: ignore[arg-type]
        theme or default_theme,  # type: ignore[arg-type]
    )


_parse_memo = functools.lru_cache(maxsize=MEMO_ENTRIES)(_parse)


def if_none_match(header: bytes | None, tag: str) -> bool:
    if not header:
        return False
    text = header.decode("latin-1").strip()
    if text == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in text.split(","))


async def answer_early(
    scope: Scope, send: Send, default_style: Style, default_theme: Theme = DEFAULT_THEME
) -> MonsterRequest | None:
    """The request to serve, or None when it was already answered: a 4xx naming the bad
    parameter, or a 304 because the client's copy is current."""
    try:
        req = parse(
            # Without raw_path (optional in ASGI), the decoded path re-encoded: decoding it
            # again as it stands would turn a name's `%41` into `A`.
            scope.get("raw_path")
            or quote(scope["path"], safe="/", errors="surrogateescape").encode(),
            scope["query_string"],
            default_style,
            default_theme,
        )
    except BadParameter as bad:
        await send_json(send, bad.status, bad.body(), scope["method"] == "HEAD")
        return None
    client_tag = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    if if_none_match(client_tag, req.etag):
        await send_response(send, 304, req.headers())
        return None
    return req
