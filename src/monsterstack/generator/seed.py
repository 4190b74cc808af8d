"""Every choice a monster makes comes from here: a byte stream derived from its name.

SHAKE-256 (an extendable-output cryptographic hash) turns the UTF-8 name into as many bytes
as the drawing needs. Nothing here depends on Python's hash seed, dict order, a global RNG or
floating point, so the same name draws the same monster in every process on every machine.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Names longer than this (in UTF-8 bytes, after normalisation) are refused by the services.
MAX_NAME_BYTES = 512


def normalise_name(name: str) -> str:
    """The canonical form of a name: Unicode NFC, surrounding whitespace removed.

    "Émile" typed with a combining accent and with a precomposed one is the same monster, and so
    is " bob " and "bob". Case is kept: "Bob" and "bob" are different monsters.
    """
    return unicodedata.normalize("NFC", name).strip()


def name_key(name: str) -> bytes:
    """What follows the domain in a seed's input: NUL and the normalised name in UTF-8."""
    return b"\x00" + normalise_name(name).encode("utf-8")


def name_digest(name: str, *, normalised: bool = False) -> str:
    """Hex SHA-256 of the normalised name: what caches and ETags use instead of the name.
    `normalised=True` says the caller normalised it already (a parsed request's name)."""
    text = name if normalised else normalise_name(name)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Seed:
    """A deterministic stream of choices for one (domain, name) pair.

    The domain separates independent uses of the same name (the pixel and the smooth style draw
    from different streams), so changing one style's choices never shifts the other's.
    """

    __slots__ = ("_buf", "_material", "_pos")

    # SHAKE-256's output is a stream: its first n bytes are the same whatever length is asked,
    # so starting small and asking for more if a drawing ever needs it changes no choice. 64
    # bytes (16 draws) cover every part of both styles today (the most, the spots pattern,
    # takes 12 draws); tests/unit/generator checks that growing the stream keeps its prefix.
    _CHUNK = 64

    def __init__(self, domain: str, name: str) -> None:
        self._start(domain.encode("ascii") + name_key(name))

    @classmethod
    def of(cls, domain: str, key: bytes) -> Seed:
        """The stream for a name's `name_key`, made once by a caller drawing several streams
        for one name."""
        seed = cls.__new__(cls)
        seed._start(domain.encode("ascii") + key)
        return seed

    def _start(self, material: bytes) -> None:
        self._material = material
        self._buf = hashlib.shake_256(material).digest(self._CHUNK)
        self._pos = 0

    def _take(self, n: int) -> bytes:
        if self._pos + n > len(self._buf):
            self._buf = hashlib.shake_256(self._material).digest(2 * len(self._buf) + n)
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out

    def below(self, n: int) -> int:
        """An integer in [0, n). Four bytes per draw make the modulo bias negligible (< 1e-7)."""
        if n <= 0:
            raise ValueError("n must be positive")
        return int.from_bytes(self._take(4), "big") % n

    def between(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi], both ends included."""
        return lo + self.below(hi - lo + 1)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent
