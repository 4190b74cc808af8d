"""A minimal PNG writer: RGBA and 8-bit palette images, no row filters, one IDAT.

Why our own: the bytes then depend only on the deflate library we pin (zlib-ng 2.3, through
the `zlib-ng` package in uv.lock), not on the image library's encoder choices or on the
machine's system zlib, which keeps the golden digests stable across Pillow upgrades and
distributions; and unfiltered rows of flat-coloured art compress well and cost nothing to
prepare. zlib-ng does not promise the same stream on every CPU, but since 2.2 every
architecture uses the same hash function, and its matchers compare exactly; a new zlib-ng
release may change the stream, and the goldens (recorded on x86-64) catch an upgrade that does.
Whatever the stream, the pixels are the same.

The levels were chosen by measurement (benchmarks/README.md, "PNG encoder"): an RGBA avatar
spends most of its encoding time in deflate, so small ones take zlib-ng's level 1 (its
`deflate_quick`: 3x faster than the system zlib's level 1 for ~12% more bytes), bigger ones
level 2 (about the bytes of zlib's level 3 in half its time); a palette image is a quarter of
the data and compresses 4.5x smaller at level 6 than at 1 for ~9 microseconds more.
"""

from __future__ import annotations

import struct
import zlib

from zlib_ng import zlib_ng

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"

QUICK_AREA = 128 * 128  # RGBA images up to this many pixels use level 1, bigger ones level 2
PALETTE_LEVEL = 6


def rgba_level(width: int, height: int) -> int:
    return 1 if width * height <= QUICK_AREA else 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def scanlines(raw: bytes, stride: int, height: int) -> bytes:
    """Prefix each scanline with filter type 0 (None)."""
    return b"\x00" + b"\x00".join([raw[y * stride : (y + 1) * stride] for y in range(height)])


def encode_rgba(width: int, height: int, raw: bytes) -> bytes:
    """PNG of straight (non-premultiplied) RGBA pixels, 8 bits per channel."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib_ng.compress(scanlines(raw, width * 4, height), rgba_level(width, height))
    return _SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _IEND


def encode_palette(
    width: int, height: int, indices: bytes, palette: list[tuple[int, int, int, int]]
) -> bytes:
    """PNG of one byte per pixel indexing `palette` (RGBA entries, alpha via tRNS)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    plte = b"".join(bytes(rgba[:3]) for rgba in palette)
    trns = bytes(rgba[3] for rgba in palette)
    idat = zlib_ng.compress(scanlines(indices, width, height), PALETTE_LEVEL)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"PLTE", plte)
        + _chunk(b"tRNS", trns)
        + _chunk(b"IDAT", idat)
        + _IEND
    )
