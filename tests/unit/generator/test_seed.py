"""The seed stream: SHAKE-256 of domain + NUL + the normalised name, read 4 bytes a draw."""

from __future__ import annotations

import hashlib

from monsterstack.generator.seed import Seed, name_key


def _draws_from_the_hash(domain: str, name: str, n: int) -> list[int]:
    stream = hashlib.shake_256(domain.encode() + b"\x00" + name.encode()).digest(4 * n)
    return [int.from_bytes(stream[4 * i : 4 * i + 4], "big") % 1000 for i in range(n)]


def test_a_stream_grown_past_its_first_chunk_keeps_every_choice() -> None:
    n = 3 * Seed._CHUNK // 4  # three chunks' worth of draws: the stream grows twice
    seed = Seed("test/domain", "Émile")
    assert [seed.below(1000) for _ in range(n)] == _draws_from_the_hash("test/domain", "Émile", n)


def test_a_name_key_made_once_gives_the_streams_a_name_gives() -> None:
    key = name_key(" E\u0301mile ")  # combining accent, surrounding spaces: normalised
    for domain in ("monsterstack/v1/smooth/body", "monsterstack/v1/pixel"):
        a, b = Seed.of(domain, key), Seed(domain, "Émile")
        assert [a.below(360) for _ in range(20)] == [b.below(360) for _ in range(20)]
