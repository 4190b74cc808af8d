"""Benchmarks for monsterstack: render speed against references, and HTTP throughput.

Run everything with `scripts/bench` (or `uv run python -m benchmarks`); see README.md.
"""
