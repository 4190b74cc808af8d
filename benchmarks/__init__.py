"""Benchmarks for monsterstack: render speed against references, HTTP throughput, and the
frontend's cache beside nginx and its memory.

Run everything with `scripts/bench` (or `uv run python -m benchmarks`); see README.md.
"""
