"""A picture's identity: the parameters of one `/monster` request, with everything derived
from them computed once (the name's digest, the ETag, the cache key, the response headers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from ..generator import ALGORITHM_VERSION, DEFAULT_THEME, Format, Style, Theme, name_digest

CACHE_CONTROL = b"public, max-age=31536000, immutable"
SVG_CSP = b"default-src 'none'; style-src 'unsafe-inline'"


def etag(
    name: str,
    width: int,
    height: int,
    fmt: Format,
    style: Style,
    theme: Theme = DEFAULT_THEME,
    *,
    digest: str | None = None,
) -> str:
    """A strong ETag: the algorithm version, the normalised parameters and the name's digest
    (`digest`, when the caller has it already, else the digest of `name`).

    A theme other than the default is one of the parameters; the default adds nothing, so
    the tags of `classic` pictures are those of releases that had no themes."""
    params = f"{style.value}-{fmt.value}-{width}x{height}"
    if theme != DEFAULT_THEME:
        params += f"-{Theme(theme).value}"
    return f'"m{ALGORITHM_VERSION}-{params}-{(digest or name_digest(name))[:32]}"'


@dataclass(frozen=True, slots=True)
class MonsterRequest:
    """One picture's identity, computed once when the request is parsed: the name's digest,
    the ETag, the cache key and the response headers all come from here."""

    name: str  # normalised
    width: int
    height: int
    fmt: Format
    style: Style
    theme: Theme = DEFAULT_THEME
    digest: str = field(init=False)  # hex SHA-256 of the name: what keys and logs use
    etag: str = field(init=False)
    key: str = field(init=False)  # the cache key: the parameters and the digest, never the name
    content_type: bytes = field(init=False, repr=False, compare=False)
    _headers: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digest = name_digest(self.name, normalised=True)
        tag = etag(
            self.name, self.width, self.height, self.fmt, self.style, self.theme, digest=digest
        )
        # A theme other than the default is a parameter too (the default adds nothing, so a
        # release without themes and one with them share the `classic` pictures in Redis).
        theme = "" if self.theme == DEFAULT_THEME else f"{self.theme.value}:"
        key = (
            f"monster:v{ALGORITHM_VERSION}:{self.style.value}:{self.fmt.value}:"
            f"{self.width}x{self.height}:{theme}{digest}"
        )
        headers: tuple[tuple[bytes, bytes], ...] = (
            (b"etag", tag.encode()),
            (b"cache-control", CACHE_CONTROL),
            (b"access-control-allow-origin", b"*"),
            (b"x-content-type-options", b"nosniff"),
        )
        if self.fmt is Format.SVG:  # an SVG opened on its own must not be able to run anything
            headers += ((b"content-security-policy", SVG_CSP),)
        computed = {
            "digest": digest,
            "etag": tag,
            "key": key,
            "content_type": self.fmt.media_type.encode(),
            "_headers": headers,
        }
        for name, value in computed.items():
            object.__setattr__(self, name, value)

    @property
    def path(self) -> str:
        """The path that names exactly this picture on either service: the name as one
        percent-encoded segment, then the format as a suffix. The suffix keeps a name ending
        in `.svg` whole, and the segment from being `.` or `..` (which clients resolve away:
        `/monster/..` is `/` to httpx)."""
        return f"/monster/{quote(self.name, safe='')}.{self.fmt.value}"

    @property
    def query(self) -> dict[str, str]:
        """Fully explicit parameters, to ask another service for exactly this picture."""
        return {
            "width": str(self.width),
            "height": str(self.height),
            "format": self.fmt.value,
            "style": self.style.value,
            "theme": self.theme.value,
        }

    def headers(self, etag: str | None = None) -> Sequence[tuple[bytes, bytes]]:
        """The caching headers of this picture's 200 and 304; `etag` replaces its own tag (a
        picture another version of the backend drew says so)."""
        if etag is None or etag == self.etag:
            return self._headers
        return ((b"etag", etag.encode()), *self._headers[1:])
