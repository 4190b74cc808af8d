"""The integrity invariant: every 200 carries exactly the generator's bytes for its request.

Checked after a run (not during: the CPU goes to the servers while they are measured). For
each distinct (name, size, format) seen, the picture is drawn again here with
`monsterstack.generator.render(name, size=size, fmt=fmt)` — the defaults are those of the
services (style `smooth`, theme `classic`) — and its SHA-256 compared with the digest of every
200 body recorded for that key. A cache key collision, a partial write, or answers mixed up
between concurrent requests all show as mismatches; all 200s for one key must also be
identical to each other. Content-Type must name the format asked for.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from monsterstack.generator import render

from .load import MEDIA_TYPES, Key, Sample


def expected_digest(key: Key) -> str:
    return hashlib.sha256(render(key.name, size=key.size, fmt=key.fmt)).hexdigest()


def _digests(keys: list[Key]) -> list[str]:
    return [expected_digest(k) for k in keys]


def expected_digests(keys: list[Key]) -> dict[Key, str]:
    """The generator's digest of each key, drawn in parallel when there are many."""
    if len(keys) < 500:
        return dict(zip(keys, _digests(keys), strict=True))
    workers = os.cpu_count() or 1
    chunks = [keys[i : i + 250] for i in range(0, len(keys), 250)]
    with ProcessPoolExecutor(workers) as pool:
        out: dict[Key, str] = {}
        for chunk, digests in zip(chunks, pool.map(_digests, chunks), strict=True):
            out.update(zip(chunk, digests, strict=True))
        return out


@dataclass
class Integrity:
    keys: int = 0  # distinct (name, size, format) answered 200
    bodies: int = 0  # 200 responses checked
    mismatches: int = 0  # 200 bodies that are not the generator's bytes
    inconsistent_keys: int = 0  # keys whose 200 bodies differ from each other
    wrong_content_type: int = 0
    examples: list[str] = field(default_factory=list)  # a few, to say what went wrong

    @property
    def ok(self) -> bool:
        return not (self.mismatches or self.inconsistent_keys or self.wrong_content_type)

    def as_dict(self) -> dict[str, object]:
        return {
            "keys": self.keys,
            "bodies": self.bodies,
            "mismatches": self.mismatches,
            "inconsistent_keys": self.inconsistent_keys,
            "wrong_content_type": self.wrong_content_type,
            "examples": self.examples[:5],
        }


def check(samples: Iterable[Sample]) -> Integrity:
    seen: dict[Key, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.status == 200:
            seen[s.key].append(s)
    result = Integrity(keys=len(seen), bodies=sum(len(v) for v in seen.values()))
    expected = expected_digests(list(seen))
    for key, answers in seen.items():
        digests = {s.digest for s in answers}
        if len(digests) > 1:
            result.inconsistent_keys += 1
            result.examples.append(f"{key}: {len(digests)} different bodies")
        wrong = [s for s in answers if s.digest != expected[key]]
        if wrong:
            result.mismatches += len(wrong)
            result.examples.append(
                f"{key}: {len(wrong)}/{len(answers)} bodies are not the generator's "
                f"(got {wrong[0].digest[:12]}, expected {expected[key][:12]})"
            )
        bad_type = [s for s in answers if s.content_type != MEDIA_TYPES[key.fmt]]
        if bad_type:
            result.wrong_content_type += len(bad_type)
            result.examples.append(f"{key}: content-type {bad_type[0].content_type!r}")
    return result
